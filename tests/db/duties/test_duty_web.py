"""The duty pages, role by role: the commander's week with its gaps, the suggested roster
accepted, a shift's page with a refusal and its reasons, a volunteer's shifts with check-in,
availability, the calendar file. The world is role_world (conftest.py). What each role gets on
each page, in two regions, is tests/db/test_page_access.py's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse
from duty_helpers import at, monday
from icalendar import Calendar

from muster.duties.models import Assignment, Availability
from muster.duties.selectors import iso_week
from muster.duties.services import create_shift
from muster.journal.models import JournalEntry


def signed_in(world: Any, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def test_the_week_shows_each_shift_and_marks_the_gaps(role_world):
    w = role_world
    week = iso_week(dt.date.fromisoformat(f"{w.soon.starts_at.date()}"))
    page = signed_in(w, "commander").get(reverse("web:duties"), {"unit": "R1-B1", "week": week})
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-shift="{w.soon.pk}" data-gap="yes"' in html  # 2 of 3
    assert "1 short" in html and "2 of 3" in html
    assert "Suggest a roster" in html


def test_a_refused_assignment_shows_every_reason(role_world):
    w = role_world
    page = signed_in(w, "commander").post(
        reverse("web:duty-assign", args=[w.soon.pk]), {"person": "VD60000006"}
    )
    html = page.content.decode()
    assert page.status_code == 200 and 'data-refused="yes"' in html
    assert "duties.eligible_statuses" in html and "applicant" in html
    assert JournalEntry.objects.filter(kind="duty.assignment_refused").count() == 1


def test_a_commander_reviews_and_accepts_the_suggested_roster(role_world, actor):
    w = role_world
    shifts = [
        create_shift(
            actor=actor, post=w.duty.district, starts_at=at(day, 8), ends_at=at(day, 16),
            headcount=2,
        )
        for day in range(3)
    ]  # fmt: skip
    client = signed_in(w, "commander")
    week = iso_week(monday())
    page = client.get(reverse("web:duty-suggest"), {"unit": "R1-B1-C1", "week": week})
    html = page.content.decode()
    assert page.status_code == 200 and "Accept the ticked assignments" in html
    pairs = list(_checkboxes(html))
    assert len(pairs) == 6
    kept = pairs[:-1]  # the commander unticks one
    done = client.post(
        reverse("web:duty-suggest"), {"unit": "R1-B1-C1", "week": week, "pair": kept}
    )
    assert done.status_code == 302 and done["Location"].startswith(reverse("web:duties"))
    made = Assignment.objects.filter(shift__in=shifts, suggested=True)
    assert made.count() == 5


def _checkboxes(html: str) -> list[str]:
    import re

    return re.findall(r'name="pair" value="(\d+:\d+)"', html)


def test_a_volunteer_checks_in_from_their_shifts(role_world):
    w = role_world
    client = signed_in(w, "vol")
    page = client.get(reverse("web:my-shifts"))
    html = page.content.decode()
    assert "Check in" in html and w.soon.post.name in html
    done = client.post(
        reverse("web:duty-check-in", args=[w.own.pk]), {"next": reverse("web:my-shifts")}
    )
    assert done.status_code == 302 and done["Location"] == reverse("web:my-shifts")
    w.own.refresh_from_db()
    assert w.own.state == "checked_in"
    assert "Check out" in client.get(reverse("web:my-shifts")).content.decode()


def test_a_volunteer_sees_the_shift_but_not_who_else_is_on_it(role_world):
    w = role_world
    html = signed_in(w, "vol").get(reverse("web:duty-shift", args=[w.soon.pk])).content.decode()
    assert w.duty.people["vol"].national_id in html
    assert w.duty.people["plain"].national_id not in html
    assert "2 of 3" in html


def test_the_calendar_file_holds_the_volunteers_shifts(role_world):
    w = role_world
    response = signed_in(w, "vol").get(reverse("web:duty-calendar"))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"assignment-{w.own.pk}@muster"
    assert "Old town" in str(event["summary"]) and str(event["status"]) == "CONFIRMED"
    assert event.decoded("dtstart") == w.soon.starts_at


def test_a_commander_reads_a_volunteers_calendar_and_it_is_journaled(role_world):
    w = role_world
    person = w.duty.people["vol"]
    response = signed_in(w, "commander").get(reverse("web:duty-calendar"), {"person": person.pk})
    assert response.status_code == 200
    assert JournalEntry.objects.filter(kind="person.viewed", subject_id=str(person.pk)).exists()


def test_a_volunteer_records_leave_on_the_availability_page(role_world):
    w = role_world
    client = signed_in(w, "vol")
    done = client.post(
        reverse("web:duty-availability"),
        {"kind": "leave", "starts_at": f"{at(20, 0):%Y-%m-%dT%H:%M}",
         "ends_at": f"{at(22, 0):%Y-%m-%dT%H:%M}", "reason": "holiday"},
    )  # fmt: skip
    assert done.status_code == 302
    assert Availability.objects.filter(kind="leave", reason="holiday").exists()
    bad = client.post(
        reverse("web:duty-availability"),
        {"kind": "leave", "starts_at": f"{at(22, 0):%Y-%m-%dT%H:%M}",
         "ends_at": f"{at(20, 0):%Y-%m-%dT%H:%M}"},
    )  # fmt: skip
    assert bad.status_code == 200 and "must be after the start" in bad.content.decode()


def test_a_commander_plans_shifts_for_several_days(role_world):
    w = role_world
    page = signed_in(w, "commander").post(
        reverse("web:duty-shift-new"),
        {"post": w.duty.station.pk, "day": f"{at(7).date()}", "start": "20:00", "end": "08:00",
         "days": 3, "headcount": 2, "eligibility": "firearm/rifle", "eligibility_count": 1,
         "equipment": "radio=1, firearm"},
    )  # fmt: skip
    assert page.status_code == 302, page.content.decode()[:2000]
    made = w.duty.station.shifts.filter(starts_at__gte=at(7)).order_by("starts_at")
    assert made.count() == 3
    assert made[0].ends_at - made[0].starts_at == dt.timedelta(hours=12)
    assert list(made[0].equipment.values_list("category", "count")) == [
        ("radio", 1),
        ("firearm", 1),
    ]
    refused = signed_in(w, "commander").post(
        reverse("web:duty-shift-new"),
        {"post": w.duty.station.pk, "day": f"{at(7).date()}", "start": "06:00", "end": "22:00",
         "days": 1, "headcount": 1},
    )  # fmt: skip
    assert refused.status_code == 200 and "max_shift_hours" in refused.content.decode()
