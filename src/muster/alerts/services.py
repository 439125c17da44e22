"""Writing alerts: raised and cleared by the job, acknowledged and resolved by those who must act.

Every write is one transaction with its journal entries (kinds `alert.raised`,
`alert.acknowledged`, `alert.resolved`, subject `alert`): the alert or entry rows, the alert's
current `state`, and the journal, all or nothing. Nothing is deleted or rewritten: an entry is
added, and the alert's state columns follow it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from muster.access.scope import Scope
from muster.alerts.audience import require_to_act
from muster.alerts.choices import ACTIVE, AlertState, EntryAction
from muster.alerts.models import Alert, AlertEntry
from muster.alerts.sources import Condition
from muster.core.actors import Actor
from muster.core.bulk import allocate_ids, insert_rows
from muster.core.errors import DomainError, Problem
from muster.journal.services import Change, record_change, record_changes

NOTE_LENGTH = 500
CHUNK = 1000
# Serialises runs of the job on PostgreSQL (SQLite's IMMEDIATE transactions already do).
JOB_LOCK = 0x4D55_4C52  # "MULR"


class AlertError(DomainError):
    """An acknowledgement or resolution that cannot be made."""


def _label(alert: Alert) -> str:
    return f"alert {alert.pk}"


def _locked(alert_id: int) -> Alert:
    found = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if found is None:
        raise AlertError.single(f"alert {alert_id}", "id", "no such alert", alert_id)
    return found


def _note(record: str, note: str, *, required: bool) -> str:
    text = note.strip()
    problems = []
    if required and not text:
        problems.append(
            Problem(record, "note", "is required to resolve an alert: say what was done")
        )
    if len(text) > NOTE_LENGTH:
        problems.append(
            Problem(record, "note", f"may be at most {NOTE_LENGTH} characters", str(len(text)))
        )
    if problems:
        raise AlertError(problems)
    return text


def _add_entry(alert: Alert, *, actor: Actor, action: str, note: str, to: str) -> Alert:
    """Journal the step, add its entry and move the alert's state, in the caller's transaction."""
    entry = record_change(
        actor=actor,
        change=Change(
            f"alert.{action}",
            "alert",
            alert.pk,
            {"kind": alert.kind, "key": alert.key, "note": note, "state": to},
        ),
    )
    now = entry.recorded_at
    AlertEntry.objects.create(
        alert=alert, action=action, actor=actor.label, note=note, at=now, seq=entry.seq
    )
    alert.state, alert.changed_at = to, now
    alert.save(update_fields=["state", "changed_at"])
    return alert


def _already(record: str, alert: Alert, by: AlertEntry | None) -> AlertError:
    """The conflict of acting on an alert already in its state (`by` the entry that put it
    there)."""
    who = f" by {by.actor}" if by else ""
    problem = Problem(record, "state", f"is already {alert.state}{who}", alert.state)
    return AlertError([problem], code="conflict")


@transaction.atomic
def acknowledge_alert(*, actor: Actor, scope: Scope, alert: Alert, note: str = "") -> Alert:
    """Someone who must act says they have seen the alert and are dealing with it (once)."""
    locked = _locked(alert.pk)
    require_to_act(scope, locked)
    record = _label(locked)
    text = _note(record, note, required=False)
    if locked.state != AlertState.OPEN:
        raise _already(record, locked, locked.entries.order_by("-at", "-pk").first())
    return _add_entry(
        locked, actor=actor, action=EntryAction.ACKNOWLEDGED, note=text, to=AlertState.ACKNOWLEDGED
    )


@transaction.atomic
def resolve_alert(*, actor: Actor, scope: Scope, alert: Alert, note: str) -> Alert:
    """Someone who must act closes the alert, saying what was done. The job raises no new alert
    for the same occurrence (key) afterwards; a new occurrence gets a new one."""
    locked = _locked(alert.pk)
    require_to_act(scope, locked)
    record = _label(locked)
    text = _note(record, note, required=True)
    if locked.state == AlertState.RESOLVED:
        raise _already(record, locked, locked.entries.filter(action=EntryAction.RESOLVED).first())
    return _add_entry(
        locked, actor=actor, action=EntryAction.RESOLVED, note=text, to=AlertState.RESOLVED
    )


# --- the job's writes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Routed:
    """A condition with the unit paths its alert is filed under."""

    condition: Condition
    unit_path: str
    site_path: str
    person_path: str


def lock_job() -> None:
    """Take the job's lock until the transaction ends (PostgreSQL; SQLite writers queue)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [JOB_LOCK])


