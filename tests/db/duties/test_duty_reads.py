"""What commanders and the alerts read: the week of a unit with its gaps, shifts soon short
of people, and the suggested roster on real records — filled fairly, gaps explained."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from duty_helpers import at, monday

from muster.duties.roster import roster_suggestion, shift_candidates
from muster.duties.selectors import parse_week, understaffed_shifts, week_of
from muster.duties.services import (
    NewRequirement,
    accept_roster,
    assign_person,
    cancel_shift,
    create_shift,
    record_availability,
)


def test_weeks_are_named_by_iso_week_or_any_day_in_them():
    assert parse_week("2026-W48") == dt.date(2026, 11, 23)
    assert parse_week("2026-11-26") == dt.date(2026, 11, 23)
    assert parse_week("", today=dt.date(2026, 11, 22)) == dt.date(2026, 11, 16)


def test_the_week_puts_each_shift_under_its_post_and_day(
    duty_world, patrol_shift, armed_shift, org
):
    assign_person(actor=duty_world.commander, shift=patrol_shift, person=duty_world.people["vol"])
    view = week_of(org["battalion"], monday())
    assert [row.post.code for row in view.rows] == ["PAT-1", "PS-1"]
    patrol_monday = view.rows[0].days[0]
    assert [(c.shift.pk, c.filled, c.gap) for c in patrol_monday] == [(patrol_shift.pk, 1, True)]
    assert [c.shift.pk for c in view.rows[1].days[1]] == [armed_shift.pk]  # Tuesday night
    assert (view.places, view.filled, view.gaps) == (5, 1, 2)
    company = week_of(org["company"], monday())
    assert [row.post.code for row in company.rows] == ["PAT-1"]


def test_shifts_soon_short_of_people_for_the_alerts(duty_world, actor, org):
    now = timezone.now()
    soon = create_shift(
        actor=actor, post=duty_world.station, starts_at=now + dt.timedelta(hours=5),
        ends_at=now + dt.timedelta(hours=12), headcount=2,
    )  # fmt: skip
    full = create_shift(
        actor=actor, post=duty_world.district, starts_at=now + dt.timedelta(hours=6),
        ends_at=now + dt.timedelta(hours=10), headcount=1,
    )  # fmt: skip
    later = create_shift(
        actor=actor, post=duty_world.district, starts_at=now + dt.timedelta(hours=60),
        ends_at=now + dt.timedelta(hours=64), headcount=1,
    )  # fmt: skip
    off = create_shift(
        actor=actor, post=duty_world.district, starts_at=now + dt.timedelta(hours=20),
        ends_at=now + dt.timedelta(hours=24), headcount=1,
    )  # fmt: skip
    cancel_shift(actor=actor, shift=off, reason="no need")
    assign_person(actor=actor, shift=soon, person=duty_world.people["plain"])
    assign_person(actor=actor, shift=full, person=duty_world.people["vol"])
    found = understaffed_shifts(now)
    assert [(u.shift.pk, u.unit.code, u.headcount, u.filled, u.missing) for u in found] == [
        (soon.pk, "R1-B1", 2, 1, 1)
    ]
    assert [u.shift.pk for u in understaffed_shifts(now, dt.timedelta(hours=72))] == [
        soon.pk, later.pk,
    ]  # fmt: skip


def test_the_suggestion_fills_what_it_may_and_says_why_a_place_stays_open(duty_world, actor, org):
    people = duty_world.people
    # A fire watch needing two with fire safety: only one volunteer holds it.
    fire = create_shift(
        actor=actor, post=duty_world.station, starts_at=at(2, 8), ends_at=at(2, 20), headcount=2,
        requirements=[NewRequirement("qualification", "fire_safety")],
        duty_type=duty_world.types["fire_watch"],
    )  # fmt: skip
    armed = create_shift(
        actor=actor, post=duty_world.station, starts_at=at(1, 20), ends_at=at(2, 8), headcount=2,
        requirements=[NewRequirement("eligibility", "firearm/rifle")],
    )  # fmt: skip
    patrols = [
        create_shift(
            actor=actor,
            post=duty_world.district,
            starts_at=at(day, 8),
            ends_at=at(day, 16),
            headcount=2,
        )
        for day in (0, 3, 4)
    ]
    record_availability(
        actor=actor, person=people["vol"], kind="leave", starts_at=at(0, 0), ends_at=at(1, 0)
    )
    suggestion = roster_suggestion(org["battalion"], monday())
    plan = suggestion.plan
    by_shift: dict[int, list[str]] = {}
    for p in plan.proposals:
        by_shift.setdefault(p.shift_id, []).append(suggestion.people[p.person_id].national_id)
    assert sorted(by_shift[armed.pk]) == ["VD60000003", "VD60000004"]  # the two riflemen
    assert "VD60000001" not in by_shift.get(patrols[0].pk, [])  # on leave that Monday
    assert "VD60000006" not in {n for names in by_shift.values() for n in names}  # applicant
    [gap] = [g for g in plan.gaps if g.shift_id == fire.pk]
    assert gap.missing == 1 and gap.short == (("fire_safety", 1),)
    assert {r.code for r in gap.reasons} >= {"requirement"}
    # The load is spread: 5 active volunteers share 8 places of ~8-12 h, nobody gets 3.
    counts: dict[str, int] = {}
    for names in by_shift.values():
        for n in names:
            counts[n] = counts.get(n, 0) + 1
    assert max(counts.values()) <= 2
    made = accept_roster(actor=duty_world.commander, unit=org["battalion"], pairs=suggestion.pairs)
    assert len(made) == len(plan.proposals)
    again = roster_suggestion(org["battalion"], monday())
    assert not again.plan.proposals  # nothing more anyone may take


def test_who_fits_a_shift_most_deserving_first(duty_world, armed_shift):
    found = shift_candidates(armed_shift)
    fitting = [f.person.national_id for f in found.fitting]
    # the riflemen and the radio operator each help meet a requirement, so they come first
    assert set(fitting[:3]) == {"VD60000001", "VD60000003", "VD60000004"}
    assert "VD60000006" not in fitting  # an applicant is no candidate at all
