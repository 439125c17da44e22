"""Equipment issued for a shift (R9): a checkout through the armory's issue (eligibility,
two-person rule, quotas: its rules, its authority), due back at the shift's end, so that
after the end the armory's recalls show it overdue. The link from the shift to the items is
kept (ShiftIssue) and journaled as `duty.equipment_issued`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from muster.armory.services.custody import IssueOutcome, issue_items
from muster.core.actors import Actor
from muster.duties.choices import AssignmentState
from muster.duties.errors import DutyError
from muster.duties.facts import shift_label
from muster.duties.models import Assignment, ShiftIssue
from muster.duties.services.common import assignment_record, lock_assignment, now_or
from muster.journal.services import Change, record_change


@transaction.atomic
def issue_for_shift(
    *,
    actor: Actor,
    second: Actor | None,
    assignment: Assignment,
    item_ids: Sequence[int],
    now: dt.datetime | None = None,
) -> IssueOutcome:
    """Issue items to the volunteer of an assignment (assigned or checked in, the shift not
    over), due back when the shift ends. A refusal by policy is the armory's answer, journaled
    by it; nothing of the duty changes then."""
    now = now_or(now)
    locked = lock_assignment(assignment)
    record = assignment_record(locked)
    shift = locked.shift
    if locked.state not in (AssignmentState.ASSIGNED, AssignmentState.CHECKED_IN):
        raise DutyError.single(
            record, "state", f"is {locked.state.replace('_', ' ')}; nothing is issued for it"
        )
    if shift.cancelled_at is not None:
        raise DutyError.single(record, "shift", "the shift is cancelled")
    if shift.ends_at <= now:
        raise DutyError.single(record, "shift", "the shift is over")
    outcome = issue_items(
        actor=actor,
        second=second,
        person=locked.person,
        item_ids=item_ids,
        kind="checkout",
        until=shift.ends_at,
        purpose=shift_label(shift),
    )
    if not outcome.issued:
        return outcome
    ShiftIssue.objects.bulk_create(
        [
            ShiftIssue(
                assignment=locked,
                item=item,
                issued_at=item.issued_at or now,
                due_at=shift.ends_at,
                actor=actor.label,
            )
            for item in outcome.items
        ]
    )
    record_change(
        actor=actor,
        change=Change(
            "duty.equipment_issued",
            "assignment",
            locked.pk,
            {
                "shift": shift.pk,
                "person": locked.person.national_id,
                "items": [f"{i.model.code} {i.serial}" for i in outcome.items],
                "due_at": shift.ends_at,
                "custody_seqs": list(outcome.journal_seqs),
            },
        ),
    )
    return outcome
