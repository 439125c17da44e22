"""The planning pages in the browser: a draft uploaded and simulated (the report on the page,
its PDF and XLSX downloads, nothing written), a plan made, read, approved and withdrawn, and
the tasks listed with their state; and every role × page, as the roles table says.

PAGE_EXPECTATIONS is for the global page walk (tests/db/test_page_access.py): what each of its
roles gets on a GET of each planning page that takes no record (the walk's world has no plan).
PLAN_EXPECTATIONS adds the pages of one plan, for a world that has one: a plan of the
battalion's arms room ("site") or of the region ("region"), in the user's own region; a plan
of the other region is 404 for all but HQ staff and auditors."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from planning_world import draft_yaml, scope_for, table_sizes

from muster.accounts.models import User
from muster.armory.models import Site
from muster.core.actors import Actor
from muster.journal.selectors import journal_size
from muster.people.models import Unit
from muster.planning.models import AllocationPlan, IssueTask
from muster.planning.services import make_plan

ALL = (
    "hq_staff",
    "auditor",
    "regional_admin",
    "commander",
    "vetting_officer",
    "armorer",
    "volunteer",
)
PLANNERS = ("hq_staff", "regional_admin", "commander")
SEE_PEOPLE = ALL[:-1]


def _expect(default: int, **roles: int) -> dict[str, int]:
    return {"anonymous": 302, **dict.fromkeys(ALL, default), **roles}


def _only(status: int, roles: tuple[str, ...], others: int = 403) -> dict[str, int]:
    return _expect(others, **dict.fromkeys(roles, status))


PAGE_EXPECTATIONS: dict[str, dict[str, int]] = {
    "web:planning-simulate": _only(200, SEE_PEOPLE),
    "web:planning-plans": _expect(200),
    "web:planning-plan-new": _only(200, PLANNERS),
    "web:planning-tasks": _expect(200),
}
# POST-only pages (a GET is 405): an empty POST is a form that says what is missing (400) for
# those who may simulate.
POST_EXPECTATIONS: dict[str, dict[str, int]] = {
    "web:planning-simulate-export": _only(400, SEE_PEOPLE),
}
PLAN_EXPECTATIONS: dict[tuple[str, str, str], dict[str, int]] = {
    # (page, method, plan): the page of a plan, approving it, withdrawing it (reason given)
    ("web:planning-plan", "get", "site"): _only(200, SEE_PEOPLE, others=404),
    ("web:planning-plan", "get", "region"): _only(
        200, ("hq_staff", "auditor", "regional_admin", "vetting_officer"), others=404
    ),
    ("web:planning-plan-approve", "post", "site"): _expect(
        403, hq_staff=302, regional_admin=302, commander=302, volunteer=404
    ),
    ("web:planning-plan-approve", "post", "region"): _expect(
        403, hq_staff=302, regional_admin=302, commander=404, armorer=404, volunteer=404
    ),
    ("web:planning-plan-withdraw", "post", "site"): _expect(
        403, hq_staff=302, regional_admin=302, commander=302, volunteer=404
    ),
    ("web:planning-plan-withdraw", "post", "region"): _expect(
        403, hq_staff=302, regional_admin=302, commander=404, armorer=404, volunteer=404
    ),
}
# This file's accounts (planning_world.accounts) by the roles table's names.
USERNAMES = {
    "hq_staff": "hq", "auditor": "auditor", "regional_admin": "admin1", "commander": "commander",
    "vetting_officer": "vet", "armorer": "armorer", "volunteer": "vol",
}  # fmt: skip


def client_of(username: str | None) -> Client:
    client = Client()
    if username is not None:
        client.force_login(User.objects.get(username=username))
    return client


def older(data):
    data["categories"]["firearm"]["min_age"] = 30


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("draft.yaml", text.encode(), content_type="application/yaml")


@pytest.fixture
def plans(accounts, battalions) -> dict[str, AllocationPlan]:
    admin = accounts["admin1"]
    return {
        "site": make_plan(
            actor=Actor.for_user(admin), scope=scope_for(admin), site=Site.objects.get(code="ARM-1")
        ),
        "region": make_plan(
            actor=Actor.for_user(admin), scope=scope_for(admin), region=Unit.objects.get(code="R1")
        ),
    }


def _answer(role: str, method: str, url: str, data: dict | None = None) -> tuple[int, int]:
    """(status, journal entries written), undone afterwards."""
    client = client_of(None if role == "anonymous" else USERNAMES[role])
    with transaction.atomic():
        before = journal_size()
        response = client.get(url) if method == "get" else client.post(url, data or {})
        wrote = journal_size() - before
        transaction.set_rollback(True)
    return response.status_code, wrote


@pytest.mark.parametrize("role", ["anonymous", *ALL])
def test_each_role_gets_what_the_roles_table_says(role, young_rifleman, plans):
    wrong = []
    for name, expected in PAGE_EXPECTATIONS.items():
        status, wrote = _answer(role, "get", reverse(name))
        if status != expected[role] or wrote:
            wrong.append(f"GET {name}: {status} (wrote {wrote}), expected {expected[role]}")
    for name, expected in POST_EXPECTATIONS.items():
        status, wrote = _answer(role, "post", reverse(name))
        if status != expected[role] or wrote:
            wrong.append(f"POST {name}: {status} (wrote {wrote}), expected {expected[role]}")
    for (name, method, which), expected in PLAN_EXPECTATIONS.items():
        url = reverse(name, args=[plans[which].pk])
        status, wrote = _answer(role, method, url, {"reason": "replanned"})
        if status != expected[role]:
            wrong.append(f"{method.upper()} {name} ({which}): {status}, expected {expected[role]}")
        done = status == 302 and method == "post" and role != "anonymous"
        if bool(wrote) != done:
            wrong.append(f"{method.upper()} {name} ({which}): {status} but wrote {wrote}")
    # Simulating writes nothing, whoever asks.
    status, wrote = _answer(
        role, "post", reverse("web:planning-simulate"), {"file": upload(draft_yaml(older))}
    )
    wanted = PAGE_EXPECTATIONS["web:planning-simulate"][role]
    if status != wanted or wrote:
        wrong.append(f"POST web:planning-simulate: {status} (wrote {wrote}), expected {wanted}")
    assert not wrong, "\n".join(wrong)


def test_a_plan_of_the_other_region_is_not_found_but_for_hq_and_auditors(
    accounts, battalions, org, actor
):
    from muster.accounts.services import grant_role

    User.objects.create_user(username="admin2x", password="x")
    grant_role(actor=actor, username="admin2x", role="regional_admin", unit=org["other_region"])
    plan = make_plan(
        actor=Actor.for_user(accounts["hq"]), scope=scope_for(accounts["hq"]),
        region=Unit.objects.get(code="R1"),
    )  # fmt: skip
    url = reverse("web:planning-plan", args=[plan.pk])
    assert client_of("admin2x").get(url).status_code == 404
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
