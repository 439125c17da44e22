"""Putting volunteers on shifts and what becomes of it: assign (refused with every reason
when they do not fit), cancel, check in and out, no-show, corrections, and accepting a
suggested roster. Every change is a new state of the assignment with its history entry and
its journal entry, in one transaction; nothing is deleted.

Concurrency: assigning locks the shift's row and then the volunteer's (a roster locks all of
its shifts, then all of its volunteers, each in id order), so two assignments can neither
overfill a shift nor double-book a volunteer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.errors import Problem
from muster.duties import rules
from muster.duties.choices import AssignmentState
from muster.duties.errors import DutyError
from muster.duties.facts import (
    candidate_for,
    facts_of_shift,
    policy_for,
    shift_label,
    span_of,
    staffing_of,
)
from muster.duties.models import Assignment, AssignmentEvent, Shift
from muster.duties.services.common import (
    assignment_record,
    change_state,
    lock_assignment,
    now_or,
    require_manager,
    require_self_or_manager,
    required_reason,
)
from muster.journal.services import Change, record_change
from muster.people.models import Person, Unit
from muster.policy.rules import Decision


@dataclass(frozen=True)
class AssignOutcome:
    """What an assignment request came to: the assignment, or a refusal with every reason."""

    assigned: bool
    assignment: Assignment | None
    decision: Decision

    @property
    def refusals(self) -> tuple[rules.Reason, ...]:
        return self.decision.refusals


def _lock_shift(shift: Shift) -> Shift:
    return (
        Shift.objects.select_for_update(of=("self",))
        .select_related("post__unit", "duty_type")
        .prefetch_related("requirements")
        .get(pk=shift.pk)
    )


def _lock_person(person: Person) -> Person:
    return Person.objects.select_for_update(of=("self",)).select_related("unit").get(pk=person.pk)


def _decide(
    shift: Shift, person: Person, now: dt.datetime, *, correcting: int | None = None
) -> Decision:
    policy = policy_for(shift.post.unit, timezone.localdate(shift.starts_at))
    facts = facts_of_shift(shift, policy)
    staffing = staffing_of(shift, facts, policy, exclude=correcting)
    candidate = candidate_for(person, facts, policy)
    return rules.decide(candidate, facts, staffing, now)


def _create(
    *,
    actor: Actor,
    shift: Shift,
    person: Person,
    decision: Decision,
    reason: str,
    now: dt.datetime,
    suggested: bool,
) -> Assignment:
    assignment = Assignment.objects.create(
        shift=shift,
        person=person,
        state=AssignmentState.ASSIGNED,
        suggested=suggested,
        assigned_by=actor.label,
        assigned_at=now,
        changed_at=timezone.now(),
        reason=reason,
    )
    AssignmentEvent.objects.create(
        assignment=assignment,
        from_state="",
        to_state=AssignmentState.ASSIGNED,
        at=now,
        reason=reason,
        actor=actor.label,
    )
    record_change(
        actor=actor,
        change=Change(
            "duty.assigned",
            "assignment",
            assignment.pk,
            {
                "shift": shift.pk,
                "label": shift_label(shift),
                "person": person.national_id,
                "suggested": suggested,
                "reason": reason,
                "policy": decision.policy,
                "checked": sorted({r.code for r in decision.reasons}),
            },
        ),
    )
    return assignment


@transaction.atomic
def assign_person(
    *,
    actor: Actor,
    shift: Shift,
    person: Person,
    reason: str = "",
    now: dt.datetime | None = None,
) -> AssignOutcome:
    """Put a volunteer on a shift if every rule lets them (muster.duties.rules). A refusal is
    returned with every reason and journaled as `duty.assignment_refused`; nothing else
    changes."""
    now = now_or(now)
    locked = _lock_shift(shift)
    require_manager(actor, locked.post.unit, f"shift {locked.pk}")
    if len(reason) > 300:
        raise DutyError.single(f"shift {locked.pk}", "reason", "must be at most 300 characters")
    holder = _lock_person(person)
    decision = _decide(locked, holder, now)
    if not decision.allowed:
        record_change(
            actor=actor,
            change=Change(
                "duty.assignment_refused",
                "person",
                holder.pk,
                {
                    "shift": locked.pk,
                    "label": shift_label(locked),
                    "person": holder.national_id,
                    "policy": decision.policy,
                    "reasons": [
                        {"rule": r.rule, "code": r.code, "message": r.message}
                        for r in decision.refusals
                    ],
                },
            ),
        )
        return AssignOutcome(False, None, decision)
    assignment = _create(
        actor=actor, shift=locked, person=holder, decision=decision, reason=reason, now=now,
        suggested=False,
    )  # fmt: skip
    return AssignOutcome(True, assignment, decision)


@transaction.atomic
def accept_roster(
    *,
    actor: Actor,
    unit: Unit,
    pairs: Sequence[tuple[int, int]],
    now: dt.datetime | None = None,
) -> list[Assignment]:
    """Create the assignments of a (suggested, maybe edited) roster for shifts of `unit` and
    the units below it: (shift id, person id) pairs, each checked by the rules as it is made,
    all or none. A pair that no longer fits (the roster changed since it was suggested)
    refuses the whole roster (code `conflict`), naming each pair and why."""
    now = now_or(now)
    record = f"roster of {unit.code}"
    require_manager(actor, unit, record)
    if not pairs:
        raise DutyError.single(record, "assignments", "name at least one assignment")
    if len(set(pairs)) != len(pairs):
        raise DutyError.single(record, "assignments", "an assignment is named twice")
    shift_ids = sorted({s for s, _ in pairs})
    person_ids = sorted({p for _, p in pairs})
    shifts = {
        s.pk: s
        for s in Shift.objects.select_for_update(of=("self",))
        .select_related("post__unit", "duty_type")
        .prefetch_related("requirements")
        .filter(pk__in=shift_ids, post__unit__path__startswith=unit.path)
        .order_by("pk")
    }
    people = {
        p.pk: p
        for p in Person.objects.select_for_update(of=("self",))
        .select_related("unit")
        .filter(pk__in=person_ids)
        .order_by("pk")
    }
    problems = [
        Problem(record, "shift", f"no shift {s} of {unit.code} or the units below it", str(s))
        for s in shift_ids
        if s not in shifts
    ] + [
        Problem(record, "person", "no such volunteer", str(p))
        for p in person_ids
        if p not in people
    ]
    if problems:
        raise DutyError(problems)
    ordered = sorted(
        pairs, key=lambda pair: (shifts[pair[0]].starts_at, pair[0], people[pair[1]].pk)
    )
    created: list[Assignment] = []
    for shift_id, person_id in ordered:
        shift, person = shifts[shift_id], people[person_id]
        decision = _decide(shift, person, now)
        if not decision.allowed:
            problems.extend(
                Problem(f"{shift_label(shift)}: {person.national_id}", r.code, r.message)
                for r in decision.refusals
            )
            continue
        created.append(
            _create(
                actor=actor,
                shift=shift,
                person=person,
                decision=decision,
                reason="suggested roster",
                now=now,
                suggested=True,
            )
        )
    if problems:
        raise DutyError(problems, code="conflict")
    record_change(
        actor=actor,
        change=Change(
            "duty.roster_accepted",
            "unit",
            unit.pk,
            {
                "unit": unit.code,
                "assignments": [[a.shift_id, a.person.national_id] for a in created],
            },
        ),
    )
    return created


@transaction.atomic
def cancel_assignment(
    *, actor: Actor, assignment: Assignment, reason: str, now: dt.datetime | None = None
) -> Assignment:
    """Take a volunteer off a shift they have not started: the assignment is kept, cancelled,
    with the reason."""
    now = now_or(now)
    locked = lock_assignment(assignment)
    record = assignment_record(locked)
    require_manager(actor, locked.shift.post.unit, record)
    reason = required_reason(reason, record, "the volunteer is taken off the shift")
    _require_move(locked, AssignmentState.CANCELLED)
    return change_state(
        locked, actor=actor, to_state=AssignmentState.CANCELLED, at=now, reason=reason,
        kind="duty.unassigned",
    )  # fmt: skip


def _require_move(assignment: Assignment, to_state: str) -> None:
    why = rules.move_problem(assignment.state, to_state)
    if why:
        raise DutyError.single(assignment_record(assignment), "state", why, assignment.state)
    if assignment.shift.cancelled_at is not None:
        raise DutyError.single(assignment_record(assignment), "shift", "the shift is cancelled")


@transaction.atomic
def check_in(*, actor: Actor, assignment: Assignment, now: dt.datetime | None = None) -> Assignment:
    """The volunteer arrives (they themselves, or a manager of the unit for them): from the
    policy's duties.check_in_opens_minutes before the start until the end (a manager may
    record a late arrival after it)."""
    now = now_or(now)
    locked = lock_assignment(assignment)
    record = assignment_record(locked)
    manager = require_self_or_manager(actor, locked.person, locked.shift.post.unit, record)
    _require_move(locked, AssignmentState.CHECKED_IN)
    policy = policy_for(locked.shift.post.unit, timezone.localdate(locked.shift.starts_at))
    opens = dt.timedelta(minutes=policy.duties.check_in_opens_minutes)
    why = rules.check_in_problem(span_of(locked.shift), now, opens, manager=manager)
    if why:
        raise DutyError.single(record, "checked_in_at", why, f"{timezone.localtime(now):%H:%M}")
    return change_state(
        locked, actor=actor, to_state=AssignmentState.CHECKED_IN, at=now, reason="",
        kind="duty.checked_in", fields={"checked_in_at": now},
    )  # fmt: skip


@transaction.atomic
def check_out(
    *, actor: Actor, assignment: Assignment, now: dt.datetime | None = None
) -> Assignment:
    """The volunteer leaves (they themselves, or a manager for them)."""
    now = now_or(now)
    locked = lock_assignment(assignment)
    record = assignment_record(locked)
    require_self_or_manager(actor, locked.person, locked.shift.post.unit, record)
    _require_move(locked, AssignmentState.CHECKED_OUT)
    if locked.checked_in_at is not None and now < locked.checked_in_at:
        raise DutyError.single(record, "checked_out_at", "is before the check-in")
    return change_state(
        locked, actor=actor, to_state=AssignmentState.CHECKED_OUT, at=now, reason="",
        kind="duty.checked_out", fields={"checked_out_at": now},
    )  # fmt: skip


@transaction.atomic
def record_no_show(
    *, actor: Actor, assignment: Assignment, reason: str = "", now: dt.datetime | None = None
) -> Assignment:
    """A manager records that the volunteer did not come (once the shift has started)."""
    now = now_or(now)
    locked = lock_assignment(assignment)
    record = assignment_record(locked)
    require_manager(actor, locked.shift.post.unit, record)
    _require_move(locked, AssignmentState.NO_SHOW)
    if now < locked.shift.starts_at:
        raise DutyError.single(record, "state", "the shift has not started yet")
    if len(reason) > 300:
        raise DutyError.single(record, "reason", "must be at most 300 characters")
    return change_state(
        locked, actor=actor, to_state=AssignmentState.NO_SHOW, at=now, reason=reason.strip(),
        kind="duty.no_show",
    )  # fmt: skip


@transaction.atomic
def correct_assignment(
    *,
    actor: Actor,
    assignment: Assignment,
    to_state: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Assignment:
    """A manager puts a state recorded by mistake back (checked in → assigned, checked out →
    checked in, no-show → assigned or checked in), as a new state with the reason. Bringing
    a no-show back onto the shift is checked by the rules like a new assignment."""
    now = now_or(now)
    locked = lock_assignment(assignment)
    record = assignment_record(locked)
    require_manager(actor, locked.shift.post.unit, record)
    reason = required_reason(reason, record, "the record is corrected")
    why = rules.move_problem(locked.state, to_state, correction=True)
    if why:
        raise DutyError.single(record, "state", why, to_state)
    if locked.shift.cancelled_at is not None:
        raise DutyError.single(record, "shift", "the shift is cancelled")
    fields: dict[str, object] = {}
    if locked.state == AssignmentState.NO_SHOW:
        _lock_person(locked.person)
        decision = _decide(locked.shift, locked.person, now, correcting=locked.pk)
        refusals = [r for r in decision.refusals if r.code != "shift"]
        if refusals:
            raise DutyError([Problem(record, r.code, r.message) for r in refusals])
        if to_state == AssignmentState.CHECKED_IN:
            fields["checked_in_at"] = min(now, locked.shift.ends_at)
    elif to_state == AssignmentState.ASSIGNED:
        fields["checked_in_at"] = None
    else:
        fields["checked_out_at"] = None
    return change_state(
        locked, actor=actor, to_state=to_state, at=now, reason=reason,
        kind="duty.corrected", fields=fields, data={"correction": True},
    )  # fmt: skip
