"""Rostering as a commander does it: who may stand a shift and why not, what the policy's rest
and hours say, leave, check-in and check-out, no-shows and corrections, all journaled; and
nothing is ever deleted."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, transaction
from duty_helpers import at

from muster.access.scope import Forbidden
from muster.core.actors import Actor
from muster.duties.errors import DutyError
from muster.duties.models import Assignment, AssignmentEvent, Availability, Shift
from muster.duties.services import (
    NewRequirement,
    accept_roster,
    assign_person,
    cancel_assignment,
    cancel_shift,
    check_in,
    check_out,
    correct_assignment,
    create_shift,
    record_availability,
    record_no_show,
    withdraw_availability,
)
from muster.journal.models import JournalEntry


def entries(kind: str) -> list[dict]:
    return [json.loads(e.body)["data"] for e in JournalEntry.objects.filter(kind=kind)]


def assign(world, shift, key, actor=None):
    outcome = assign_person(actor=actor or world.commander, shift=shift, person=world.people[key])
    return outcome


def test_a_volunteer_who_fits_is_assigned_and_it_is_journaled(duty_world, patrol_shift):
    outcome = assign(duty_world, patrol_shift, "vol")
    assert outcome.assigned and outcome.assignment.state == "assigned"
    assert {r.code for r in outcome.decision.reasons} >= {"status", "rest", "capacity"}
    [data] = entries("duty.assigned")
    assert data["person"] == "VD60000001" and data["shift"] == patrol_shift.pk
    [event] = AssignmentEvent.objects.filter(assignment=outcome.assignment)
    assert (event.from_state, event.to_state, event.actor) == ("", "assigned", "commander")


def test_a_refusal_gives_every_reason_and_is_journaled_as_a_refusal(duty_world, armed_shift):
    outcome = assign(duty_world, armed_shift, "applicant")
    assert not outcome.assigned and outcome.assignment is None
    codes = [r.code for r in outcome.refusals]
    assert codes == ["status"]  # the places left could still make up both requirements
    outcome = assign(duty_world, armed_shift, "plain")
    assert outcome.assigned  # a third place: the two riflemen can still come
    outcome = assign(duty_world, armed_shift, "vol")
    assert not outcome.assigned
    [refusal] = outcome.refusals
    assert refusal.code == "requirement" and refusal.rule.endswith("requirements[0]")
    assert "eligibility for firearm/rifle" in refusal.message
    assert "firearms_training" in refusal.message  # why the volunteer is not eligible
    journaled = entries("duty.assignment_refused")[-1]
    assert journaled["person"] == "VD60000001"
    assert journaled["reasons"][0]["code"] == "requirement"
    assert Assignment.objects.filter(shift=armed_shift).count() == 1


def test_a_full_shift_meets_every_requirement(duty_world, armed_shift):
    for key in ("rifle1", "vol", "rifle2"):
        assert assign(duty_world, armed_shift, key).assigned, key
    outcome = assign(duty_world, armed_shift, "fire")
    assert [r.code for r in outcome.refusals] == ["capacity"]


def test_double_booking_and_rest_time_are_refused(duty_world, patrol_shift, actor):
    assert assign(duty_world, patrol_shift, "vol").assigned
    overlapping = create_shift(
        actor=actor, post=duty_world.station, starts_at=at(0, 12), ends_at=at(0, 20), headcount=1
    )
    refused = assign(duty_world, overlapping, "vol")
    assert [r.code for r in refused.refusals] == ["double_booking"]
    # Ends at 16:00; the policy asks 8 h of rest, so 22:00 is too soon and 00:00 is fine.
    late = create_shift(
        actor=actor, post=duty_world.station, starts_at=at(0, 22), ends_at=at(1, 6), headcount=1
    )
    [rest] = assign(duty_world, late, "vol").refusals
    assert rest.code == "rest" and rest.rule == "national@2026.1 duties.min_rest_hours"
    assert "only 6 h between" in rest.message
    later = create_shift(
        actor=actor, post=duty_world.station, starts_at=at(1, 0), ends_at=at(1, 8), headcount=1
    )
    assert assign(duty_world, later, "vol").assigned


def test_the_hours_of_a_week_are_capped_by_the_policy(duty_world, actor):
    # national@2026.1: at most 60 h a week; five 12 h shifts make 60, a sixth is refused.
    shifts = [
        create_shift(
            actor=actor,
            post=duty_world.district,
            starts_at=at(day, 8),
            ends_at=at(day, 20),
            headcount=1,
        )
        for day in range(6)
    ]
    for shift in shifts[:5]:
        assert assign(duty_world, shift, "plain").assigned
    [refusal] = assign(duty_world, shifts[5], "plain").refusals
    assert refusal.code == "week_hours" and "72 h" in refusal.message


def test_leave_and_unavailability_keep_a_volunteer_off(duty_world, patrol_shift):
    vol = duty_world.people["vol"]
    record_availability(
        actor=duty_world.volunteer, person=vol, kind="unavailable",
        starts_at=at(0, 6), ends_at=at(0, 10), reason="exam",
    )  # fmt: skip
    [refusal] = assign(duty_world, patrol_shift, "vol").refusals
    assert refusal.code == "unavailable" and "exam" in refusal.message
    entry = Availability.objects.get(person=vol)
    withdraw_availability(actor=duty_world.volunteer, entry=entry, reason="exam moved")
    assert assign(duty_world, patrol_shift, "vol").assigned
    assert Availability.objects.filter(person=vol).count() == 1  # withdrawn, not deleted


def test_leave_over_an_assigned_shift_is_refused_unless_it_is_cancelled_with_it(
    duty_world, patrol_shift
):
    vol = duty_world.people["vol"]
    assignment = assign(duty_world, patrol_shift, "vol").assignment
    with pytest.raises(DutyError) as caught:
        record_availability(
            actor=duty_world.commander, person=vol, kind="leave",
            starts_at=at(-1, 0), ends_at=at(3, 0), reason="family",
        )  # fmt: skip
    assert "take them off it first" in str(caught.value)
    record_availability(
        actor=duty_world.commander, person=vol, kind="leave", starts_at=at(-1, 0),
        ends_at=at(3, 0), reason="family", cancel_assignments=True,
    )  # fmt: skip
    assignment.refresh_from_db()
    assert assignment.state == "cancelled" and assignment.reason == "leave: family"


def test_a_volunteer_records_their_own_availability_only(duty_world):
    with pytest.raises(Forbidden):
        record_availability(
            actor=duty_world.volunteer, person=duty_world.people["plain"], kind="leave",
            starts_at=at(0, 0), ends_at=at(1, 0),
        )  # fmt: skip


def test_check_in_and_out_by_the_volunteer_within_the_window(duty_world, patrol_shift):
    assignment = assign(duty_world, patrol_shift, "vol").assignment
    with pytest.raises(DutyError, match="check-in opens 1 h before the start"):
        check_in(actor=duty_world.volunteer, assignment=assignment, now=at(0, 6, 30))
    check_in(actor=duty_world.volunteer, assignment=assignment, now=at(0, 7, 15))
    with pytest.raises(DutyError, match="checked in; it cannot become checked in"):
        check_in(actor=duty_world.volunteer, assignment=assignment, now=at(0, 7, 20))
    done = check_out(actor=duty_world.volunteer, assignment=assignment, now=at(0, 16, 5))
    assert done.state == "checked_out" and done.checked_in_at == at(0, 7, 15)
    kinds = list(
        JournalEntry.objects.filter(subject_type="assignment").values_list("kind", flat=True)
    )
    assert kinds == ["duty.assigned", "duty.checked_in", "duty.checked_out"]
    history = [e.to_state for e in done.events.order_by("pk")]
    assert history == ["assigned", "checked_in", "checked_out"]


def test_a_volunteer_cannot_check_in_someone_else(duty_world, patrol_shift):
    assignment = assign(duty_world, patrol_shift, "plain").assignment
    with pytest.raises(Forbidden):
        check_in(actor=duty_world.volunteer, assignment=assignment, now=at(0, 8))


def test_no_show_and_its_correction(duty_world, patrol_shift):
    assignment = assign(duty_world, patrol_shift, "plain").assignment
    with pytest.raises(DutyError, match="has not started"):
        record_no_show(actor=duty_world.commander, assignment=assignment, now=at(0, 7))
    record_no_show(actor=duty_world.commander, assignment=assignment, now=at(0, 9))
    again = assign_person(
        actor=duty_world.commander, shift=patrol_shift, person=duty_world.people["plain"],
        now=at(0, 9, 10),
    )  # fmt: skip
    assert [r.code for r in again.refusals] == ["duplicate"]
    assert "correct that record instead" in again.refusals[0].message
    with pytest.raises(DutyError, match="say why"):
        correct_assignment(
            actor=duty_world.commander, assignment=assignment, to_state="checked_in", reason=""
        )
    fixed = correct_assignment(
        actor=duty_world.commander, assignment=assignment, to_state="checked_in",
        reason="arrived late, radio log", now=at(0, 9, 30),
    )  # fmt: skip
    assert fixed.state == "checked_in" and fixed.checked_in_at == at(0, 9, 30)
    assert [e.to_state for e in fixed.events.order_by("pk")] == [
        "assigned", "no_show", "checked_in",
    ]  # fmt: skip


def test_cancelling_keeps_the_assignment_and_a_new_one_can_follow(duty_world, patrol_shift):
    assignment = assign(duty_world, patrol_shift, "vol").assignment
    with pytest.raises(DutyError, match="say why"):
        cancel_assignment(actor=duty_world.commander, assignment=assignment, reason=" ")
    cancel_assignment(actor=duty_world.commander, assignment=assignment, reason="sick")
    again = assign(duty_world, patrol_shift, "vol")
    assert again.assigned and again.assignment.pk != assignment.pk
    states = list(
        Assignment.objects.filter(shift=patrol_shift).order_by("pk").values_list("state", flat=True)
    )
    assert states == ["cancelled", "assigned"]


def test_the_database_refuses_to_delete_duty_records(duty_world, patrol_shift):
    assignment = assign(duty_world, patrol_shift, "vol").assignment
    for queryset in (
        Assignment.objects.filter(pk=assignment.pk),
        AssignmentEvent.objects.filter(assignment=assignment),
        Shift.objects.filter(pk=patrol_shift.pk),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            queryset._raw_delete(queryset.db)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentEvent.objects.filter(assignment=assignment).update(reason="rewritten")


def test_cancelling_a_shift_cancels_who_was_on_it(duty_world, patrol_shift):
    first = assign(duty_world, patrol_shift, "vol").assignment
    cancel_shift(actor=duty_world.commander, shift=patrol_shift, reason="bridge closed")
    first.refresh_from_db()
    assert first.state == "cancelled" and "bridge closed" in first.reason
    [refusal] = assign(duty_world, patrol_shift, "plain").refusals
    assert refusal.code == "shift" and "cancelled" in refusal.message
    with pytest.raises(DutyError, match="cancelled already"):
        cancel_shift(actor=duty_world.commander, shift=patrol_shift, reason="again")


def test_a_shift_must_fit_the_policy(duty_world, actor):
    post = duty_world.station
    with pytest.raises(DutyError) as caught:
        create_shift(
            actor=actor, post=post, starts_at=at(0, 6), ends_at=at(0, 20), headcount=0,
            requirements=[
                NewRequirement("qualification", "fire_safty"),
                NewRequirement("eligibility", "firearm"),
                NewRequirement("qualification", "driving_licence", "Z"),
            ],
        )  # fmt: skip
    rules = {(p.field, p.rule.split(":")[0]) for p in caught.value.problems}
    assert ("headcount", "must be between 1 and 100") in rules
    assert ("ends_at", "national@2026.1 duties.max_shift_hours") in rules
    with pytest.raises(DutyError) as caught:
        create_shift(
            actor=actor, post=post, starts_at=at(0, 6), ends_at=at(0, 14), headcount=2,
            requirements=[
                NewRequirement("qualification", "fire_safty"),
                NewRequirement("eligibility", "firearm"),
                NewRequirement("qualification", "driving_licence", "Z"),
                NewRequirement("qualification", "first_aid", count=3),
            ],
            equipment=[("tank", 1)],
        )  # fmt: skip
    by_field = {p.field: p for p in caught.value.problems}
    assert "declares no qualification type 'fire_safty'" in by_field["requirements[0]"].rule
    assert "no target 'firearm'" in by_field["requirements[1]"].rule
    assert "no class 'Z'" in by_field["requirements[2]"].rule
    assert "between 1 and the headcount" in by_field["requirements[3]"].rule
    assert "no equipment category 'tank'" in by_field["equipment[0]"].rule
    assert not Shift.objects.exists()


def test_a_commander_manages_only_their_own_units(duty_world, org, actor):
    from muster.accounts.models import User
    from muster.accounts.services import grant_role
    from muster.people.services import create_unit

    other = create_unit(
        actor=actor, code="R1-B2", name="2nd", kind="battalion", parent=org["region"]
    )
    User.objects.create_user(username="cmd2", password="x" * 12)
    grant_role(actor=actor, username="cmd2", role="commander", unit=other)
    cmd2 = Actor.for_user(User.objects.get(username="cmd2"))
    with pytest.raises(Forbidden, match="only in their own units"):
        create_shift(
            actor=cmd2, post=duty_world.station, starts_at=at(0, 8), ends_at=at(0, 16),
            headcount=1,
        )  # fmt: skip
    with pytest.raises(Forbidden):
        create_shift(
            actor=duty_world.volunteer, post=duty_world.district, starts_at=at(0, 8),
            ends_at=at(0, 16), headcount=1,
        )  # fmt: skip


def test_accepting_a_roster_is_all_or_nothing(duty_world, patrol_shift, armed_shift, org):
    people = duty_world.people
    good = [(patrol_shift.pk, people["vol"].pk), (armed_shift.pk, people["rifle1"].pk)]
    bad = [*good, (armed_shift.pk, people["applicant"].pk)]
    with pytest.raises(DutyError) as caught:
        accept_roster(actor=duty_world.commander, unit=org["battalion"], pairs=bad)
    assert caught.value.code == "conflict"
    assert [p.field for p in caught.value.problems] == ["status"]
    assert not Assignment.objects.exists()
    created = accept_roster(actor=duty_world.commander, unit=org["battalion"], pairs=good)
    assert {(a.shift_id, a.person_id) for a in created} == set(good)
    assert all(a.suggested for a in created)
    [summary] = entries("duty.roster_accepted")
    assert summary["unit"] == "R1-B1" and len(summary["assignments"]) == 2


def test_a_roster_names_only_shifts_of_the_unit(duty_world, patrol_shift, armed_shift, org):
    with pytest.raises(DutyError, match="no shift"):
        accept_roster(
            actor=duty_world.commander, unit=org["company"],
            pairs=[(armed_shift.pk, duty_world.people["rifle1"].pk)],
        )  # fmt: skip


def test_times_in_the_past_are_not_planned(duty_world, actor):
    start = at(0, 8) - dt.timedelta(days=30)
    with pytest.raises(DutyError, match="over already"):
        create_shift(
            actor=actor, post=duty_world.station, starts_at=start,
            ends_at=start + dt.timedelta(hours=4), headcount=1,
        )  # fmt: skip
