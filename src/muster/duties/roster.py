"""The suggested roster read from the database: the facts a suggestion over a unit's week
is computed from (volunteers of the unit and below whose status may stand a duty, their
records, other shifts, leave and offered availability, in a few queries whatever their
number), the suggestion itself (muster.duties.suggest), and who fits one shift now.
Computed, never stored: a commander accepts a roster with services.accept_roster."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from muster.duties.choices import AssignmentState, RequirementKind
from muster.duties.facts import (
    AROUND,
    absences_of,
    bookings_of,
    facts_of_shift,
    last_served,
    local_tz,
    unmet_on,
)
from muster.duties.models import ACTIVE_STATES, Assignment, Shift
from muster.duties.rules import (
    Candidate,
    Need,
    ShiftFacts,
    Span,
    Staffing,
    assess,
    local_day,
    shift_days,
    week_hours,
    week_span,
    week_start,
)
from muster.duties.selectors import iso_week, week_shifts
from muster.duties.suggest import OpenShift, RosterPlan, Volunteer, suggest
from muster.people.models import Person, Unit
from muster.people.selectors import jurisdiction_of
from muster.policy.rules import PersonFacts, category_of, qualification_types_used
from muster.policy.schema import PolicyDocument
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import PersonRow, people_with_facts


@dataclass(frozen=True)
class RosterInputs:
    """What a suggestion is computed from: the open shifts, the candidates, and the records."""

    shifts: dict[int, Shift]
    open_shifts: list[OpenShift]
    volunteers: list[Volunteer]
    people: dict[int, PersonRow]


@dataclass(frozen=True)
class Suggestion:
    unit: Unit
    monday: dt.date
    plan: RosterPlan
    shifts: dict[int, Shift]
    people: dict[int, PersonRow]

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return [(p.shift_id, p.person_id) for p in self.plan.proposals]

    @property
    def week(self) -> str:
        return iso_week(self.monday)


def roster_suggestion(unit: Unit, monday: dt.date, now: dt.datetime | None = None) -> Suggestion:
    """The suggested roster for the week at a unit's posts (and below): see muster.duties.suggest.
    Computed, not stored: a commander accepts it (or an edit of it) with accept_roster."""
    now = now or timezone.now()
    inputs = roster_inputs(unit, list(week_shifts(unit, monday)), now)
    plan = suggest(inputs.open_shifts, inputs.volunteers, now=now, monday=monday)
    return Suggestion(unit, monday, plan, inputs.shifts, inputs.people)


@dataclass(frozen=True)
class Fit:
    person: PersonRow
    hours: float


@dataclass(frozen=True)
class ShiftCandidates:
    """Who could take a place on a shift now, most deserving first (the suggestion's order),
    and what keeps the others out."""

    fitting: list[Fit]
    refused: list[tuple[str, int, str]] = field(default_factory=list)


def shift_candidates(
    shift: Shift, now: dt.datetime | None = None, limit: int = 20
) -> ShiftCandidates:
    """The volunteers of the post's unit (and below) who fit the shift now."""
    now = now or timezone.now()
    shift = (
        Shift.objects.select_related("post__unit").prefetch_related("requirements").get(pk=shift.pk)
    )
    monday = week_start(timezone.localdate(shift.starts_at))
    inputs = roster_inputs(shift.post.unit, [shift], now)
    if not inputs.open_shifts:
        return ShiftCandidates([])
    open_shift = inputs.open_shifts[0]
    fitting: list[tuple[tuple[object, ...], Fit]] = []
    refused: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for v in inputs.volunteers:
        unmet = {
            key: v.unmet[(key, day)]
            for key in (n.key for n in open_shift.facts.needs)
            for day in open_shift.days
            if (key, day) in v.unmet
        }
        candidate = Candidate(v.person_id, v.ref, v.status, unmet, v.bookings, v.absences)
        found = assess(candidate, open_shift.facts, open_shift.staffing, now, explain=False)
        if found:
            refused[found[0].code] += 1
            examples.setdefault(found[0].code, found[0].message)
            continue
        hours = week_hours(v.bookings, monday, open_shift.facts.limits.tz)
        helps = sum(
            1
            for need in open_shift.facts.needs
            if need.key not in unmet and open_shift.staffing.met.get(need.key, 0) < need.count
        )
        key = (-helps, hours, v.last_served or dt.datetime.min.replace(tzinfo=dt.UTC), v.person_id)
        fitting.append((key, Fit(inputs.people[v.person_id], hours)))
    fitting.sort(key=lambda pair: pair[0])
    return ShiftCandidates(
        fitting=[f for _, f in fitting[:limit]],
        refused=[(code, n, examples[code]) for code, n in refused.most_common()],
    )


def roster_inputs(unit: Unit, shifts: Sequence[Shift], now: dt.datetime) -> RosterInputs:
    """The facts a suggestion over `shifts` is computed from: the volunteers of the unit and
    the units below it whose status may stand a duty, with their records, other shifts,
    leave and offered availability over the week (and around it, for rest), in a few queries
    whatever their number."""
    tz = local_tz()
    shifts = [s for s in shifts if s.cancelled_at is None]
    by_id = {s.pk: s for s in shifts}
    if not shifts:
        return RosterInputs(by_id, [], [], {})
    jurisdiction = jurisdiction_of(unit)
    policies: dict[dt.date, PolicyDocument] = {}

    def policy_on(day: dt.date) -> PolicyDocument:
        if day not in policies:
            policies[day] = policy_in_force(jurisdiction, day)
        return policies[day]

    facts = {s.pk: facts_of_shift(s, policy_on(timezone.localdate(s.starts_at))) for s in shifts}
    statuses = {status for f in facts.values() for status in f.limits.statuses}
    assigned = {
        (a.shift_id, a.person_id)
        for a in Assignment.objects.filter(shift__in=shifts, state__in=ACTIVE_STATES)
    }
    no_shows: dict[int, set[int]] = defaultdict(set)
    for shift_id, person_id in Assignment.objects.filter(
        shift__in=shifts, state=AssignmentState.NO_SHOW
    ).values_list("shift_id", "person_id"):
        no_shows[shift_id].add(person_id)
    assignee_ids = {pid for _, pid in assigned}
    pool = Person.objects.filter(unit__path__startswith=unit.path, status__in=statuses)
    people_qs = (pool | Person.objects.filter(pk__in=assignee_ids)) if assignee_ids else pool
    types = _types_needed(facts.values(), policies.values())
    rows: dict[int, tuple[PersonRow, PersonFacts]] = {
        row.pk: (row, person) for row, person in people_with_facts(people_qs, types)
    }
    needs_by_day: dict[dt.date, dict[str, Need]] = defaultdict(dict)
    for f in facts.values():
        for day in shift_days(f.span, tz):
            for need in f.needs:
                needs_by_day[day][need.key] = need
    unmet: dict[int, dict[tuple[str, dt.date], str]] = defaultdict(dict)
    for pid, (_, person_facts) in rows.items():
        for day, needs in needs_by_day.items():
            for key, why in unmet_on(person_facts, needs.values(), day, policy_on(day)).items():
                unmet[pid][(key, day)] = why
    span = Span(
        min(f.span.starts_at for f in facts.values()), max(f.span.ends_at for f in facts.values())
    )
    monday = week_start(local_day(span.starts_at, tz))
    week = week_span(monday, tz)
    window = Span(
        min(week.starts_at, span.starts_at) - AROUND, max(week.ends_at, span.ends_at) + AROUND
    )
    pool_ids = sorted(
        pid
        for pid, (row, person) in rows.items()
        if row.unit_path.startswith(unit.path) and person.status in statuses
    )
    bookings = bookings_of(pool_ids, window)
    absences, offered = absences_of(pool_ids, window)
    served = last_served(pool_ids, window.starts_at)
    volunteers = [
        Volunteer(
            person_id=pid,
            ref=rows[pid][0].national_id,
            name=rows[pid][0].name,
            status=rows[pid][1].status,
            unit_path=rows[pid][0].unit_path,
            absences=tuple(absences.get(pid, ())),
            offered=tuple(offered.get(pid, ())),
            bookings=tuple(bookings.get(pid, ())),
            last_served=served.get(pid),
            unmet=unmet.get(pid, {}),
        )
        for pid in pool_ids
    ]
    open_shifts = []
    for shift in shifts:
        f = facts[shift.pk]
        on = frozenset(pid for sid, pid in assigned if sid == shift.pk)
        days = shift_days(f.span, tz)
        met: dict[str, int] = {}
        for pid in on:
            for need in f.needs:
                if not any((need.key, d) in unmet.get(pid, {}) for d in days):
                    met[need.key] = met.get(need.key, 0) + 1
        staffing = Staffing(on, met, frozenset(no_shows.get(shift.pk, ())))
        open_shifts.append(OpenShift(f, shift.post.unit.path, staffing, days))
    return RosterInputs(by_id, open_shifts, volunteers, {pid: rows[pid][0] for pid in rows})


def _types_needed(facts: Iterable[ShiftFacts], policies: Iterable[PolicyDocument]) -> set[str]:
    """The qualification types a decision on these shifts' needs can look at."""
    types: set[str] = set()
    targets = set()
    for f in facts:
        for need in f.needs:
            kind, _, what = need.key.partition(":")
            if kind == RequirementKind.QUALIFICATION:
                types.add(what.partition("/")[0])
            else:
                targets.add(category_of(what))
    for policy in policies:
        for category in targets:
            if category in policy.categories:
                types.update(qualification_types_used(policy, category))
    return types
