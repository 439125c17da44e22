"""Appending to the journal: the only way an entry is ever written.

Invariant: an entry is appended in the same database transaction as the change it records,
and sequence numbers are allocated under the head row's lock, so they are gapless.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.utils import timezone

from muster.core import rows
from muster.core.actors import Actor
from muster.core.bulk import insert_rows
from muster.core.canonical import canonical_text, plain
from muster.core.errors import DomainError
from muster.journal.models import JournalEntry, JournalHead


@dataclass(frozen=True)
class Change:
    """A change of state to be journaled: kind is dotted past tense (`person.registered`)."""

    kind: str
    subject_type: str
    subject_id: str | int
    data: Mapping[str, Any]


# The log's export format (C2SP tlog-tiles) prefixes each entry with a 16-bit length, so an
# entry holds at most 65,535 bytes; services split larger records over several entries.
MAX_ENTRY_BYTES = 0xFFFF


def _check_size(kind: str, size: int) -> None:
    if size > MAX_ENTRY_BYTES:
        raise DomainError.single(
            f"journal entry {kind}",
            "body",
            f"is {size:,} bytes; an entry holds at most {MAX_ENTRY_BYTES:,} "
            "(the log's export format): split the record over several entries",
        )


# What the values of one part may take of an entry, leaving room for the rest of it.
PART_BUDGET = 48_000


def parts_within(values: Sequence[Any], budget: int = PART_BUDGET) -> list[list[Any]]:
    """`values` split, in order, into parts whose canonical JSON takes at most `budget` bytes
    each, so that a record too large for one entry goes over several (at least one part, empty
    when there are no values)."""
    parts: list[list[Any]] = [[]]
    used = 0
    for value in values:
        size = len(canonical_text(value).encode("utf-8")) + 1  # and its comma
        if parts[-1] and used + size > budget:
            parts.append([])
            used = 0
        parts[-1].append(value)
        used += size
    return parts


# Chain heads per `*.heads` entry. An item's proof bundle carries the whole entry that attests
# it, so entries stay small: 64 pairs of at most ~45 bytes keep the attestation's proof under
# 4 KB, and the entries of a count of 100,000 items number 1,563.
HEADS_PER_ENTRY = 64


def head_order(item: str) -> tuple[int, str]:
    """The order of `*.heads` pairs: ids in numeric order (shorter first, then by text)."""
    return len(item), item


def heads_changes(
    kind: str, subject_type: str, subject_id: str | int, heads: Iterable[tuple[str, int | None]]
) -> list[Change]:
    """Entries that commit to the last entry of each chain: `heads` gives (item id, seq of its
    last custody entry or None), and they are listed, sorted by id, over as many `kind`
    entries (`count.heads`, `log.heads`) as the 64 KiB limit needs, each with its part number
    and the number of parts. A verifier checks each pair against the chains it followed, so
    the entry shows no later event of those items is left out of a history that reaches it.
    Read `heads` under the journal head's lock (after the transaction's first append), so no
    chain moves between the reading and the entry."""
    pairs = sorted(((str(item), last) for item, last in heads), key=lambda p: head_order(p[0]))
    parts = [pairs[i : i + HEADS_PER_ENTRY] for i in range(0, len(pairs), HEADS_PER_ENTRY)]
    return [
        Change(kind, subject_type, subject_id, {"part": n, "parts": len(parts), "heads": part})
        for n, part in enumerate(parts, start=1)
    ]


class JournalOutsideTransaction(RuntimeError):
    """Raised when a caller tries to journal a change outside the change's transaction."""


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise JournalOutsideTransaction(
            "journal entries must be written inside the change's transaction"
        )


def _reserve(count: int) -> int:
    """Take the next `count` sequence numbers; returns the first. One UPDATE … RETURNING both
    locks the head row until commit and moves it on, so numbers never gap or repeat."""
    table = JournalHead._meta.db_table
    with rows.cursor() as cursor:
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
    entries, _ = _append(actor, list(changes))
    return range(entries[0][0], entries[-1][0] + 1) if entries else range(0)


Row = tuple[int, Any, str, str, str, str, str]


