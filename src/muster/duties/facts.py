"""What the rostering rules decide on, read from the database: a shift's facts under the
policy in force where its post is, and a volunteer's (what they meet, their other shifts,
their leave). The services and the suggestion both read through here, so they decide on
the same facts.

The policy that applies to a shift is the one in force on the day it starts, for the
jurisdiction of its post's unit; a qualification must be in force on every day the shift
touches (its start's and its end's), and eligibility for an equipment target is decided by
the eligibility engine on each of those days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.db.models import Count, Max, Q
from django.utils import timezone

from muster.core.errors import PolicyError
from muster.duties.choices import AssignmentState, AvailabilityKind, RequirementKind
from muster.duties.models import ACTIVE_STATES, Assignment, Availability, Shift
from muster.duties.rules import (
    Absence,
    Booking,
    Candidate,
    Limits,
    Need,
    ShiftFacts,
    Span,
    Staffing,
    eligibility_key,
    qualification_gap,
    qualification_key,
    shift_days,
)
from muster.people.models import Person, Unit
from muster.people.selectors import jurisdiction_of
from muster.policy.rules import PersonFacts, evaluate
from muster.policy.schema import PolicyDocument
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import person_facts

# How far around a shift a volunteer's other shifts matter: its week for the hours, and the
# longest rest the policy may ask (72 h) on either side.
AROUND = dt.timedelta(days=8)


def local_tz() -> dt.tzinfo:
    return timezone.get_current_timezone()


def limits_of(policy: PolicyDocument) -> Limits:
    rules = policy.duties
    return Limits(
        policy=policy.ref,
        min_rest=dt.timedelta(hours=rules.min_rest_hours),
        max_week_hours=rules.max_hours_per_week,
        statuses=tuple(rules.eligible_statuses),
        tz=local_tz(),
    )


def policy_for(unit: Unit, day: dt.date) -> PolicyDocument:
    """The policy in force on `day` where `unit` is."""
    return policy_in_force(jurisdiction_of(unit), day)


def shift_label(shift: Shift) -> str:
    start = timezone.localtime(shift.starts_at)
    end = timezone.localtime(shift.ends_at)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"shift {shift.pk} at {shift.post.code}, {start:%Y-%m-%d %H:%M}–{until}"


def need_of(kind: str, code: str, klass: str, count: int) -> Need:
    if kind == RequirementKind.ELIGIBILITY:
        return Need(eligibility_key(code), f"eligibility for {code}", count)
    label = f"{code}/{klass}" if klass else code
    return Need(qualification_key(code, klass), label, count)


def needs_of(shift: Shift) -> tuple[Need, ...]:
    return tuple(
        need_of(r.kind, r.code, r.klass, r.count)
        for r in sorted(shift.requirements.all(), key=lambda r: r.pk)
    )


def span_of(shift: Shift) -> Span:
    return Span(shift.starts_at, shift.ends_at)


def facts_of_shift(shift: Shift, policy: PolicyDocument | None = None) -> ShiftFacts:
    """The shift as the rules see it (its post and requirements read with it)."""
    policy = policy or policy_for(shift.post.unit, timezone.localdate(shift.starts_at))
    return ShiftFacts(
        id=shift.pk,
        label=shift_label(shift),
        span=span_of(shift),
        headcount=shift.headcount,
        needs=needs_of(shift),
        limits=limits_of(policy),
        cancelled=shift.cancelled_at is not None,
    )


def unmet_on(
    facts: PersonFacts, needs: Iterable[Need], day: dt.date, policy: PolicyDocument
) -> dict[str, str]:
    """The needs `facts` do not meet on `day`, each with why not."""
    unmet: dict[str, str] = {}
    for need in needs:
        kind, _, what = need.key.partition(":")
        if kind == "qualification":
            code, _, klass = what.partition("/")
            gap = qualification_gap(facts.qualifications, code, klass, [day])
            if gap is not None:
                unmet[need.key] = gap
            continue
        try:
            decision = evaluate(facts, policy, what, day)
        except PolicyError as error:
            unmet[need.key] = str(error)
            continue
        if not decision.allowed:
            unmet[need.key] = "; ".join(f"{r.rule}: {r.message}" for r in decision.refusals)
    return unmet


def unmet_for_shift(
    facts: PersonFacts, shift: ShiftFacts, policy: PolicyDocument
) -> dict[str, str]:
    """The shift's needs `facts` do not meet on one of the days it touches."""
    unmet: dict[str, str] = {}
    for day in shift_days(shift.span, shift.limits.tz):
        for key, why in unmet_on(facts, shift.needs, day, policy).items():
            unmet.setdefault(key, why)
    return unmet


def window_around(span: Span) -> Span:
    return Span(span.starts_at - AROUND, span.ends_at + AROUND)


