"""Imports through the browser: a clerk uploads the battalion's roster, sees every problem row
by row (nothing written), or a preview of what would be written, and confirms; the rows must
lie within what the user may change."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.journal.models import JournalEntry
from muster.people.models import Person
from muster.people.services import create_unit
from muster.vetting.models import Qualification
from muster.vetting.services import TypeDefinition, define_qualification_types

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def world(org, actor, make_person):
    """R1 (battalion B1 with company C1) and R2 (battalion B1); a commander of each battalion,
    a vetting officer of R1, HQ staff and a clerk with no role."""
    r2_b1 = create_unit(
        actor=actor, code="R2-B1", name="R2 1st", kind="battalion", parent=org["other_region"]
    )
    define_qualification_types(
        actor=actor,
        definitions=[
            TypeDefinition("firearms_training", "Firearms training", ("rifle", "pistol"), 24),
            TypeDefinition("psych_assessment", "Psychological assessment", (), 12),
            TypeDefinition("driving_licence", "Driving licence", ("B", "C")),
        ],
    )
    grants = {
        "hq": ("hq_staff", None),
        "cmd_b1": ("commander", org["battalion"]),
        "cmd_r2": ("commander", r2_b1),
        "vet_r1": ("vetting_officer", org["battalion"]),
        "clerk": None,
    }
    for username, grant in grants.items():
        User.objects.create_user(username=username, password="x" * 12)
        if grant:
            grant_role(actor=actor, username=username, role=grant[0], unit=grant[1])
    people = {
        "petro": make_person(national_id="QA0000001"),
        "olena": make_person(national_id="QA0000002", given_name="Olena"),
        "south": make_person(national_id="QA0000009", unit=r2_b1),
    }
    return {"r2_b1": r2_b1, "people": people}


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def upload(client, kind, name, content, **fields):
    data = {f"{kind}-file": SimpleUploadedFile(name, content), **fields}
    return client.post(reverse("imports:check", args=[kind]), data)


def confirm(client, kind, response):
    return client.post(
        reverse("imports:confirm", args=[kind]), {"token": response.context["token"]}
    )


def problems_of(response):
    return [(p.row, p.field, p.value) for p in response.context["all_problems"]]


def roster(*rows: str) -> bytes:
    header = "national_id;family_name;given_name;unit;birth_date;joined_on;status"
    return ("\n".join([header, *rows]) + "\n").encode()


def test_a_roster_with_errors_shows_every_row_problem_and_writes_nothing(world, tmp_path):
    before = (Person.objects.count(), JournalEntry.objects.count())
    content = (FIXTURES / "broken_roster.csv").read_bytes()

    response = upload(client_of("hq"), "people", "broken_roster.csv", content)

    assert response.status_code == 200
    found = problems_of(response)
    # every bad row of the fixture (lines 3-9), each with its column, as the CLI reports them
    assert {row for row, _, _ in found} == {"3", "4", "5", "6", "7", "8", "9"}
    assert ("3", "unit", "R9-X") in found
    assert ("4", "birth_date", "2023-02-30") in found
    assert ("9", "status", "retired") in found
    page = response.content.decode()
    assert "<table" in page and "R9-X" in page and "no unit has this code" in page
    assert "Confirm import" not in page
    assert (Person.objects.count(), JournalEntry.objects.count()) == before
    kept = [p.name for p in (tmp_path / "uploads").glob("*/*")]
    assert kept == [".problems.csv"]  # the refused file itself is not kept


def test_the_problems_of_a_refused_file_download_as_csv(world):
    client = client_of("hq")
    response = upload(client, "people", "broken.csv", (FIXTURES / "broken_roster.csv").read_bytes())

    csv = client.get(reverse("imports:problems", args=[response.context["token"]]))

    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "row,field,rule,value"
    assert len(text.splitlines()) == 1 + len(response.context["all_problems"])
    assert (
        client_of("cmd_b1")
        .get(reverse("imports:problems", args=[response.context["token"]]))
        .status_code
        == 404
    )


def test_a_clean_roster_previews_then_imports_in_one_journaled_batch(world):
    client = client_of("cmd_b1")
    content = roster(
        "UA7000001;Коваль;Петро;R1-B1-C1;15.06.1985;01.03.2024;active",
        "UA7000002;Шевченко;Олена;R1-B1;1990-02-28;2024-03-01;applicant",
        "QA0000001;Koval;Petro1;R1-B1-C1;1985-06-15;2024-03-01;active",
    )
    before = (Person.objects.count(), JournalEntry.objects.count())

    preview = upload(client, "people", "roster.csv", content)

    assert preview.status_code == 200
    assert not preview.context["problems"]
    report = preview.context["report"]
    assert (report.created, report.updated, report.unchanged) == (2, 0, 1)
    assert "Confirm import" in preview.content.decode()
    assert (Person.objects.count(), JournalEntry.objects.count()) == before

    done = confirm(client, "people", preview)

    assert done.status_code == 200
    assert "The file was imported" in done.content.decode()
    koval = Person.objects.get(national_id="UA7000001")
    assert (koval.family_name, koval.given_name, koval.unit.code) == ("Коваль", "Петро", "R1-B1-C1")
    entries = JournalEntry.objects.filter(kind="person.registered").order_by("-pk")[:2]
    assert all(e.actor == "cmd_b1" for e in entries)
    assert Person.objects.count() == before[0] + 2
    # the kept file is gone: confirming twice imports nothing more
    again = confirm(client, "people", preview)
    assert again.status_code == 410 and Person.objects.count() == before[0] + 2


def test_an_xlsx_roster_imports_as_well_as_a_csv_one(world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["National ID", "Surname", "First name", "Unit", "Date of birth", "Status"])
    sheet.append(["UA7100001", "Бондар", "Іван", "R1-B1-C1", "1979-12-31", "active"])
    sheet.append(["UA7100002", "Мельник", "Андрій", "R1-B1-C1", "07.07.1991", "applicant"])
    buffer = io.BytesIO()
    book.save(buffer)
    client = client_of("hq")

    preview = upload(client, "people", "roster.xlsx", buffer.getvalue())
    assert not problems_of(preview)
    assert preview.context["report"].created == 2
    confirm(client, "people", preview)

    assert Person.objects.get(national_id="UA7100002").given_name == "Андрій"


def test_rows_outside_the_commanders_battalion_are_refused_naming_the_unit(world):
    before = (Person.objects.count(), JournalEntry.objects.count())
    content = roster(
        "UA7200001;Коваль;Петро;R1-B1-C1;15.06.1985;01.03.2024;active",
        "UA7200002;Шевченко;Олена;R2-B1;1990-02-28;2024-03-01;applicant",
        "QA0000009;Koval;South;R1-B1-C1;1985-06-15;2024-03-01;active",
    )

    response = upload(client_of("cmd_b1"), "people", "roster.csv", content)

    found = {(p.row, p.field): p for p in response.context["all_problems"]}
    assert set(found) == {("3", "unit"), ("4", "national_id")}
    assert "R2-B1" in found[("3", "unit")].rule
    assert "outside the units you may change" in found[("4", "national_id")].rule
    assert "R2-B1" in response.content.decode()
    assert (Person.objects.count(), JournalEntry.objects.count()) == before


@pytest.mark.parametrize(
    ("username", "kind"),
    [("clerk", "people"), ("vet_r1", "people"), ("cmd_b1", "qualifications"), ("cmd_b1", "items")],
)
def test_a_user_without_the_right_is_refused(world, username, kind):
    response = upload(client_of(username), kind, "x.csv", roster())
    assert response.status_code == 403


def test_the_imports_page_lists_only_what_the_user_may_import(world):
    page = client_of("cmd_b1").get(reverse("imports:index"))
    assert page.status_code == 200
    kinds = [kind.name for kind, _ in page.context["kinds"]]
    assert kinds == ["people"]
    assert "national_id" in page.content.decode()  # the expected columns are named
    assert client_of("clerk").get(reverse("imports:index")).status_code == 403
    assert Client().get(reverse("imports:index")).status_code == 302  # to sign in


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(world, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = upload(client_of("hq"), "people", "big.csv", roster(*["UA7300001;A;B;R1;;;"] * 10))
    assert response.status_code == 400
    assert "the largest accepted here is 100" in response.content.decode()


def test_qualifications_import_for_the_vetting_officers_region_only(world):
    client = client_of("vet_r1")
    header = "national_id;qualification;class;obtained_on"
    bad = f"{header}\nQA0000001;firearms_training;rifle;2026-01-15\nQA0000009;psych_assessment;;2026-01-15\n"
    refused = upload(client, "qualifications", "q.csv", bad.encode())
    assert problems_of(refused) == [("3", "national_id", "QA0000009")]
    assert Qualification.objects.count() == 0

    good = f"{header}\nQA0000001;firearms_training;rifle;2026-01-15\nQA0000002;psych_assessment;;2026-01-15\n"
    preview = upload(client, "qualifications", "q.csv", good.encode())
    assert preview.context["report"].created == 2
    confirm(client, "qualifications", preview)
    assert Qualification.objects.count() == 2
