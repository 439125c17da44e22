"""Who may do what with duties, asked of muster.access.scope, and the one way an assignment
changes state (row, history and journal entry together).

| action | who |
|---|---|
| duty types | `units.change` (HQ staff, regional administrators) |
| posts, shifts, assigning, rosters, no-shows, corrections | `people.change` over the post's unit (commanders, regional administrators, HQ staff) |
| check-in and check-out | the volunteer on the shift, or a manager of its unit |
| availability and leave | the volunteer themselves, or a manager of their unit |

A system actor (the demo, a migration) acts everywhere. The services check this themselves,
so the web, the API and the CLI cannot differ; the adapters narrow what a user *sees*.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from muster.access.scope import Scope, require, require_at, scope_of
from muster.accounts.models import User
from muster.core.actors import Actor
from muster.duties.errors import DutyError
from muster.duties.models import Assignment, AssignmentEvent
from muster.journal.services import Change, record_change
from muster.people.models import Person, Unit

MANAGE = "people.change"
DEFINE_TYPES = "units.change"


def scope_of_actor(actor: Actor) -> Scope | None:
    """The acting user's scope; None for a system actor (who acts everywhere)."""
    if actor.user_id is None:
        return None
    user = User.objects.filter(pk=actor.user_id).first()
    if user is None:
        raise DutyError.single(f"user {actor.label}", "actor", "no such user")
    return scope_of(user)


def require_manager(actor: Actor, unit: Unit, record: str) -> None:
    """Refuse (Forbidden) unless the actor may manage duties of `unit`."""
    scope = scope_of_actor(actor)
    if scope is not None:
        require_at(scope, MANAGE, unit.path, record)


def require_type_definer(actor: Actor, record: str) -> None:
    scope = scope_of_actor(actor)
    if scope is not None:
        require(scope, DEFINE_TYPES, record)


def is_manager(actor: Actor, unit: Unit) -> bool:
    from muster.access.scope import may_at

    scope = scope_of_actor(actor)
    return scope is None or (scope.may(MANAGE) and may_at(scope, MANAGE, unit.path))


def require_self_or_manager(actor: Actor, person: Person, unit: Unit, record: str) -> bool:
    """Refuse (Forbidden) unless the actor is `person` or manages `unit`; True for a manager."""
    scope = scope_of_actor(actor)
    if scope is None:
        return True
    if scope.may(MANAGE) and is_manager(actor, unit):
        return True
    if scope.person_id == person.pk:
        return False
    require_at(scope, MANAGE, unit.path, record)
    return True  # pragma: no cover - require_at refused


def now_or(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def required_reason(reason: str, record: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise DutyError.single(record, "reason", f"say why {what}")
    if len(reason) > 300:
        raise DutyError.single(record, "reason", "must be at most 300 characters", reason[:40])
    return reason


def assignment_record(assignment: Assignment) -> str:
    return f"assignment {assignment.pk}"


def lock_assignment(assignment: Assignment) -> Assignment:
    return (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("shift__post__unit", "person")
        .get(pk=assignment.pk)
    )


def change_state(
    assignment: Assignment,
    *,
    actor: Actor,
    to_state: str,
    at: dt.datetime,
    reason: str,
    kind: str,
    fields: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Assignment:
    """Move a locked assignment to `to_state`: its row, its history and its journal entry."""
    from_state = assignment.state
    now = timezone.now()
    assignment.state = to_state
    assignment.changed_at = now
    assignment.reason = reason
    assignment.version += 1
    for name, value in (fields or {}).items():
        setattr(assignment, name, value)
    assignment.save(update_fields=["state", "changed_at", "reason", "version", *(fields or {})])
    AssignmentEvent.objects.create(
        assignment=assignment,
        from_state=from_state,
        to_state=to_state,
        at=at,
        reason=reason,
        actor=actor.label,
    )
    record_change(
        actor=actor,
        change=Change(
            kind,
            "assignment",
            assignment.pk,
            {
                "shift": assignment.shift_id,
                "person": assignment.person.national_id,
                "from": from_state,
                "to": to_state,
                "at": at,
                "reason": reason,
                **(data or {}),
            },
        ),
    )
    return assignment
