"""Values the dashboard keeps between requests while nothing they read has changed.

Where the database stands is read in one statement per request (`Marker`): the reference stamp
(muster.core.reference), the journal's size and the time of its last entry. Every service
writes its journal entry in the same transaction as its rows, so the entries appended since a
value was made say what may have changed (`changes_between`); the time of the last entry tells
a journal that merely reached the same size again (a restored or another database) from the
one a value was made from.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from django.db import connection
from django.utils import timezone

from muster.core.reference import STAMP_SQL
from muster.journal.models import JournalEntry, JournalHead

T = TypeVar("T")

MAX_AGE = dt.timedelta(minutes=10)
"""The longest a kept value is used: writes that bypass the services (SQL) leave no entry."""

# Journal kinds that change no number of the dashboard: reading a record, accounts, the log.
BOOKKEEPING = (
    "person.viewed", "user.", "token.", "log.", "witness.", "journal.",
    # duties, alerts and allocation plans change no member, qualification or custody
    "duty.", "alert.", "plan.",
)  # fmt: skip
# ...and those that cannot change who is vetted or eligible: the armory's.
ARMORY = (
    "ammunition.", "category.", "count.", "custody.", "incident.", "kit.", "lot.", "model.",
    "shipment.", "site.", "transfer.", "variance.",
)  # fmt: skip


@dataclass(frozen=True)
class Marker:
    """Where the database stands: the reference stamp, the journal's size and the time of its
    last entry, read together."""

    alias: str
    stamp: str | None
    size: int
    last_at: str | None = None

    def same_journal(self, earlier: Marker) -> bool:
        """Whether this journal can be `earlier`'s grown by appends: the same database, at
        least as long, and (at the same size) ending with the same entry."""
        if self.alias != earlier.alias:
            return False
        if self.size < earlier.size:
            return False
        return self.size != earlier.size or self.last_at == earlier.last_at


def read_marker() -> Marker:
    """The marker, in one statement (read before the data, so data is at least as new)."""
    head = JournalHead._meta.db_table
    journal = JournalEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT {STAMP_SQL}, h.size, (SELECT recorded_at FROM "{journal}" '
            f'WHERE seq = h.size - 1) FROM (SELECT size FROM "{head}" WHERE id = 1) h'
        )
        row = cursor.fetchone()
        if row is None:  # no head row yet: an empty journal
            cursor.execute(f"SELECT {STAMP_SQL}")
            found = cursor.fetchone()
            row = (found[0] if found else None, 0, None)
    stamp, size, last_at = row
    return Marker(
        connection.alias,
        None if stamp is None else str(stamp),
        int(size or 0),
        None if last_at is None else str(last_at),
    )


@dataclass(frozen=True)
class Changes:
    """What the journal entries start..end-1 name: the people (entries about a person), the
    items (entries about an item) and every kind."""

    kinds: frozenset[str]
    people: frozenset[int] = field(default_factory=frozenset)
    items: frozenset[int] = field(default_factory=frozenset)

    def only(self, harmless: tuple[str, ...]) -> bool:
        """Whether every kind starts with one of `harmless`."""
        return all(kind.startswith(harmless) for kind in self.kinds)


def changes_between(start: int, end: int) -> Changes:
    """The kinds and subjects of the journal entries start..end-1 (a range read of the key)."""
    kinds: set[str] = set()
    people: set[int] = set()
    items: set[int] = set()
    rows = (
        JournalEntry.objects.filter(seq__gte=start, seq__lt=end)
        .order_by()
        .values_list("kind", "subject_type", "subject_id")
        .distinct()
    )
    for kind, subject_type, subject_id in rows:
        kinds.add(kind)
        if subject_type == "person" and subject_id.isdigit():
            people.add(int(subject_id))
        elif subject_type == "item" and subject_id.isdigit():
            items.add(int(subject_id))
    return Changes(frozenset(kinds), frozenset(people), frozenset(items))


def kinds_between(start: int, end: int) -> frozenset[str]:
    """The kinds of the journal entries start..end-1 (one range read of the primary key)."""
    return frozenset(
        JournalEntry.objects.filter(seq__gte=start, seq__lt=end)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class _Held(Generic[T]):
    value: T
    marker: Marker
    made_at: dt.datetime
    until: dt.datetime


class Kept(Generic[T]):
    """Values kept per key while the marker holds, or moved only by journal entries whose kinds
    start with one of `unrelated`; and until the date changes, `MAX_AGE` passes or the time
    the builder gave (a checkout falling due). Without a reference stamp nothing is kept."""

    def __init__(self, unrelated: tuple[str, ...]) -> None:
        self.unrelated = unrelated
        self._held: dict[Hashable, _Held[T]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        marker: Marker,
        now: dt.datetime,
        build: Callable[[], tuple[T, dt.datetime | None]],
    ) -> T:
        held = self._held.get(key)
        if held is not None and self._still(held, marker, now):
            if held.marker != marker:
                with self._lock:
                    self._held[key] = replace(held, marker=marker)
            return held.value
        value, until = build()
        if marker.stamp is not None:
            ends = now + MAX_AGE if until is None else min(until, now + MAX_AGE)
            with self._lock:
                self._held[key] = _Held(value, marker, now, ends)
        return value

    def _still(self, held: _Held[T], marker: Marker, now: dt.datetime) -> bool:
        if (held.marker.alias, held.marker.stamp) != (marker.alias, marker.stamp):
            return False
        if not held.made_at <= now <= held.until:
            return False
        if timezone.localdate(now) != timezone.localdate(held.made_at):
            return False
        if not marker.same_journal(held.marker):
            return False
        if held.marker.size == marker.size:
            return True
        kinds = kinds_between(held.marker.size, marker.size)
        return all(kind.startswith(self.unrelated) for kind in kinds)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
