"""Duties in a real browser: the commander's week with a shift short of people marked, the
suggested roster reviewed (one assignment unticked) and accepted, and a volunteer checking in
to their shift from a 360 px phone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.duties.models import Assignment
from muster.duties.rules import week_start
from muster.duties.selectors import iso_week
from muster.duties.services import (
    NewRequirement,
    assign_person,
    create_post,
    create_shift,
    define_duty_type,
)
from worlds import PASSWORD

PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.django_db(transaction=True)


def next_monday() -> dt.date:
    return week_start(timezone.localdate()) + dt.timedelta(days=7)


def at(day: int, hour: int) -> dt.datetime:
    moment = dt.datetime.combine(next_monday() + dt.timedelta(days=day), dt.time(hour))
    return timezone.make_aware(moment)


@pytest.fixture
def posts(armory, org, actor):
    patrol = define_duty_type(actor=actor, code="patrol", name="Street patrol")
    guard = define_duty_type(actor=actor, code="infrastructure", name="Infrastructure protection")
    return {
        "district": create_post(
            actor=actor, code="PAT-1", name="Old town", unit=org["company"], duty_type=patrol,
            address="Market square",
        ),
        "station": create_post(
            actor=actor, code="PS-1", name="Pumping station", unit=org["battalion"],
            duty_type=guard, address="1 River Road",
        ),
    }  # fmt: skip


@pytest.fixture
def volunteers(make_person):
    return [
        make_person(national_id=f"VD7000000{n}", family_name=name, given_name="Ivan")
        for n, name in enumerate(("Bondar", "Hrytsenko", "Lysenko", "Moroz"), start=1)
    ]


def test_the_week_marks_a_shift_short_of_people(
    page, live_server, sign_in, posts, volunteers, actor, shot
):
    full = create_shift(
        actor=actor, post=posts["district"], starts_at=at(0, 8), ends_at=at(0, 16), headcount=1
    )
    short = create_shift(
        actor=actor, post=posts["station"], starts_at=at(1, 20), ends_at=at(2, 8), headcount=3,
        requirements=[NewRequirement("qualification", "radio_operator", count=1)],
    )  # fmt: skip
    assert assign_person(actor=actor, shift=full, person=volunteers[0]).assigned
    assert assign_person(actor=actor, shift=short, person=volunteers[1]).assigned
    sign_in("commander")
    page.goto(f"{live_server.url}/duties/?unit=R1-B1&week={iso_week(next_monday())}")
    page.get_by_role("heading", name=f"Duties of R1-B1, week {iso_week(next_monday())}").wait_for()
    gap = page.locator(f"table.week [data-shift='{short.pk}']")
    assert gap.get_attribute("data-gap") == "yes" and "gap" in gap.get_attribute("class")
    assert "1 of 3" in gap.inner_text() and "2 short" in gap.inner_text()
    filled = page.locator(f"table.week [data-shift='{full.pk}']")
    assert filled.get_attribute("data-gap") is None and "1 of 1" in filled.inner_text()
    border = gap.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert border == "rgb(170, 17, 17)"  # --bad, beside the words "2 short"
    shot("duties-week")
    page.set_viewport_size(PHONE)  # on a phone the week reads as a list of days
    assert page.locator(".week-days").is_visible() and not page.locator("table.week").is_visible()
    assert "2 short" in page.locator(f".week-days [data-shift='{short.pk}']").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot("duties-week-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    gap.click()
    page.get_by_role("heading", name="Infrastructure protection · Pumping station").wait_for()
    assert page.get_by_text("radio_operator").first.is_visible()
    shot("duties-shift")


def test_a_commander_accepts_the_suggested_roster_less_one(
    page, live_server, sign_in, posts, volunteers, actor, shot
):
    shifts = [
        create_shift(
            actor=actor, post=posts["district"], starts_at=at(day, 8), ends_at=at(day, 16),
            headcount=2,
        )
        for day in range(3)
    ]  # fmt: skip
    sign_in("commander")
    page.goto(f"{live_server.url}/duties/?unit=R1-B1&week={iso_week(next_monday())}")
    page.get_by_role("link", name="Suggest a roster").click()
    page.get_by_role(
        "heading", name=f"Suggested roster for R1-B1, week {iso_week(next_monday())}"
    ).wait_for()
    boxes = page.locator("input[name=pair]")
    assert boxes.count() == 6
    shot("duties-suggest")
    boxes.nth(5).uncheck()
    page.get_by_role("button", name="Accept the ticked assignments").click()
    page.get_by_text("5 assignments made from the roster.").wait_for()
    assert Assignment.objects.filter(shift__in=shifts, suggested=True).count() == 5
    short = page.locator("table.week [data-gap=yes]")
    assert short.count() == 1  # the unticked place stays open, marked
    shot("duties-week-accepted")


def test_a_volunteer_checks_in_on_a_phone(page, live_server, posts, volunteers, actor, org, shot):
    me = volunteers[0]
    User.objects.create_user(username="vol", password=PASSWORD)
    User.objects.filter(username="vol").update(person=me)
    grant_role(actor=actor, username="vol", role="volunteer", unit=org["company"])
    now = timezone.now().replace(second=0, microsecond=0)
    shift = create_shift(
        actor=actor, post=posts["district"], starts_at=now + dt.timedelta(minutes=20),
        ends_at=now + dt.timedelta(hours=8), headcount=2,
    )  # fmt: skip
    assignment = assign_person(actor=actor, shift=shift, person=me).assignment
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("vol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/duties/mine/")
    page.get_by_role("heading", name="My shifts").wait_for()
    card = page.locator(f"#assignment-{assignment.pk}")
    assert "Street patrol · Old town" in card.inner_text()
    button = card.get_by_role("button", name="Check in")
    box = button.bounding_box()
    assert box["width"] >= 280 and box["height"] >= 44  # a thumb finds it
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot("duties-phone-my-shifts")
    button.click()
    page.get_by_text("Checked in.").wait_for()
    assert "Checked in" in page.locator(f"#assignment-{assignment.pk} .state").inner_text()
    assert (
        page.locator(f"#assignment-{assignment.pk}")
        .get_by_role("button", name="Check out")
        .is_visible()
    )
    assignment.refresh_from_db()
    assert assignment.state == "checked_in" and assignment.checked_in_at is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot("duties-phone-checked-in")
