"""Availability and leave: when a volunteer offers to serve, cannot, or is on leave. Entries
are never changed: one is withdrawn by a later entry. Leave or unavailability over a shift the
volunteer is on is refused, naming the shift, unless a manager asks for those assignments to
be cancelled in the same transaction; so no active assignment ever overlaps leave."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.errors import Problem
from muster.duties.choices import AssignmentState, AvailabilityKind
from muster.duties.errors import DutyError
from muster.duties.facts import overlapping, shift_label
from muster.duties.models import Availability, AvailabilityWithdrawal
from muster.duties.rules import Span
from muster.duties.services.common import (
    change_state,
    lock_assignment,
    now_or,
    require_manager,
    require_self_or_manager,
    required_reason,
)
from muster.journal.services import Change, record_change
from muster.people.models import Person

LONGEST = dt.timedelta(days=366)


@transaction.atomic
def record_availability(
    *,
    actor: Actor,
    person: Person,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str = "",
    cancel_assignments: bool = False,
    now: dt.datetime | None = None,
) -> Availability:
    """Record that a volunteer is available, unavailable or on leave for a period (they
    themselves, or a manager of their unit)."""
    now = now_or(now)
    record = f"{kind} of {person.national_id}"
    require_self_or_manager(actor, person, person.unit, record)
    problems = []
    if kind not in AvailabilityKind.values:
        problems.append(
            Problem(record, "kind", f"must be one of {', '.join(AvailabilityKind.values)}", kind)
        )
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        problems.append(Problem(record, "starts_at", "give a time with its time zone"))
    elif ends_at <= starts_at:
        problems.append(Problem(record, "ends_at", "must be after the start"))
    elif ends_at - starts_at > LONGEST:
        problems.append(Problem(record, "ends_at", "one entry covers at most a year"))
    if len(reason) > 300:
        problems.append(Problem(record, "reason", "must be at most 300 characters"))
    if problems:
        raise DutyError(problems)
    Person.objects.select_for_update(of=("self",)).filter(pk=person.pk).first()
    cancelled = []
    if kind != AvailabilityKind.AVAILABLE:
        clashes = overlapping(person, Span(starts_at, ends_at))
        started = [a for a in clashes if a.state != AssignmentState.ASSIGNED]
        problems = [
            Problem(record, "starts_at", f"{person.national_id} was on {shift_label(a.shift)}")
            for a in started
        ]
        waiting = [a for a in clashes if a.state == AssignmentState.ASSIGNED]
        if waiting and not cancel_assignments:
            problems.extend(
                Problem(
                    record,
                    "starts_at",
                    f"{person.national_id} is on {shift_label(a.shift)}: take them off it "
                    "first, or cancel it with this entry",
                )
                for a in waiting
            )
        if problems:
            raise DutyError(problems)
        why = f"{kind}: {reason}" if reason else str(kind)
        for assignment in waiting:
            locked = lock_assignment(assignment)
            require_manager(actor, locked.shift.post.unit, f"assignment {locked.pk}")
            change_state(
                locked, actor=actor, to_state=AssignmentState.CANCELLED, at=now,
                reason=why[:300], kind="duty.unassigned",
            )  # fmt: skip
            cancelled.append(locked.pk)
    entry = Availability.objects.create(
        person=person,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        actor=actor.label,
    )
    record_change(
        actor=actor,
        change=Change(
            "duty.availability_recorded",
            "availability",
            entry.pk,
            {
                "person": person.national_id,
                "kind": kind,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "reason": reason,
                "cancelled_assignments": cancelled,
            },
        ),
    )
    return entry


@transaction.atomic
def withdraw_availability(*, actor: Actor, entry: Availability, reason: str) -> Availability:
    """Withdraw an availability entry by a later one; the entry itself stays."""
    record = f"availability {entry.pk}"
    person = Person.objects.select_related("unit").get(pk=entry.person_id)
    require_self_or_manager(actor, person, person.unit, record)
    reason = required_reason(reason, record, "it is withdrawn")
    if AvailabilityWithdrawal.objects.filter(availability=entry).exists():
        raise DutyError.single(record, "state", "is withdrawn already")
    AvailabilityWithdrawal.objects.create(availability=entry, reason=reason, actor=actor.label)
    record_change(
        actor=actor,
        change=Change(
            "duty.availability_withdrawn",
            "availability",
            entry.pk,
            {"person": person.national_id, "kind": entry.kind, "reason": reason},
        ),
    )
    return entry
