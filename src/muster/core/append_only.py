"""Database triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on history.

The application never changes history, so these fire only when something goes around it;
they make the database the last line of defence for "nothing is ever deleted".
"""

from __future__ import annotations

from typing import Any

from muster.core.triggers import TableTriggers

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION muster_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
"""


def create_sql(vendor: str, table: str, *, allow_update: bool = False) -> list[str]:
    """Statements that make `table` append-only on this database vendor (or, with
    allow_update, undeletable: current-state rows that change but never go away)."""
    if vendor == "postgresql":
        events = "DELETE" if allow_update else "UPDATE OR DELETE"
        return [
            PG_FUNCTION,
            f'CREATE TRIGGER "{table}_append_only" BEFORE {events} ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION muster_refuse_change();",
            f'CREATE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION muster_refuse_change();",
        ]
    if vendor == "sqlite":
        statements = [
            f'CREATE TRIGGER "{table}_no_delete" BEFORE DELETE ON "{table}" BEGIN '
            f"SELECT RAISE(ABORT, 'table {table} is append-only: DELETE refused'); END;",
        ]
        if not allow_update:
            statements.append(
                f'CREATE TRIGGER "{table}_no_update" BEFORE UPDATE ON "{table}" BEGIN '
                f"SELECT RAISE(ABORT, 'table {table} is append-only: UPDATE refused'); END;"
            )
        return statements
    raise NotImplementedError(f"append-only triggers are not written for {vendor}")


def drop_sql(vendor: str, table: str) -> list[str]:
    """Statements that remove the triggers again (migrations backwards; tamper tests)."""
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}";',
            f'DROP TRIGGER IF EXISTS "{table}_no_truncate" ON "{table}";',
        ]
    if vendor == "sqlite":
        return [
            f'DROP TRIGGER IF EXISTS "{table}_no_update";',
            f'DROP TRIGGER IF EXISTS "{table}_no_delete";',
        ]
    raise NotImplementedError(f"append-only triggers are not written for {vendor}")


class MakeAppendOnly(TableTriggers):
    """Migration operation: install the append-only triggers on one model's table."""

    def __init__(self, model_name: str, allow_update: bool = False) -> None:
        super().__init__(model_name)
        self.allow_update = allow_update

    def create_sql(self, vendor: str, table: str) -> list[str]:
        return create_sql(vendor, table, allow_update=self.allow_update)

    def drop_sql(self, vendor: str, table: str) -> list[str]:
        return drop_sql(vendor, table)

    def describe(self) -> str:
        return f"Make {self.model_name} append-only"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [self.model_name], {"allow_update": self.allow_update})