def _append(actor: Actor, pending: list[Change]) -> tuple[list[Row], dt.datetime]:
    _require_transaction()
    now = timezone.now()
    if not pending:
        return [], now
    first = _reserve(len(pending))
    at = plain(now)
    label = actor.label
    entries = [
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
    for entry in entries:
        _check_size(entry[3], len(entry[6].encode("utf-8")))
    insert_rows(JournalEntry, _COLUMNS, entries)
    return entries, now


_COLUMNS = ("seq", "recorded_at", "actor", "kind", "subject_type", "subject_id", "body")

# One statement both reserves the number and writes the entry (PostgreSQL: a data-modifying
# WITH), so a single change costs one round trip to the server instead of two. The body is
# the canonical text around its own sequence number, joined in the statement.
_HEAD_CTE = (
    f'head AS (UPDATE "{JournalHead._meta.db_table}" SET size = size + 1 WHERE id = 1 '
    "RETURNING size - 1 AS seq)"
)
_INSERT_FROM_HEAD = (
    f'INSERT INTO "{JournalEntry._meta.db_table}" ({", ".join(_COLUMNS)}) '
    "SELECT seq, %s, %s, %s, %s, %s, %s || seq::text || %s FROM head RETURNING seq"
)


def _entry_values(actor: Actor, change: Change) -> tuple[list[Any], tuple[str, str]]:
    """The parameters of _INSERT_FROM_HEAD for one change, and its body around the seq."""
    now = timezone.now()
    label = actor.label
    before, after = body_around_seq(
        entry_document(seq=0, at=plain(now), actor=label, change=change)
    )
    values = [now, label, change.kind, change.subject_type, str(change.subject_id), before, after]
    # the longest number the entry could get: 20 digits
    _check_size(change.kind, len(before.encode("utf-8")) + 20 + len(after.encode("utf-8")))
    return values, (before, after)


def _append_one(actor: Actor, change: Change) -> Row | None:
    """Append one change in one statement; None when the head row is still to be made."""
    _require_transaction()
    values, (before, after) = _entry_values(actor, change)
    with rows.cursor() as cursor:
        cursor.execute(f"WITH {_HEAD_CTE} {_INSERT_FROM_HEAD}", values)
        row = cursor.fetchone()
    if row is None:
        return None
    seq = int(row[0])
    now, label, kind, subject_type, subject_id = values[:5]
    return (seq, now, label, kind, subject_type, subject_id, f"{before}{seq}{after}")


def body_around_seq(document: dict[str, Any]) -> tuple[str, str]:
    """The entry's canonical text split where its sequence number goes: canonical JSON sorts
    the keys, and "seq" comes right before "subject", the last key, so the text is
    `before + str(seq) + after` for any seq."""
    text = canonical_text(document)
    after = ',"subject":' + canonical_text(document["subject"]) + "}"
    marker = f'"seq":{document["seq"]}{after}'
    if not text.endswith(marker):
        raise AssertionError("entry documents end with seq and subject")  # pragma: no cover
    return text[: len(text) - len(marker)] + '"seq":', after


@dataclass(frozen=True)
class RowUpdate:
    """An UPDATE of rows of `model` (see muster.core.rows.update) that also sets `seq_field`
    to the sequence number of the entry recording it."""

    model: type[models.Model]
    where: Mapping[str, Any]
    values: Mapping[str, Any]
    seq_field: str
    increment: Sequence[str] = ()


def record_change_and_update(*, actor: Actor, change: Change, update: RowUpdate) -> tuple[int, int]:
    """Append one change and apply the UPDATE that makes it, in the caller's transaction;
    on PostgreSQL both in one statement (one round trip: this is every custody operation's
    last step). Returns the entry's seq and the number of rows updated."""
    if connection.vendor == "postgresql":
        done = _append_and_update(actor, change, update)
        if done is not None:
            return done
    entry = record_change(actor=actor, change=change)
    updated = rows.update(
        update.model,
        where=update.where,
        values={update.seq_field: entry.seq, **update.values},
        increment=update.increment,
    )
    return entry.seq, updated


def _append_and_update(actor: Actor, change: Change, update: RowUpdate) -> tuple[int, int] | None:
    """record_change_and_update in one statement; None when the head row is still to be made."""
    _require_transaction()
    column = update.model._meta.get_field(update.seq_field).column  # type: ignore[union-attr]
    sql, params = rows.update_statement(
        update.model,
        where=update.where,
        values=update.values,
        increment=update.increment,
        set_sql=[f'"{column}" = (SELECT seq FROM entry)'],
        where_sql=["EXISTS (SELECT 1 FROM entry)"],
    )
    values, _ = _entry_values(actor, change)
    with rows.cursor() as cursor:
        cursor.execute(
            f"WITH {_HEAD_CTE}, entry AS ({_INSERT_FROM_HEAD}), moved AS ({sql} RETURNING 1) "
            "SELECT (SELECT seq FROM entry), (SELECT count(*) FROM moved)",
            [*values, *params],
        )
        seq, updated = cursor.fetchone()
    return None if seq is None else (int(seq), int(updated))


def record_change(*, actor: Actor, change: Change) -> JournalEntry:
    """Append one change and return its entry; see record_changes."""
    appended = _append_one(actor, change) if connection.vendor == "postgresql" else None
    if appended is None:
        written, now = _append(actor, [change])
        appended = written[0]
    seq, now, label, kind, subject_type, subject_id, body = appended
    return JournalEntry(
        seq=seq, recorded_at=now, actor=label, kind=kind, subject_type=subject_type,
        subject_id=subject_id, body=body,
    )  # fmt: skip
