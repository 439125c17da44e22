"""Whatever a commander does, in whatever order, the roster in the database keeps the rules.

A Hypothesis state machine drives the duty services over six shifts (some overlapping, some
close together, some asking for qualifications or firearm eligibility) and six volunteers
(one an applicant, some without the qualifications): assigning anyone anywhere, accepting
the suggested roster, taking people off, leave and unavailability (sometimes cancelling what
they clash with), withdrawing it, check-ins, no-shows and their corrections. After every
step a checker written apart from the rules reads the database: no active assignment breaks
status, leave, double-booking, rest time, the week's hours, the headcount or a requirement;
nothing was deleted; every assignment's history leads to its state, each step journaled."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, ClassVar

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from duty_helpers import at, monday
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from muster.core.errors import DomainError
from muster.duties.models import (
    ACTIVE_STATES,
    Assignment,
    AssignmentEvent,
    Availability,
    Shift,
)
from muster.duties.roster import roster_suggestion
from muster.duties.rules import Span, shift_days
from muster.duties.services import (
    NewRequirement,
    accept_roster,
    assign_person,
    cancel_assignment,
    check_in,
    correct_assignment,
    create_shift,
    record_availability,
    record_no_show,
    withdraw_availability,
)
from muster.journal.models import JournalEntry
from muster.people.models import Person
from muster.vetting.models import Qualification
from muster.vetting.selectors import eligibility_of

MIN_REST = dt.timedelta(hours=8)  # national@2026.1 duties
MAX_WEEK_HOURS = 60


def checked_facts(person: Person, code: str, day: dt.date) -> bool:
    """Holds `code` in force on `day`: read straight from the records."""
    return (
        Qualification.objects.filter(
            person=person, qualification_type__code=code, obtained_on__lte=day
        )
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=day))
        .filter(Q(revocation__isnull=True) | Q(revocation__revoked_on__gt=day))
        .exists()
    )


MEETS: dict[tuple[int, str, str, tuple[dt.date, ...]], bool] = {}


def meets(person: Person, kind: str, code: str, days: tuple[dt.date, ...]) -> bool:
    """Whether the person meets a requirement on every day (records do not change while the
    machine runs, so each answer is read once)."""
    key = (person.pk, kind, code, days)
    if key not in MEETS:
        MEETS[key] = _meets(person, kind, code, days)
    return MEETS[key]


def _meets(person: Person, kind: str, code: str, days: tuple[dt.date, ...]) -> bool:
    if kind == "qualification":
        return all(checked_facts(person, code, day) for day in days)
    category = code.partition("/")[0]
    return all(
        any(d.allowed and d.target == code for d in eligibility_of(person, day, category))
        for day in days
    )


def roster_violations() -> list[str]:
    found = []
    live = Assignment.objects.filter(
        state__in=ACTIVE_STATES, shift__cancelled_at__isnull=True
    ).select_related("shift", "person")
    by_person: dict[int, list[Assignment]] = {}
    for a in live:
        by_person.setdefault(a.person_id, []).append(a)
    for person_id, mine in by_person.items():
        person = mine[0].person
        if person.status != "active":
            found.append(f"{person.national_id} is {person.status} and on a shift")
        for a in mine:
            s = a.shift
            clash = Availability.objects.filter(
                person_id=person_id, withdrawal__isnull=True, kind__in=["leave", "unavailable"],
                starts_at__lt=s.ends_at, ends_at__gt=s.starts_at,
            )  # fmt: skip
            if clash.exists():
                found.append(f"{person.national_id} on shift {s.pk} while away")
            for b in mine:
                if b.pk == a.pk:
                    continue
                t = b.shift
                if t.starts_at < s.ends_at and s.starts_at < t.ends_at:
                    found.append(f"{person.national_id} double-booked: {s.pk}, {t.pk}")
                elif s.ends_at <= t.starts_at < s.ends_at + MIN_REST:
                    found.append(f"{person.national_id}: too little rest {s.pk} → {t.pk}")
        week_hours = sum(
            (a.shift.ends_at - a.shift.starts_at) / dt.timedelta(hours=1) for a in mine
        )
        if week_hours > MAX_WEEK_HOURS:  # every shift here is in one week
            found.append(f"{person.national_id}: {week_hours} h in the week")
    for shift in Shift.objects.filter(cancelled_at__isnull=True).prefetch_related("requirements"):
        on = [a.person for a in live if a.shift_id == shift.pk]
        if len(on) > shift.headcount:
            found.append(f"shift {shift.pk}: {len(on)} on {shift.headcount} places")
        days = shift_days(Span(shift.starts_at, shift.ends_at), timezone.get_current_timezone())
        for r in shift.requirements.all():
            code = f"{r.code}/{r.klass}" if r.klass else r.code
            met = sum(1 for p in on if meets(p, r.kind, code, days))
            if r.count - met > shift.headcount - len(on):
                found.append(f"shift {shift.pk}: {r.code} can no longer be met")
    return found


def history_violations() -> list[str]:
    found = []
    for a in Assignment.objects.prefetch_related("events"):
        events = list(a.events.order_by("pk"))
        if not events or events[0].from_state != "":
            found.append(f"assignment {a.pk}: no first event")
            continue
        for before, after in itertools.pairwise(events):
            if after.from_state != before.to_state:
                found.append(f"assignment {a.pk}: broken history")
        if events[-1].to_state != a.state:
            found.append(f"assignment {a.pk}: state {a.state}, history {events[-1].to_state}")
    journaled = JournalEntry.objects.filter(
        subject_type="assignment", kind__startswith="duty."
    ).exclude(kind="duty.equipment_issued")
    if journaled.count() != AssignmentEvent.objects.count():
        found.append("an assignment change without its journal entry")
    return found


class DutyMachine(RuleBasedStateMachine):
    """One world, rolled back after each example."""

    world: ClassVar[Any]

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.rows = 0
        self.events = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def attempt(self, action: Any) -> Any:
        try:
            with transaction.atomic():
                return action()
        except DomainError:
            return None

    @property
    def people(self) -> list[Person]:
        return list(self.world["people"].values())

    @rule(data=st.data())
    def assign(self, data: st.DataObject) -> None:
        shift = data.draw(st.sampled_from(self.world["shifts"]))
        person = data.draw(st.sampled_from(self.people))
        self.attempt(
            lambda: assign_person(actor=self.world["commander"], shift=shift, person=person)
        )

    @rule(data=st.data())
    def accept_the_suggestion(self, data: st.DataObject) -> None:
        unit = data.draw(st.sampled_from(self.world["units"]))
        suggestion = roster_suggestion(unit, monday())
        if suggestion.pairs:
            self.attempt(
                lambda: accept_roster(
                    actor=self.world["commander"], unit=unit, pairs=suggestion.pairs
                )
            )

    @rule(data=st.data())
    def take_off(self, data: st.DataObject) -> None:
        found = list(Assignment.objects.filter(state="assigned").order_by("pk"))
        if found:
            a = data.draw(st.sampled_from(found))
            self.attempt(
                lambda: cancel_assignment(actor=self.world["commander"], assignment=a, reason="x")
            )

    @rule(data=st.data(), kind=st.sampled_from(["leave", "unavailable", "available"]))
    def away(self, data: st.DataObject, kind: str) -> None:
        person = data.draw(st.sampled_from(self.people))
        day, hour = data.draw(st.integers(0, 3)), data.draw(st.sampled_from([0, 6, 12, 18]))
        length = data.draw(st.sampled_from([4, 12, 36]))
        cancel = data.draw(st.booleans())
        self.attempt(
            lambda: record_availability(
                actor=self.world["commander"],
                person=person,
                kind=kind,
                starts_at=at(day, hour),
                ends_at=at(day, hour) + dt.timedelta(hours=length),
                cancel_assignments=cancel,
            )
        )

    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        found = list(Availability.objects.filter(withdrawal__isnull=True).order_by("pk"))
        if found:
            entry = data.draw(st.sampled_from(found))
            self.attempt(
                lambda: withdraw_availability(
                    actor=self.world["commander"], entry=entry, reason="back"
                )
            )

    @rule(data=st.data())
    def attend(self, data: st.DataObject) -> None:
        found = list(Assignment.objects.filter(state="assigned").select_related("shift"))
        if not found:
            return
        a = data.draw(st.sampled_from(sorted(found, key=lambda x: x.pk)))
        if data.draw(st.booleans()):
            moment = a.shift.starts_at - dt.timedelta(minutes=30)
            self.attempt(lambda: check_in(actor=self.world["commander"], assignment=a, now=moment))
        else:
            moment = a.shift.starts_at + dt.timedelta(minutes=30)
            self.attempt(
                lambda: record_no_show(actor=self.world["commander"], assignment=a, now=moment)
            )

    @rule(data=st.data(), to_state=st.sampled_from(["assigned", "checked_in"]))
    def correct(self, data: st.DataObject, to_state: str) -> None:
        found = list(Assignment.objects.filter(state__in=["no_show", "checked_in"]).order_by("pk"))
        if found:
            a = data.draw(st.sampled_from(found))
            self.attempt(
                lambda: correct_assignment(
                    actor=self.world["commander"],
                    assignment=a,
                    to_state=to_state,
                    reason="mistake",
                )
            )

    @invariant()
    def the_roster_keeps_the_rules(self) -> None:
        assert roster_violations() == []

    @invariant()
    def nothing_is_deleted_and_history_adds_up(self) -> None:
        rows, events = Assignment.objects.count(), AssignmentEvent.objects.count()
        assert rows >= self.rows and events >= self.events
        self.rows, self.events = rows, events
        assert history_violations() == []


def test_whatever_a_commander_does_the_roster_keeps_the_rules(duty_world, org, actor):
    station, district = duty_world.station, duty_world.district
    shifts = [
        create_shift(actor=actor, post=district, starts_at=at(0, 8), ends_at=at(0, 16), headcount=2),
        create_shift(actor=actor, post=station, starts_at=at(0, 12), ends_at=at(0, 20), headcount=2,
                     requirements=[NewRequirement("eligibility", "firearm/rifle", count=1)]),
        create_shift(actor=actor, post=station, starts_at=at(0, 20), ends_at=at(1, 8), headcount=3,
                     requirements=[NewRequirement("eligibility", "firearm/rifle", count=2),
                                   NewRequirement("qualification", "radio_operator", count=1)]),
        create_shift(actor=actor, post=district, starts_at=at(1, 10), ends_at=at(1, 22), headcount=2,
                     requirements=[NewRequirement("qualification", "fire_safety", count=1)]),
        create_shift(actor=actor, post=district, starts_at=at(2, 6), ends_at=at(2, 18), headcount=1),
        create_shift(actor=actor, post=station, starts_at=at(2, 8), ends_at=at(2, 20), headcount=2),
    ]  # fmt: skip
    MEETS.clear()
    DutyMachine.world = {
        "shifts": shifts,
        "people": duty_world.people,
        "commander": duty_world.commander,
        "units": [org["battalion"], org["company"]],
    }
    run_state_machine_as_test(
        DutyMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
