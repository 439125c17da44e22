"""Bulk inserts for the large imports (100,000 people, 400,000 records, 100,000 items).

Django's bulk_create compiles every row through the ORM, which costs several times more than
the database does here. These two helpers do the same inserts with one prepared statement:
ids are allocated first (so callers can journal them), values adapted per column once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from typing import Any

from django.db import connection, models

from muster.core.rows import cursor as one_row_cursor

Adapter = Callable[[Any], Any]
# Below this many rows a plain INSERT is cheaper than setting up a COPY.
COPY_FROM = 20


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for `model`'s table, inside the caller's transaction."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: writers are serialised from BEGIN (IMMEDIATE), so no one else can take these
        # numbers before we commit; sqlite_sequence remembers ids even of rolled-back rows.
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
    return list(range(start, start + count))


def _adapter(field: models.Field[Any, Any]) -> Adapter | None:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return lambda value: None if value is None else json.dumps(value, ensure_ascii=False)
    return None


@cache
def _insert_columns(
    model: type[models.Model], fields: tuple[str, ...], vendor: str
) -> tuple[str, tuple[tuple[int, Adapter], ...]]:
    """The quoted column list for `fields`, and the adapter of each column that needs one."""
    meta = model._meta
    columns = []
    converting = []
    for index, name in enumerate(fields):
        field = meta.get_field(name)  # attribute names such as person_id resolve too
        columns.append(f'"{field.column}"')  # type: ignore[union-attr]
        adapt = _adapter(field)  # type: ignore[arg-type]
        if adapt is not None:
            converting.append((index, adapt))
    return ", ".join(columns), tuple(converting)


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert `rows` (values in the order of `fields`, attribute names such as `person_id`).
    Returns the number of rows. Many rows on PostgreSQL go by COPY (one stream, no statement
    per row); otherwise one prepared statement runs for every row."""
    meta = model._meta
    quoted, converting = _insert_columns(model, tuple(fields), connection.vendor)
    columns = quoted.split(", ")

    def adapted() -> Iterator[Sequence[Any]]:
        for row in rows:
            if converting:
                values = list(row)
                for index, adapt in converting:
                    values[index] = adapt(values[index])
                row = values
            yield row

    batch_rows = rows if isinstance(rows, list) else list(rows)
    rows = batch_rows
    total = 0
    if len(batch_rows) == 1:  # one statement, one round trip (executemany may take more)
        placeholders = ", ".join(["%s"] * len(columns))
        with one_row_cursor() as single:
            single.execute(
                f'INSERT INTO "{meta.db_table}" ({quoted}) VALUES ({placeholders})',
                list(next(adapted())),
            )
        return 1
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(batch_rows) > COPY_FROM:
            with cursor.cursor.copy(f'COPY "{meta.db_table}" ({quoted}) FROM STDIN') as copy:
                for row in adapted():
                    copy.write_row(row)
                    total += 1
            return total
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f'INSERT INTO "{meta.db_table}" ({quoted}) VALUES ({placeholders})'
        batch: list[Sequence[Any]] = []
        for row in adapted():
            batch.append(row)
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            total += len(batch)
    return total
