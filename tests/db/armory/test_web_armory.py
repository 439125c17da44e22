"""The armorer's pages: issuing with the second person confirming on the same screen, a
refusal with its reasons, taking back, and an item's page proving its history from the log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from muster.accounts.models import User
from muster.armory.models import Item
from muster.armory.services.custody import issue_items
from muster.journal import log
from muster.journal.models import JournalEntry
from muster_verify.note import parse_verifier_key
from muster_verify.proof import verify_bundle

PASSWORD = "correct horse battery staple"  # every user's password in the armory fixture


@pytest.fixture
def armorer_client(armory):
    client = Client()
    client.force_login(User.objects.get(username="armorer"))
    return client


def rifle(serial: str = "R0001") -> Item:
    return Item.objects.get(serial=serial)


def issue_form(person, *, second="commander", password=PASSWORD, action="issue", serials="R0001"):
    return {
        "person": person.national_id,
        "serials": serials,
        "kind": "checkout",
        "hours": "8",
        "purpose": "night patrol",
        "second_username": second,
        "second_password": password,
        "action": action,
    }


def test_the_check_shows_the_eligibility_decision_before_anything_is_issued(
    armorer_client, rifleman
):
    page = armorer_client.post(reverse("web:issue"), issue_form(rifleman, action="check"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "firearm/rifle" in html and "eligible" in html
    assert rifle().place == "site"


def test_an_issue_with_the_second_persons_password_is_issued_and_links_the_hand_receipt(
    armorer_client, rifleman
):
    page = armorer_client.post(reverse("web:issue"), issue_form(rifleman))
    html = page.content.decode()
    assert page.status_code == 200
    assert rifle().place == "person" and rifle().holder == rifleman
    assert reverse("web:hand-receipt", args=[rifleman.pk]) in html
    entry = JournalEntry.objects.filter(kind="custody.issued").latest("seq")
    assert '"commander"' in entry.body or "commander" in entry.body
    pdf = armorer_client.get(reverse("web:hand-receipt", args=[rifleman.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_wrong_second_password_issues_nothing(armorer_client, rifleman):
    page = armorer_client.post(reverse("web:issue"), issue_form(rifleman, password="wrong"))
    assert "wrong password" in page.content.decode()
    assert rifle().place == "site"


def test_a_refusal_shows_its_reasons(armorer_client, armory, make_person):
    unvetted = make_person(national_id="VD50000009")
    page = armorer_client.post(reverse("web:issue"), issue_form(unvetted))
    html = page.content.decode()
    assert 'data-refused="yes"' in html
    assert "firearms_training" in html or "psych_assessment" in html
    assert rifle().place == "site"
    assert JournalEntry.objects.filter(kind="custody.issue_refused").exists()


def test_items_come_back_through_the_return_page(armorer_client, armory, rifleman):
    issue_items(
        actor=armory["armorer"], second=armory["commander"], person=rifleman,
        item_ids=[rifle().pk], kind="checkout", hours=8,
    )  # fmt: skip
    found = armorer_client.get(reverse("web:return"), {"person": rifleman.national_id})
    assert "R0001" in found.content.decode()
    page = armorer_client.post(
        reverse("web:return"),
        {
            "person": rifleman.national_id,
            f"item-{rifle().pk}": "1",
            f"condition-{rifle().pk}": "serviceable",
            "second_username": "commander",
            "second_password": PASSWORD,
            "action": "return",
        },
    )
    assert page.status_code == 200, page.content.decode()
    assert rifle().place == "site" and rifle().holder is None


def test_the_item_page_shows_its_history_verified_and_the_bundle_verifies(
    armorer_client, armory, rifleman, settings, tmp_path
):
    settings.LOG_KEY_FILE = tmp_path / "log.key"
    issue_items(
        actor=armory["armorer"], second=armory["commander"], person=rifleman,
        item_ids=[rifle().pk], kind="checkout", hours=8,
    )  # fmt: skip
    log.integrate()
    html = armorer_client.get(reverse("web:item", args=[rifle().pk])).content.decode()
    assert 'data-verified="yes"' in html
    assert "verified: 2 events in the log" in html
    assert "custody.issued" in html
    download = armorer_client.get(reverse("web:item-proof", args=[rifle().pk]))
    assert download["Content-Type"].startswith("text/plain")
    assert 'filename="VPR-223-R0001.item-proof"' in download["Content-Disposition"]
    history = verify_bundle(download.content.decode(), parse_verifier_key(log.verifier_key()))
    assert (history.model, history.serial, len(history.events)) == ("VPR-223", "R0001", 2)


def test_a_clerk_without_custody_rights_may_not_issue(armory):
    client = Client()
    client.force_login(User.objects.get(username="clerk"))
    assert client.get(reverse("web:issue")).status_code == 403
