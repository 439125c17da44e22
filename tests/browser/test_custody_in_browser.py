"""The armorer's flows in a real browser: issue with the second person confirming on the same
screen, a refusal by policy with its reasons, a return; and the issue flow on a phone."""

from __future__ import annotations

import pytest

from muster.armory.models import Item, QuotaUsage
from muster.journal.models import JournalEntry

PASSWORD = "correct horse battery staple"
PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.django_db(transaction=True)


def check_issue(page, live_server, national_id, serial):
    """Open the issue page, name the volunteer and the rifle, and ask for the decision."""
    page.goto(f"{live_server.url}/issue/")
    page.get_by_label("Volunteer (national id)").fill(national_id)
    page.get_by_label("Serial numbers").fill(serial)
    page.get_by_role("button", name="Check", exact=True).click()
    page.get_by_role("heading", name="Check before issuing").wait_for()


def confirm_and_issue(page):
    """The commander types their own username and password; the armorer issues."""
    page.get_by_label("Second person: username").fill("commander")
    page.get_by_label("Second person: own password").fill(PASSWORD)
    page.get_by_role("button", name="Issue", exact=True).click()


def items_state():
    return list(Item.objects.order_by("serial").values_list("serial", "place", "holder", "site"))


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_an_armorer_issues_a_rifle_with_the_commander_confirming(
    page, live_server, sign_in, rifleman, shot
):
    sign_in("armorer")
    check_issue(page, live_server, "VD50000001", "R0001")
    decision = page.locator(".decision").filter(has_text="firearm/rifle")
    assert "eligible" in decision.inner_text() and "ok" in decision.get_attribute("class")
    assert page.locator(".check").get_by_text("R0001").is_visible()
    shot("issue")
    confirm_and_issue(page)

    page.get_by_role("heading", name="Issued").wait_for()
    assert page.get_by_text("Issued to Shevchenko Taras (VD50000001)").is_visible()
    receipt = page.get_by_role("link", name="Print the hand receipt (PDF)")
    assert receipt.get_attribute("href") == f"/people/{rifleman.pk}/hand-receipt.pdf"
    shot("issue-done")

    rifle = Item.objects.get(serial="R0001")
    assert (rifle.place, rifle.holder_id, rifle.site_id) == ("person", rifleman.pk, None)


def test_a_refused_issue_shows_the_policy_rules_and_changes_nothing(
    page, live_server, sign_in, recruit, shot
):
    sign_in("armorer")
    before = items_state(), list(QuotaUsage.objects.values_list("region", "issued"))
    last_seq = JournalEntry.objects.order_by("-seq").values_list("seq", flat=True).first()

    check_issue(page, live_server, "VD50000002", "R0001")
    decision = page.locator(".decision").filter(has_text="firearm/rifle")
    assert "not eligible" in decision.inner_text() and "bad" in decision.get_attribute("class")
    confirm_and_issue(page)

    refusal = page.locator("[data-refused=yes]")
    refusal.wait_for()
    assert "Refused by policy national@2026.1" in refusal.inner_text()
    rules = refusal.locator("li code").all_inner_texts()
    assert rules and all(rule.startswith("categories.firearm.") for rule in rules)
    assert any("firearms_training" in text for text in refusal.locator("li").all_inner_texts())
    shot("issue-refused")

    assert (items_state(), list(QuotaUsage.objects.values_list("region", "issued"))) == before
    new = set(JournalEntry.objects.filter(seq__gt=last_seq).values_list("kind", flat=True))
    assert new == {"custody.issue_refused"}


def test_an_armorer_takes_a_rifle_back_with_the_commander_confirming(
    page, live_server, sign_in, issued, shot
):
    sign_in("armorer")
    page.goto(f"{live_server.url}/return/")
    page.get_by_label("Volunteer (national id)").fill("VD50000001")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("heading", name="What Shevchenko Taras (VD50000001) holds").wait_for()
    page.get_by_label("VPR-223 R0001").check()
    page.get_by_label("Second person: username").fill("commander")
    page.get_by_label("Second person: own password").fill(PASSWORD)
    shot("return")
    page.get_by_role("button", name="Return", exact=True).click()

    page.get_by_role("heading", name="Returned").wait_for()
    assert "VPR-223 R0001 → ARM-1" in page.locator("main").inner_text()
    shot("return-done")

    rifle = Item.objects.get(serial="R0001")
    assert (rifle.place, rifle.holder_id, rifle.site.code) == ("site", None, "ARM-1")


def test_the_issue_flow_fits_a_phone_screen(page, live_server, sign_in, rifleman, shot):
    page.set_viewport_size(PHONE)
    sign_in("armorer")
    check_issue(page, live_server, "VD50000001", "R0002")
    assert no_horizontal_scroll(page)
    shot("phone-issue-check")
    confirm_and_issue(page)

    page.get_by_role("heading", name="Issued").wait_for()
    assert no_horizontal_scroll(page)
    shot("phone-issue-done")
    assert Item.objects.get(serial="R0002").holder_id == rifleman.pk
