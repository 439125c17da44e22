"""The armorer's flows on a 360 px phone: a compact header whose menu opens and closes from
the keyboard, the focus on the answer after "Check" (not back on the first field), and a
refusal that gives each reason once."""

from __future__ import annotations

import pytest

from worlds import PASSWORD

PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.django_db(transaction=True)


def check_issue(page, live_server, national_id, serial):
    page.goto(f"{live_server.url}/issue/")
    page.get_by_label("Volunteer (national id)").fill(national_id)
    page.get_by_label("Serial numbers").fill(serial)
    page.get_by_role("button", name="Check", exact=True).click()
    page.get_by_role("heading", name="Check before issuing").wait_for()


def focused(page, selector: str) -> bool:
    """Whether the element that has the focus is the one `selector` finds."""
    return page.evaluate(f"document.activeElement === document.querySelector({selector!r})")


def test_the_header_folds_into_a_menu_the_keyboard_opens_and_closes(
    page, live_server, sign_in, armory, shot
):
    page.set_viewport_size(PHONE)
    sign_in("armorer")
    page.goto(f"{live_server.url}/issue/")
    header = page.locator("header.top")
    assert header.bounding_box()["height"] <= 60
    menu = page.get_by_role("button", name="Menu")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("link", name="Counts").is_visible()
    shot("phone-header")

    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    counts = page.get_by_role("link", name="Counts")
    assert counts.is_visible() and page.get_by_role("button", name="Sign out").is_visible()
    shot("phone-header-open")
    page.keyboard.press("Tab")
    assert focused(page, "#top-menu nav a")  # into the menu, its first link
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false" and focused(page, ".menu-toggle")
    assert not counts.is_visible()

    page.set_viewport_size({"width": 1280, "height": 800})
    assert counts.is_visible() and not menu.is_visible()


def test_after_check_the_focus_is_on_the_decision_not_the_first_field(
    page, live_server, sign_in, rifleman, shot
):
    page.set_viewport_size(PHONE)
    sign_in("armorer")
    check_issue(page, live_server, "VD50000001", "R0002")
    assert focused(page, "#answer")
    top = page.locator("#answer").bounding_box()["y"]
    assert -1 <= top < PHONE["height"] / 2  # scrolled to the decision
    shot("phone-issue-focus")


def test_a_refusal_gives_each_reason_once(page, live_server, sign_in, recruit, shot):
    page.set_viewport_size(PHONE)
    sign_in("armorer")
    check_issue(page, live_server, "VD50000002", "R0001")
    page.get_by_label("Second person: username").fill("commander")
    page.get_by_label("Second person: own password").fill(PASSWORD)
    page.get_by_role("button", name="Issue", exact=True).click()
    refusal = page.locator("[data-refused=yes]")
    refusal.wait_for()
    assert focused(page, "[data-refused=yes]")
    rules = page.locator("main code").all_inner_texts()
    failed = [rule for rule in rules if rule.startswith("categories.firearm.requires")]
    assert failed and len(failed) == len(set(failed))
    shot("phone-issue-refused")
