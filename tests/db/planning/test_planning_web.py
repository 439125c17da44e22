"""The planning pages in the browser: a draft uploaded and simulated (the report on the page,
its PDF and XLSX downloads, nothing written), a plan made, read, approved and withdrawn, and
the tasks listed with their state. Who gets which page (every role, both regions) is
tests/db/test_page_access.py's."""

from __future__ import annotations

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from planning_world import draft_yaml, scope_for, table_sizes

from muster.accounts.models import User
from muster.core.actors import Actor
from muster.journal.selectors import journal_size
from muster.people.models import Unit
from muster.planning.models import AllocationPlan, IssueTask
from muster.planning.services import make_plan


def client_of(username: str | None) -> Client:
    client = Client()
    if username is not None:
        client.force_login(User.objects.get(username=username))
    return client


def older(data):
    data["categories"]["firearm"]["min_age"] = 30


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("draft.yaml", text.encode(), content_type="application/yaml")


def test_a_plan_of_the_other_region_is_not_found_but_for_hq_and_auditors(accounts, battalions):
    plan = make_plan(
        actor=Actor.for_user(accounts["hq"]), scope=scope_for(accounts["hq"]),
        region=Unit.objects.get(code="R1"),
    )  # fmt: skip
    url = reverse("web:planning-plan", args=[plan.pk])
    assert client_of("admin2").get(url).status_code == 404
    assert client_of("auditor").get(url).status_code == 200


def test_the_simulation_page_shows_the_report_and_writes_nothing(accounts, young_rifleman):
    client = client_of("commander")
    before, size = table_sizes(), journal_size()
    page = client.post(reverse("web:planning-simulate"), {"file": upload(draft_yaml(older))})
    assert table_sizes() == before and journal_size() == size
    html = page.content.decode()
    assert page.status_code == 200
    assert "national@2099.1-draft against national@2026.1" in html
    assert "Moroz Ostap" in html and "becomes ineligible" in html
    assert "VPR-223 R0001" in html and "categories.firearm.min_age" in html
    for label in ('for="id_file"', 'for="id_at"', 'for="id_region"', 'for="id_fmt"'):
        assert label in html, label


def test_the_report_downloads_as_pdf_and_xlsx(accounts, young_rifleman):
    client = client_of("hq")
    text = draft_yaml(older)
    data = {"draft": text, "source": "draft.yaml", "at": "", "region": ""}
    pdf = client.post(reverse("web:planning-simulate-export"), {**data, "fmt": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"].startswith(
        'attachment; filename="simulation-national-2099.1-draft-'
    )
    xlsx = client.post(reverse("web:planning-simulate-export"), {**data, "fmt": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    rows = list(book["Eligibility"].iter_rows(values_only=True))
    assert rows[1][0] == "YR0000001"


def test_an_export_without_its_draft_is_the_upload_form_again_with_the_problem(accounts):
    page = client_of("hq").post(reverse("web:planning-simulate-export"), {"fmt": "pdf"})
    html = page.content.decode()
    assert page.status_code == 400
    assert "The draft could not be simulated" in html and 'for="id_file"' in html
    assert "export, draft: This field is required." in html


def test_a_bad_draft_lists_its_problems(accounts, armory):
    page = client_of("hq").post(
        reverse("web:planning-simulate"), {"file": upload("jurisdiction: national\n")}
    )
    html = page.content.decode()
    assert "The draft could not be simulated" in html
    assert "draft.yaml, version: is required" in html


def test_a_commander_plans_approves_and_withdraws_in_the_browser(accounts, armory, battalions):
    client = client_of("commander")
    form = client.get(reverse("web:planning-plan-new")).content.decode()
    assert 'for="id_site"' in form and 'for="id_limit"' in form
    made = client.post(
        reverse("web:planning-plan-new"), {"site": "ARM-1", "category": "firearm", "limit": 2}
    )
    plan = AllocationPlan.objects.get()
    assert made.status_code == 302 and made["Location"] == reverse(
        "web:planning-plan", args=[plan.pk]
    )
    page = client.get(made["Location"]).content.decode()
    assert "B1P1" in page and "round 1: R1-B1 gets 2 of 2 seats" in page
    assert "Approve: create the issue tasks" in page
    approved = client.post(reverse("web:planning-plan-approve", args=[plan.pk]))
    assert approved.status_code == 302 and IssueTask.objects.count() == 2
    tasks = client.get(reverse("web:planning-tasks"), {"state": "open"}).content.decode()
    assert tasks.count("Open</span>") == 2
    refused = client.post(reverse("web:planning-plan-withdraw", args=[plan.pk]), {"reason": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    withdrawn = client.post(
        reverse("web:planning-plan-withdraw", args=[plan.pk]), {"reason": "replanned"}
    )
    assert withdrawn.status_code == 302
    listing = client.get(reverse("web:planning-plans")).content.decode()
    assert "Withdrawn" in listing


def test_making_a_plan_needs_a_site_or_a_region(accounts, battalions):
    page = client_of("admin1").post(reverse("web:planning-plan-new"), {"category": "firearm"})
    assert page.status_code == 200
    assert "Choose a site or a region, not both." in page.content.decode()
    assert AllocationPlan.objects.count() == 0
