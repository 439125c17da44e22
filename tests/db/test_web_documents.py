"""Downloads from the web pages hold exactly what the user's scope and the page's filters show:
the roster and items tables as CSV and XLSX, the readiness report, an item's custody history,
a site's QR labels; outside the scope they are not found."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

import muster.policy
from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.models import Item, Site
from muster.armory.services.catalogue import (
    NewItem,
    create_site,
    define_categories,
    receive_items,
    register_model,
)
from muster.core.actors import Actor
from muster.people.services import create_unit
from muster.policy.services import load_policy

NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()


@pytest.fixture
def world(org, actor, make_person):
    """Battalions B1 (company C1) and B2 of region R1, people in each, an arms room with two
    radios in each; a commander and an armorer of B1, HQ staff."""
    b2 = create_unit(actor=actor, code="R1-B2", name="2nd", kind="battalion", parent=org["region"])
    make_person(unit=org["company"], family_name="Alpha")
    make_person(unit=org["company"], family_name="Bravo", status="suspended")
    make_person(unit=b2, family_name="Charlie")
    load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")
    define_categories(actor=actor, categories=[("radio", "Radios", "serialized")])
    register_model(actor=actor, code="RAD", name="Radio", category="radio")
    for username, role, unit in (
        ("hq", "hq_staff", None),
        ("cmd_b1", "commander", org["battalion"]),
        ("arm_b1", "armorer", org["battalion"]),
        ("arm_b2", "armorer", b2),
    ):
        User.objects.create_user(username=username, password="x" * 12)
        grant_role(actor=actor, username=username, role=role, unit=unit)
    for code, unit, receiver in (("ARM-B1", org["battalion"], "arm_b1"), ("ARM-B2", b2, "arm_b2")):
        site = create_site(
            actor=actor, code=code, name=code, unit=unit, security_level="vault_alarmed",
            certified_on=dt.date(2026, 1, 1),
        )  # fmt: skip
        receive_items(
            actor=Actor.for_user(User.objects.get(username=receiver)), site=site,
            reference=f"S-{code}", items=[NewItem("RAD", f"{code}-{n}") for n in (1, 2)],
        )  # fmt: skip
    return {"b2": b2}


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def csv_rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode()


def test_the_roster_csv_holds_exactly_the_commanders_people(world):
    response = client_of("cmd_b1").get(reverse("web:roster-download", args=["csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert sorted(r["Family name"] for r in csv_rows(response)) == ["Alpha", "Bravo"]
    everyone = csv_rows(client_of("hq").get(reverse("web:roster-download", args=["csv"])))
    assert sorted(r["Family name"] for r in everyone) == ["Alpha", "Bravo", "Charlie"]


def test_the_roster_download_keeps_the_pages_filters(world):
    url = reverse("web:roster-download", args=["xlsx"]) + "?status=suspended"
    rows = xlsx_rows(client_of("hq").get(url))
    assert [row[1] for row in rows] == ["Bravo"]
    page = client_of("hq").get(reverse("web:people") + "?status=suspended").content.decode()
    assert reverse("web:roster-download", args=["xlsx"]) + "?status=suspended" in page


def test_the_items_tables_hold_exactly_the_armorers_items(world):
    armorer = client_of("arm_b1")
    rows = csv_rows(armorer.get(reverse("web:items-download", args=["csv"])))
    assert sorted(r["Serial"] for r in rows) == ["ARM-B1-1", "ARM-B1-2"]
    xlsx = armorer.get(reverse("web:items-download", args=["xlsx"]) + "?q=ARM-B1-2")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert [row[3] for row in xlsx_rows(xlsx)] == ["ARM-B1-2"]
    everything = csv_rows(client_of("hq").get(reverse("web:items-download", args=["csv"])))
    assert len(everything) == 4


def test_a_download_in_an_unknown_format_is_not_found(world):
    assert client_of("hq").get(reverse("web:items-download", args=["pdf"])).status_code == 404


def test_the_readiness_report_is_the_scopes(world):
    dashboard = client_of("cmd_b1").get(reverse("home")).content.decode()
    assert reverse("web:readiness-pdf") in dashboard
    text = pdf_text(client_of("cmd_b1").get(reverse("web:readiness-pdf")).content)
    assert "R1-B1" in text and "R1-B2" not in text
    assert "R1-B2" in pdf_text(client_of("hq").get(reverse("web:readiness-pdf")).content)


def test_an_items_custody_history_pdf_is_for_those_who_see_the_item(world):
    item = Item.objects.get(serial="ARM-B1-1")
    url = reverse("web:item-history-pdf", args=[item.pk])
    assert url in client_of("arm_b1").get(reverse("web:item", args=[item.pk])).content.decode()
    text = pdf_text(client_of("arm_b1").get(url).content)
    assert "ARM-B1-1" in text and "S-ARM-B1" in text
    assert client_of("arm_b2").get(url).status_code == 404


def test_the_label_sheet_of_a_site_holds_its_items_and_is_scoped(world):
    site = Site.objects.get(code="ARM-B1")
    url = reverse("web:site-labels", args=[site.pk])
    listing = client_of("arm_b1").get(reverse("web:items") + f"?site={site.pk}")
    assert url in listing.content.decode()
    text = pdf_text(client_of("arm_b1").get(url).content)
    assert "ARM-B1-1" in text and "ARM-B1-2" in text and "ARM-B2-1" not in text
    assert client_of("arm_b2").get(url).status_code == 404