_ALERT_FIELDS = (
    "id", "kind", "key", "state", "cleared", "unit_id", "unit_path", "site_id", "site_path",
    "person_id", "person_path", "item_id", "count_id", "variance_id", "shift_id", "message",
    "data", "raised_at", "changed_at",
)  # fmt: skip


def _raised_data(routed: Routed) -> dict[str, Any]:
    c = routed.condition
    refs = {
        "unit": c.unit_id,
        "site": c.site_id,
        "person": c.person_id,
        "item": c.item_id,
        "count": c.count_id,
        "variance": c.variance_id,
        "shift": c.shift_id,
    }
    return {
        "kind": c.kind,
        "key": c.key,
        "message": c.message,
        **{name: value for name, value in refs.items() if value is not None},
        "data": dict(c.data),
    }


def _alert_row(pk: int, routed: Routed, now: dt.datetime) -> tuple[Any, ...]:
    """The values of _ALERT_FIELDS for a new alert."""
    c = routed.condition
    refs = (c.item_id, c.count_id, c.variance_id, c.shift_id)
    return (
        *(pk, c.kind, c.key, AlertState.OPEN, False),
        *(c.unit_id, routed.unit_path, c.site_id, routed.site_path, c.person_id),
        *(routed.person_path, *refs, c.message, dict(c.data), now, now),
    )


def raise_alerts(*, actor: Actor, found: Sequence[Routed], now: dt.datetime) -> list[int]:
    """Insert one alert per condition and journal each (`alert.raised`), in the caller's
    transaction (the job's, holding its lock). Returns the new alerts' ids, in order."""
    if not found:
        return []
    ids = allocate_ids(Alert, len(found))
    record_changes(
        actor=actor,
        changes=[
            Change("alert.raised", "alert", pk, _raised_data(routed))
            for pk, routed in zip(ids, found, strict=True)
        ],
    )
    rows = [_alert_row(pk, routed, now) for pk, routed in zip(ids, found, strict=True)]
    insert_rows(Alert, _ALERT_FIELDS, rows)
    return ids


def clear_alerts(*, actor: Actor, notes: Mapping[int, str], now: dt.datetime) -> list[int]:
    """Resolve, as the job, the alerts `notes` names (id → note) that are still to be dealt
    with: an entry and a journal entry (`alert.resolved`) each, in the caller's transaction.
    Returns the ids resolved (one resolved by a person meanwhile is left alone)."""
    wanted = sorted(notes)
    still: list[tuple[int, str, str]] = []
    for start in range(0, len(wanted), CHUNK):
        still.extend(
            Alert.objects.select_for_update()
            .filter(pk__in=wanted[start : start + CHUNK], state__in=ACTIVE)
            .order_by("pk")
            .values_list("pk", "kind", "key")
        )
    if not still:
        return []
    seqs = record_changes(
        actor=actor,
        changes=[
            Change(
                "alert.resolved",
                "alert",
                pk,
                {"kind": kind, "key": key, "note": notes[pk], "state": AlertState.RESOLVED},
            )
            for pk, kind, key in still
        ],
    )
    insert_rows(
        AlertEntry,
        ("alert_id", "action", "actor", "note", "at", "seq"),
        [
            (pk, EntryAction.RESOLVED, actor.label, notes[pk], now, seq)
            for (pk, _, _), seq in zip(still, seqs, strict=True)
        ],
    )
    ids = [pk for pk, _, _ in still]
    for start in range(0, len(ids), CHUNK):
        Alert.objects.filter(pk__in=ids[start : start + CHUNK]).update(
            state=AlertState.RESOLVED, cleared=True, changed_at=now
        )
    return ids
