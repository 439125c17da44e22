"""Plain-SQL reads and writes of model rows, for the few hot paths where the ORM's query
building costs more than the database (a custody operation: the ORM took about 0.5 ms to build
a one-table SELECT that SQLite answered in 0.04 ms).

Rows come back as ordinary model instances, with the ORM's own converters applied to every
column (aware datetimes, dates, JSON), so callers cannot tell them apart from ORM reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.utils import CursorWrapper
from django.db.models.expressions import Col

M = TypeVar("M", bound=models.Model)


@cache
def _prepared_cursor_class() -> type[Any]:
    import psycopg

    class PreparedCursor(psycopg.Cursor):
        """Binds parameters on the server and prepares every statement: the hot statements
        are the same few thousands of times, and parsing and planning them each time cost
        about a third of an operation on PostgreSQL."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)

    return PreparedCursor


@contextmanager
def cursor() -> Iterator[CursorWrapper]:
    """A cursor for the hot paths' plain SQL, in the current transaction. On PostgreSQL its
    statements are prepared once per connection (Django's own cursors bind on the client and
    never prepare, so that connection poolers work; these statements use only the session's
    own prepared statements, which a pooler in session mode keeps). Errors and query logging
    go through Django's wrapper as for any other cursor."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        with db.cursor() as plain:
            yield plain
        return
    db.ensure_connection()
    with CursorWrapper(_prepared_cursor_class()(db.connection), db) as prepared:
        yield prepared


Converter = Any


@cache
def _columns(model: type[models.Model]) -> tuple[tuple[str, ...], str]:
    """(attribute names, quoted column list) of the model's concrete fields, in order."""
    fields = model._meta.concrete_fields
    names = tuple(f.attname for f in fields)
    quoted = ", ".join(f'"{model._meta.db_table}"."{f.column}"' for f in fields)
    return names, quoted


@cache
def _converters(
    model: type[models.Model], vendor: str
) -> tuple[tuple[int, list[Converter], Col], ...]:
    """For each column that needs one: its index, the backend's and the field's converters
    (what the ORM's compiler applies to the same column), and the column expression."""
    found = []
    table = model._meta.db_table
    for index, field in enumerate(model._meta.concrete_fields):
        col = field.get_col(table)
        chain = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if chain:
            found.append((index, chain, col))
    return tuple(found)


def instances(model: type[M], rows: Sequence[Sequence[Any]]) -> list[M]:
    """Model instances from rows selected with `select_list(model)`."""
    return [build(model, values) for values in converted(model, rows)]


def converted(model: type[models.Model], rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """Rows selected with `select_list(model)`, each column as the ORM would give it."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` is a context-local lookup
    converters = _converters(model, db.vendor)
    if not converters:
        return list(rows)
    done: list[Sequence[Any]] = []
    for row in rows:
        values = list(row)
        for index, chain, col in converters:
            value = values[index]
            for convert in chain:
                value = convert(value, col, db)
            values[index] = value
        done.append(values)
    return done


def build(model: type[M], values: Sequence[Any]) -> M:
    """One instance from converted values (see `converted`)."""
    return model.from_db(DEFAULT_DB_ALIAS, _columns(model)[0], values)


def select_list(model: type[models.Model]) -> str:
    """The quoted columns of every concrete field, in the order `instances` expects."""
    return _columns(model)[1]


def select_statement(
    model: type[models.Model],
    where: str,
    params: Sequence[Any],
    *,
    order_by: str = "id",
    lock: bool = False,
) -> tuple[str, list[Any]]:
    """SELECT every column of `model` WHERE `where` (plain SQL over its table), ordered; with
    `lock`, FOR UPDATE on databases with row locks (SQLite's writer already excludes others).
    Run it with `batch`; `instances` makes the rows into model instances."""
    table = model._meta.db_table
    sql = f'SELECT {select_list(model)} FROM "{table}" WHERE {where} ORDER BY "{order_by}"'
    if lock and connection.vendor != "sqlite":
        sql += " FOR UPDATE"
    return sql, list(params)


def update(
    model: type[models.Model],
    *,
    where: Mapping[str, Any],
    values: Mapping[str, Any],
    increment: Sequence[str] = (),
) -> int:
    """UPDATE one table: set `values` (field names; a related instance stands for its key),
    add one to each field in `increment`, where every field in `where` equals its value.
    Values go through each field's own preparation, as the ORM's update does. Returns the
    number of rows changed."""
    with cursor() as changed:
        changed.execute(*update_statement(model, where=where, values=values, increment=increment))
        return int(changed.rowcount)


def update_statement(
    model: type[models.Model],
    *,
    where: Mapping[str, Any],
    values: Mapping[str, Any],
    increment: Sequence[str] = (),
    set_sql: Sequence[str] = (),
    where_sql: Sequence[str] = (),
) -> tuple[str, list[Any]]:
    """The statement `update` runs, for sending with others (see `batch`); `set_sql` and
    `where_sql` add assignments and conditions written in SQL (without parameters)."""
    sql, targets = _update_statement(
        model, tuple(values), tuple(increment), tuple(where), tuple(set_sql), tuple(where_sql)
    )
    db = connections[DEFAULT_DB_ALIAS]
    params = [
        target.get_db_prep_save(value.pk if isinstance(value, models.Model) else value, db)
        for target, value in zip(targets, values.values(), strict=True)
    ]
    params.extend(where.values())
    return sql, params


@cache
def _update_statement(
    model: type[models.Model],
    names: tuple[str, ...],
    increment: tuple[str, ...],
    where: tuple[str, ...],
    set_sql: tuple[str, ...],
    where_sql: tuple[str, ...],
) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE for this shape of call, and the field preparing each value (for a relation,
    its target's, since the value is a key)."""
    meta = model._meta
    fields: list[Any] = [meta.get_field(name) for name in names]
    assignments = [f'"{field.column}" = %s' for field in fields]
    for name in increment:
        column = meta.get_field(name).column  # type: ignore[union-attr]
        assignments.append(f'"{column}" = "{column}" + 1')
    assignments.extend(set_sql)
    conditions = [f'"{meta.get_field(name).column}" = %s' for name in where]  # type: ignore[union-attr]
    conditions.extend(where_sql)
    sql = f'UPDATE "{meta.db_table}" SET {", ".join(assignments)} WHERE {" AND ".join(conditions)}'
    return sql, tuple(f.target_field if f.is_relation else f for f in fields)


def batch(statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """Run `statements` in order, in the current transaction; for each, its rows (when it
    returns any) or its row count. On PostgreSQL they go to the server together (pipeline
    mode: one round trip, and a transaction's BEGIN travels with them); the server still runs
    them one after another, so each statement sees what the ones before it did and waited
    for (a read after a lock reads what the lock's holder committed)."""
    db = connections[DEFAULT_DB_ALIAS]
    results: list[Any] = []
    if db.vendor != "postgresql":
        with db.cursor() as plain:
            for sql, params in statements:
                plain.execute(sql, list(params))
                results.append(plain.fetchall() if plain.description else plain.rowcount)
        return results
    db.ensure_connection()
    raw = db.connection
    sent = []
    with db.wrap_database_errors, raw.pipeline():
        for sql, params in statements:
            prepared = CursorWrapper(_prepared_cursor_class()(raw), db)
            prepared.execute(sql, list(params))
            sent.append(prepared)
    for prepared in sent:
        results.append(prepared.fetchall() if prepared.description else prepared.rowcount)
        prepared.close()
    return results
