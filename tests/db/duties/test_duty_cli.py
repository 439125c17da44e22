"""`muster duties …` as a commander uses it at the command line: types, posts and shifts,
the week, assigning (exit 3 with every reason when refused), the suggested roster accepted,
check-in and check-out, leave, a calendar file; bad input is exit 2 naming the rule."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from duty_helpers import at, monday
from icalendar import Calendar

from muster.duties.models import Assignment, Availability, Post, Shift
from muster.duties.selectors import iso_week
from muster.journal.models import JournalEntry
from worlds import PASSWORD


@pytest.fixture
def commander(duty_world, monkeypatch):
    monkeypatch.setenv("MUSTER_USER", "commander")
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    monkeypatch.setenv("MUSTER_SECOND_PASSWORD", PASSWORD)
    return duty_world


def duties(*args: object) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("duties", *map(str, args), stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def test_posts_and_shifts_are_planned_and_listed(commander):
    code, out, _ = duties(
        "posts", "add", "GAS-1", "Gas valve station", "--unit", "R1-B1", "--type",
        "infrastructure", "--lat", "50.5", "--lon", "30.6",
    )  # fmt: skip
    assert code == 0 and "post GAS-1 added at R1-B1" in out
    assert Post.objects.get(code="GAS-1").latitude is not None
    code, out, _ = duties(
        "shifts", "add", "--post", "GAS-1", "--start", when(at(0, 20)), "--end", when(at(1, 8)),
        "--headcount", "2", "--days", "3", "--eligible", "firearm/rifle=2", "--needs",
        "radio_operator=1", "--equipment", "radio=1", "--equipment", "firearm=2",
    )  # fmt: skip
    assert code == 0, out
    assert out.count("planned shift") == 3
    shift = Shift.objects.filter(post__code="GAS-1").order_by("starts_at").first()
    assert list(shift.requirements.values_list("kind", "code", "count")) == [
        ("qualification", "radio_operator", 1), ("eligibility", "firearm/rifle", 2),
    ]  # fmt: skip
    code, out, _ = duties("shifts", "list", "--unit", "R1-B1", "--week", iso_week(monday()))
    assert code == 0 and "GAS-1" in out and "SHORT" in out
    code, out, _ = duties("week", "--unit", "R1-B1", "--week", iso_week(monday()))
    assert code == 0 and "0 of 6 places filled, 3 shift(s) short" in out
    code, out, _ = duties("posts", "list", "--unit", "R1-B1")
    assert "GAS-1" in out and "PAT-1" in out
    code, out, _ = duties("types", "list")
    assert "fire_watch" in out


def test_bad_input_names_the_record_the_field_and_the_rule(commander):
    size = JournalEntry.objects.count()
    code, _, err = duties(
        "shifts", "add", "--post", "PS-1", "--start", when(at(0, 6)), "--end", when(at(0, 22)),
        "--headcount", "1", "--needs", "fire_safty",
    )  # fmt: skip
    assert code == 2
    assert "shifts at post PS-1, ends_at: national@2026.1 duties.max_shift_hours" in err
    assert JournalEntry.objects.count() == size
    code, _, err = duties("assign", "999", "VD60000001")
    assert code == 2 and "shift 999, SHIFT_ID: no such shift" in err


def test_an_assignment_refused_exits_3_with_every_reason(commander, armed_shift, patrol_shift):
    code, out, _ = duties("assign", armed_shift.pk, "VD60000006")
    assert code == 3
    assert "REFUSED by policy national@2026.1" in out
    assert "national@2026.1 duties.eligible_statuses: status applicant" in out
    assert JournalEntry.objects.filter(kind="duty.assignment_refused").count() == 1
    code, out, _ = duties("assign", patrol_shift.pk, "VD60000001")
    assert code == 0 and "on shift" in out
    assignment = Assignment.objects.get(shift=patrol_shift)
    code, out, _ = duties("shifts", "show", patrol_shift.pk)
    assert f"assignment {assignment.pk}: VD60000001" in out and "1 of 2" in out
    code, out, err = duties("check-in", assignment.pk)
    assert code == 2 and "check-in opens 1 h before the start" in err
    code, out, _ = duties("unassign", assignment.pk, "--reason", "exam")
    assert code == 0 and Assignment.objects.get(pk=assignment.pk).state == "cancelled"


def test_the_suggested_roster_is_shown_and_accepted(commander, patrol_shift, armed_shift):
    code, out, _ = duties("suggest", "--unit", "R1-B1", "--week", iso_week(monday()))
    assert code == 0 and "suggested roster for R1-B1" in out
    assert not Assignment.objects.exists()
    code, out, _ = duties("suggest", "--unit", "R1-B1", "--week", iso_week(monday()), "--accept")
    assert code == 0 and "accepted: 5 assignment(s) made" in out
    assert Assignment.objects.filter(suggested=True).count() == 5
    code, out, _ = duties("suggest", "--unit", "R1-B1", "--week", iso_week(monday()), "--json")
    assert '"proposals": []' in out


def test_attendance_leave_and_the_calendar(commander, actor, tmp_path):
    from muster.duties.services import assign_person, create_shift

    now = timezone.now().replace(microsecond=0)
    shift = create_shift(
        actor=actor, post=commander.district, starts_at=now - dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=4), headcount=2,
    )  # fmt: skip
    mine = assign_person(actor=actor, shift=shift, person=commander.people["vol"]).assignment
    other = assign_person(actor=actor, shift=shift, person=commander.people["plain"]).assignment
    assert duties("check-in", mine.pk)[0] == 0
    assert duties("check-out", mine.pk)[0] == 0
    code, out, _ = duties("no-show", other.pk, "--reason", "no answer")
    assert code == 0 and "no-show" in out
    code, out, _ = duties("correct", other.pk, "--to", "checked_in", "--reason", "came late")
    assert code == 0 and "corrected to checked_in" in out
    code, out, _ = duties(
        "availability", "add", "VD60000001", "--kind", "leave", "--from", when(at(3, 0)),
        "--to", when(at(5, 0)), "--reason", "holiday",
    )  # fmt: skip
    assert code == 0
    entry = Availability.objects.get(reason="holiday")
    assert "holiday" in duties("availability", "list", "VD60000001")[1]
    assert duties("availability", "withdraw", entry.pk, "--reason", "cancelled trip")[0] == 0
    target = tmp_path / "vol.ics"
    assert duties("ical", "VD60000001", "--out", target)[0] == 0
    [event] = Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert str(event["location"]) == "Market square"
    code, out, _ = duties("understaffed", "--hours", "72")
    assert code == 0


def test_equipment_for_a_shift_at_the_command_line(commander, actor, monkeypatch):
    from muster.duties.services import assign_person, create_shift

    monkeypatch.setenv("MUSTER_USER", "armorer")
    now = timezone.now().replace(microsecond=0)
    shift = create_shift(
        actor=actor, post=commander.station, starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=9), headcount=1,
    )  # fmt: skip
    assignment = assign_person(
        actor=actor, shift=shift, person=commander.people["rifle1"]
    ).assignment
    code, out, err = duties("issue", assignment.pk, "R0005", "--second", "commander")
    assert code == 0, err
    assert "due back" in out and "(end of the shift)" in out
    code, out, _ = duties("check-out", assignment.pk)
    assert code == 2  # the armorer neither stands nor manages the shift
