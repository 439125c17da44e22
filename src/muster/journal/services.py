"""Appending to the journal: the only way an entry is ever written.

Invariant: an entry is appended in the same database transaction as the change it records,
and sequence numbers are allocated under the head row's lock, so they are gapless.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.canonical import canonical_text, plain
from muster.journal.models import JournalEntry, JournalHead


@dataclass(frozen=True)
class Change:
    """A change of state to be journaled: kind is dotted past tense (`person.registered`)."""

    kind: str
    subject_type: str
    subject_id: str | int
    data: Mapping[str, Any]


class JournalOutsideTransaction(RuntimeError):
    """Raised when a caller tries to journal a change outside the change's transaction."""


def _lock_head() -> JournalHead:
    try:
        return JournalHead.objects.select_for_update().get(pk=1)
    except JournalHead.DoesNotExist:
        # Two first writers may race to create the row; the loser's insert is a no-op.
        JournalHead.objects.bulk_create([JournalHead(pk=1, size=0)], ignore_conflicts=True)
        return JournalHead.objects.select_for_update().get(pk=1)


def entry_document(*, seq: int, at: str, actor: str, change: Change) -> dict[str, Any]:
    """The whole entry as the JSON object whose canonical bytes are the log leaf."""
    return {
        "seq": seq,
        "at": at,
        "actor": actor,
        "kind": change.kind,
        "subject": {"type": change.subject_type, "id": str(change.subject_id)},
        "data": plain(dict(change.data)),
    }


def record_changes(*, actor: Actor, changes: Iterable[Change]) -> list[JournalEntry]:
    """Append `changes` in order, under one lock of the head row, inside the caller's
    transaction. Returns the entries written (empty when there were no changes)."""
    if not connection.in_atomic_block:
        raise JournalOutsideTransaction(
            "journal entries must be written inside the change's transaction"
        )
    pending = list(changes)
    if not pending:
        return []
    head = _lock_head()
    now = timezone.now()
    at = plain(now)
    entries = []
    for offset, change in enumerate(pending):
        seq = head.size + offset
        body = canonical_text(entry_document(seq=seq, at=at, actor=actor.label, change=change))
        entries.append(
            JournalEntry(
                seq=seq,
                recorded_at=now,
                actor=actor.label,
                kind=change.kind,
                subject_type=change.subject_type,
                subject_id=str(change.subject_id),
                body=body,
            )
        )
    _insert(entries)
    head.size += len(entries)
    head.save(update_fields=["size"])
    return entries


def _insert(entries: list[JournalEntry]) -> None:
    """One prepared INSERT run for every entry: the journal's hot path, several times
    cheaper than bulk_create for large imports, with the same column values."""
    table = JournalEntry._meta.db_table
    columns = ("seq", "recorded_at", "actor", "kind", "subject_type", "subject_id", "body")
    sql = (
        f'INSERT INTO "{table}" ({", ".join(columns)}) '
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    recorded_at = connection.ops.adapt_datetimefield_value(entries[0].recorded_at)
    rows = [
        (e.seq, recorded_at, e.actor, e.kind, e.subject_type, e.subject_id, e.body) for e in entries
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def record_change(*, actor: Actor, change: Change) -> JournalEntry:
    """Append one change; see record_changes."""
    return record_changes(actor=actor, changes=[change])[0]
