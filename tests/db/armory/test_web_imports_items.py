"""Receiving a shipment through the browser: the armorer uploads the packing list for one of
their sites, sees every bad row or a preview, and confirms; other sites and roles are refused."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from muster.accounts.models import User
from muster.armory.models import Item, Shipment
from muster.armory.services.catalogue import create_site
from muster.journal.models import JournalEntry


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def upload(client, content, *, site, reference="SHIP-100", name="list.csv"):
    data = {
        "items-file": SimpleUploadedFile(name, content),
        "items-site": site.pk,
        "items-reference": reference,
    }
    return client.post(reverse("imports:check", args=["items"]), data)


def confirm(client, response):
    token = response.context["token"]
    return client.post(reverse("imports:confirm", args=["items"]), {"token": token})


def packing_list(*rows: str) -> bytes:
    return ("\n".join(["model;serial;registration;condition", *rows]) + "\n").encode()


def state():
    return Item.objects.count(), JournalEntry.objects.count()


def test_a_packing_list_with_errors_shows_every_bad_row_and_receives_nothing(armory):
    before = state()
    content = packing_list(
        "VPR-223;R0100;;",
        "NOPE-1;R0101;;",  # unknown model
        "VPR-223;R0001;;",  # already registered
        "VPR-223;R0100;;broken-ish",  # repeated serial, and a condition that is not one
        "AMM-556;L1;;",  # counted by lot
    )

    response = upload(client_of("armorer"), content, site=armory["vault"])

    assert response.status_code == 200
    found = {(p.row, p.field) for p in response.context["all_problems"]}
    assert found == {
        ("3", "model"),
        ("4", "serial"),
        ("5", "serial"),
        ("5", "condition"),
        ("6", "model"),
    }
    assert "Confirm import" not in response.content.decode()
    assert state() == before


def test_a_clean_packing_list_previews_then_is_received_as_one_shipment(armory):
    client = client_of("armorer")
    content = packing_list("VPR-223;R0100;;", "VPR-223;R0101;;unserviceable", "RAD-DMR;Р-001;;")
    before = state()

    preview = upload(client, content, site=armory["vault"])

    assert not preview.context["all_problems"]
    assert preview.context["report"].created == 3 and state() == before
    page = preview.content.decode()
    assert "ARM-1" in page and "SHIP-100" in page and "Confirm import" in page

    done = confirm(client, preview)

    assert done.status_code == 200
    shipment = Shipment.objects.get(reference="SHIP-100")
    assert shipment.site == armory["vault"]
    received = Item.objects.filter(serial__in=["R0100", "R0101", "Р-001"])
    assert received.count() == 3 and {i.site for i in received} == {armory["vault"]}
    assert Item.objects.get(serial="R0101").condition == "unserviceable"
    assert Item.objects.get(serial="Р-001").model.code == "RAD-DMR"  # a Cyrillic serial
    assert JournalEntry.objects.count() > before[1]


def test_a_workbook_packing_list_is_received_like_a_csv_one(armory):
    book = openpyxl.Workbook()
    book.active.append(["Model code", "Serial number"])
    for n in range(200, 205):
        book.active.append(["VPR-223", f"R{n:04d}"])
    buffer = io.BytesIO()
    book.save(buffer)
    client = client_of("armorer")

    preview = upload(client, buffer.getvalue(), site=armory["vault"], name="list.xlsx")
    confirm(client, preview)

    assert Item.objects.filter(serial__startswith="R02").count() == 5


def test_a_shipment_reference_already_received_is_refused_before_confirming(armory):
    response = upload(
        client_of("armorer"), packing_list("VPR-223;R0300;;"), site=armory["vault"],
        reference="SHIP-001",
    )  # fmt: skip
    problems = response.context["all_problems"]
    assert [(p.field, p.value) for p in problems] == [("reference", "SHIP-001")]
    assert "Confirm import" not in response.content.decode()


def test_a_site_outside_the_armorers_scope_is_refused(armory, org, actor):
    elsewhere = create_site(
        actor=actor, code="ARM-S", name="South", unit=org["other_region"],
        security_level="vault_alarmed", certified_on=dt.date(2026, 1, 15),
    )  # fmt: skip
    before = state()

    response = upload(client_of("armorer"), packing_list("VPR-223;R0400;;"), site=elsewhere)

    assert response.status_code == 400  # not a site the form offers
    assert "ARM-S" not in response.content.decode()
    assert state() == before


def test_a_commander_may_not_receive_items(armory):
    response = upload(client_of("commander"), packing_list("VPR-223;R0500;;"), site=armory["vault"])
    assert response.status_code == 403
