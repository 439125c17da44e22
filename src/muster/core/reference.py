"""Reference data kept in memory while a database trigger says it is unchanged.

Every custody operation looks up the same slowly-changing facts: the unit tree, who holds which
role where, the policy versions, the sites and the catalogue. Reading them with every operation
costs more than the operation itself. Instead, each table holding such facts carries a trigger
(installed by the `StampOnChange` migration operation) that replaces the single `ReferenceStamp`
row's stamp with a fresh random value in the same transaction as the change. A reader checks
the stamp (one indexed single-row read) and reuses what it read under the same stamp.

Why this is safe:
- the trigger is in the database, so no writer can change reference data without a new stamp,
  whether through a service, the admin or plain SQL;
- stamps are random, never counters: a rolled-back change restores the old stamp together with
  the old data, and a later change can never produce a stamp that was seen before;
- the stamp is read before the data, so data loaded under a stamp is at least as new as it;
- without the row (a database emptied by a test's flush) nothing is reused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connection

from muster.core import rows
from muster.core.models import ReferenceStamp
from muster.core.triggers import TableTriggers

T = TypeVar("T")

_TABLE = ReferenceStamp._meta.db_table

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION muster_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "{_TABLE}" (id, stamp) VALUES (1, gen_random_uuid()::text)
    ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp;
    RETURN NULL;
END
$$;
"""

SQLITE_RESTAMP = (
    f'INSERT INTO "{_TABLE}" (id, stamp) VALUES (1, lower(hex(randomblob(16)))) '
    "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp;"
)

SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")


def create_sql(vendor: str, table: str) -> list[str]:
    """Statements that make every change to `table` replace the reference stamp."""
    if vendor == "postgresql":
        return [
            PG_FUNCTION,
            f'CREATE TRIGGER "{table}_restamp" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
            f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION muster_restamp();',
        ]
    if vendor == "sqlite":
        return [
            f'CREATE TRIGGER "{table}_restamp_{event.lower()}" AFTER {event} ON "{table}" '
            f"BEGIN {SQLITE_RESTAMP} END;"
            for event in SQLITE_EVENTS
        ]
    raise NotImplementedError(f"reference stamp triggers are not written for {vendor}")


def drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f'DROP TRIGGER IF EXISTS "{table}_restamp" ON "{table}";']
    if vendor == "sqlite":
        return [
            f'DROP TRIGGER IF EXISTS "{table}_restamp_{event.lower()}";' for event in SQLITE_EVENTS
        ]
    raise NotImplementedError(f"reference stamp triggers are not written for {vendor}")


class StampOnChange(TableTriggers):
    """Migration operation: every change to one model's table replaces the reference stamp."""

    def create_sql(self, vendor: str, table: str) -> list[str]:
        return create_sql(vendor, table)

    def drop_sql(self, vendor: str, table: str) -> list[str]:
        return drop_sql(vendor, table)

    def describe(self) -> str:
        return f"Replace the reference stamp on every change to {self.model_name}"


# The stamp as a scalar subquery, for reading it in the same statement as something else.
STAMP_SQL = f'(SELECT stamp FROM "{_TABLE}" WHERE id = 1)'

# Passed as `stamp` when it is yet to be read.
UNREAD = ""


def current_stamp() -> str | None:
    """The reference stamp as this transaction sees it (None when the row is missing)."""
    with rows.cursor() as cursor:
        cursor.execute(f"SELECT {STAMP_SQL}")
        row = cursor.fetchone()
    return None if row is None or row[0] is None else str(row[0])


class StampedCache(Generic[T]):
    """One value built from reference data, per database alias, kept while the stamp holds.

    `get()` reads the stamp and returns the value built under it, or builds it again with
    `load` (outside any lock: two threads may both build; either result is right); with
    `fresh`, it builds again anyway. A caller that read the stamp itself (with STAMP_SQL, in
    the same statement as other work) passes it as `stamp`. The value
    must not be changed by its users: threads share it."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._held: dict[str, tuple[str, T]] = {}
        self._lock = threading.Lock()

    def get(self, *, fresh: bool = False, stamp: str | None = UNREAD) -> T:
        if stamp == UNREAD:
            stamp = current_stamp()
        alias = connection.alias
        held = self._held.get(alias)
        if not fresh and stamp is not None and held is not None and held[0] == stamp:
            return held[1]
        value = self._load()
        if stamp is not None:
            with self._lock:
                self._held[alias] = (stamp, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
