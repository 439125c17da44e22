"""Appending to the journal: the only way an entry is ever written.

Invariant: an entry is appended in the same database transaction as the change it records,
and sequence numbers are allocated under the head row's lock, so they are gapless.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.bulk import insert_rows
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


def _reserve(count: int) -> int:
    """Take the next `count` sequence numbers; returns the first. One UPDATE … RETURNING both
    locks the head row until commit and moves it on, so numbers never gap or repeat."""
    table = JournalHead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET size = size + %s WHERE id = 1 RETURNING size', [count]
        )
        row = cursor.fetchone()
        if row is None:
            # A new database whose head row is missing: two first writers may race to make it;
            # the loser's insert is a no-op.
            JournalHead.objects.bulk_create([JournalHead(pk=1, size=0)], ignore_conflicts=True)
            cursor.execute(
                f'UPDATE "{table}" SET size = size + %s WHERE id = 1 RETURNING size', [count]
            )
            row = cursor.fetchone()
    return int(row[0]) - count


def entry_document(*, seq: int, at: str, actor: str, change: Change) -> dict[str, Any]:
    """The whole entry as the JSON object whose canonical bytes are the log leaf."""
    return {
        "seq": seq,
        "at": at,
        "actor": actor,
        "kind": change.kind,
        "subject": {"type": change.subject_type, "id": str(change.subject_id)},
        "data": dict(change.data),
    }


def record_changes(*, actor: Actor, changes: Iterable[Change]) -> range:
    """Append `changes` in order, under one lock of the head row, inside the caller's
    transaction. Returns their sequence numbers (empty when there were no changes)."""
    rows, _ = _append(actor, list(changes))
    return range(rows[0][0], rows[-1][0] + 1) if rows else range(0)


Row = tuple[int, Any, str, str, str, str, str]


def _append(actor: Actor, pending: list[Change]) -> tuple[list[Row], dt.datetime]:
    if not connection.in_atomic_block:
        raise JournalOutsideTransaction(
            "journal entries must be written inside the change's transaction"
        )
    now = timezone.now()
    if not pending:
        return [], now
    first = _reserve(len(pending))
    at = plain(now)
    label = actor.label
    rows = [
        (
            first + offset,
            now,
            label,
            change.kind,
            change.subject_type,
            str(change.subject_id),
            canonical_text(entry_document(seq=first + offset, at=at, actor=label, change=change)),
        )
        for offset, change in enumerate(pending)
    ]
    insert_rows(JournalEntry, _COLUMNS, rows)
    return rows, now


_COLUMNS = ("seq", "recorded_at", "actor", "kind", "subject_type", "subject_id", "body")


def record_change(*, actor: Actor, change: Change) -> JournalEntry:
    """Append one change and return its entry; see record_changes."""
    rows, now = _append(actor, [change])
    seq, _, label, kind, subject_type, subject_id, body = rows[0]
    return JournalEntry(
        seq=seq, recorded_at=now, actor=label, kind=kind, subject_type=subject_type,
        subject_id=subject_id, body=body,
    )  # fmt: skip