def bookings_of(
    person_ids: Iterable[int], window: Span, *, exclude_assignment: int | None = None
) -> dict[int, list[Booking]]:
    """Each person's active assignments on shifts (not cancelled) overlapping `window`."""
    found: dict[int, list[Booking]] = defaultdict(list)
    ids = list(person_ids)
    if not ids:
        return found
    rows = (
        Assignment.objects.filter(
            person_id__in=ids,
            state__in=ACTIVE_STATES,
            shift__cancelled_at__isnull=True,
            shift__starts_at__lt=window.ends_at,
            shift__ends_at__gt=window.starts_at,
        )
        .select_related("shift__post")
        .order_by("shift__starts_at", "pk")
    )
    if exclude_assignment is not None:
        rows = rows.exclude(pk=exclude_assignment)
    for assignment in rows:
        shift = assignment.shift
        found[assignment.person_id].append(Booking(shift.pk, shift_label(shift), span_of(shift)))
    return found


def absences_of(
    person_ids: Iterable[int], window: Span
) -> tuple[dict[int, list[Absence]], dict[int, list[Span]]]:
    """Each person's leave and unavailability in force overlapping `window`, and the
    availability they offered there."""
    absences: dict[int, list[Absence]] = defaultdict(list)
    offered: dict[int, list[Span]] = defaultdict(list)
    ids = list(person_ids)
    if not ids:
        return absences, offered
    entries = Availability.objects.filter(
        person_id__in=ids,
        withdrawal__isnull=True,
        starts_at__lt=window.ends_at,
        ends_at__gt=window.starts_at,
    ).order_by("starts_at", "pk")
    for entry in entries:
        span = Span(entry.starts_at, entry.ends_at)
        if entry.kind == AvailabilityKind.AVAILABLE:
            offered[entry.person_id].append(span)
        else:
            absences[entry.person_id].append(Absence(entry.kind, span, entry.reason))
    return absences, offered


def last_served(person_ids: Sequence[int], before: dt.datetime) -> dict[int, dt.datetime]:
    """When each person's last active shift ending before `before` ended."""
    if not person_ids:
        return {}
    rows = (
        Assignment.objects.filter(
            person_id__in=person_ids,
            state__in=ACTIVE_STATES,
            shift__cancelled_at__isnull=True,
            shift__ends_at__lte=before,
        )
        .values("person_id")
        .annotate(last=Max("shift__ends_at"))
        .order_by()
    )
    return {row["person_id"]: row["last"] for row in rows}


def candidate_for(
    person: Person,
    shift: ShiftFacts,
    policy: PolicyDocument,
    *,
    facts: PersonFacts | None = None,
    exclude_assignment: int | None = None,
) -> Candidate:
    """One volunteer as the rules see them for `shift`."""
    facts = facts or person_facts(person)
    window = window_around(shift.span)
    bookings = bookings_of([person.pk], window, exclude_assignment=exclude_assignment)
    absences, _ = absences_of([person.pk], window)
    return Candidate(
        person_id=person.pk,
        ref=person.national_id,
        status=facts.status,
        unmet=unmet_for_shift(facts, shift, policy),
        bookings=tuple(bookings.get(person.pk, ())),
        absences=tuple(absences.get(person.pk, ())),
    )


def staffing_of(
    shift: Shift, facts: ShiftFacts, policy: PolicyDocument, *, exclude: int | None = None
) -> Staffing:
    """Who holds a place on the shift now, how many of them meet each need, and who was
    recorded as a no-show there (but for the assignment `exclude`, being corrected)."""
    assignees = list(
        Person.objects.filter(
            duty_assignments__shift=shift, duty_assignments__state__in=ACTIVE_STATES
        ).distinct()
    )
    met: dict[str, int] = {}
    if facts.needs:
        for person in assignees:
            unmet = unmet_for_shift(person_facts(person), facts, policy)
            for need in facts.needs:
                if need.key not in unmet:
                    met[need.key] = met.get(need.key, 0) + 1
    no_shows = Assignment.objects.filter(shift=shift, state=AssignmentState.NO_SHOW)
    if exclude is not None:
        no_shows = no_shows.exclude(pk=exclude)
    absent = frozenset(no_shows.values_list("person_id", flat=True))
    return Staffing(frozenset(p.pk for p in assignees), met, absent)


def active_counts(shift_ids: Iterable[int]) -> Mapping[int, int]:
    """How many active assignments each shift has."""
    ids = list(shift_ids)
    rows = (
        Assignment.objects.filter(shift_id__in=ids, state__in=ACTIVE_STATES)
        .values("shift_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["shift_id"]: row["n"] for row in rows}
    return {pk: counts.get(pk, 0) for pk in ids}


def overlapping(person: Person, span: Span) -> list[Assignment]:
    """The person's active assignments on shifts (not cancelled) overlapping `span`."""
    return list(
        Assignment.objects.filter(
            Q(shift__starts_at__lt=span.ends_at) & Q(shift__ends_at__gt=span.starts_at),
            person=person,
            state__in=ACTIVE_STATES,
            shift__cancelled_at__isnull=True,
        )
        .select_related("shift__post")
        .order_by("shift__starts_at", "pk")
    )
