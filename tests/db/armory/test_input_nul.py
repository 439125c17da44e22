"""A NUL character, which PostgreSQL text cannot hold, is bad input like any other: 400 naming
the field, before anything is read or written (on SQLite too, so both behave alike)."""

from __future__ import annotations

from django.test import Client
from test_api import API, PASSWORD, client_for, rifle

from muster.journal.models import JournalEntry


def test_a_nul_in_a_query_parameter_is_400_naming_it(armory):
    response = client_for("armorer").get(f"{API}/items", {"serial": "R00\x0001"})
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid", "serial")
    assert "NUL" in body["problems"][0]["rule"]


def test_a_nul_in_a_json_body_is_400_naming_the_field_and_nothing_changes(armory, rifleman):
    armorer = client_for("armorer")
    before = JournalEntry.objects.count()
    response = armorer.post(
        f"{API}/custody/issue",
        {"person_id": rifleman.pk, "serials": ["R0001", "R\x0002"], "purpose": "patrol\x00"},
        "application/json",
    )
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["problems"]] == ["serials.1", "purpose"]
    assert rifle().place == "site"
    assert JournalEntry.objects.count() == before


def test_a_nul_in_a_web_page_query_or_form_is_400(armory):
    client = Client()
    assert client.login(username="armorer", password=PASSWORD)
    searched = client.get("/people/", {"q": "Kov\x00"})
    assert searched.status_code == 400
    assert "q: must not contain the NUL character" in searched.content.decode()
    posted = client.post("/accounts/login/", {"username": "a\x00", "password": "x"})
    assert posted.status_code == 400
