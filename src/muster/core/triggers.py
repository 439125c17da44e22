"""The migration operation both kinds of trigger Muster installs are built on: statements
to create on one model's table going forwards, and to drop going backwards."""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation


class TableTriggers(Operation):
    """Install triggers on one model's table; subclasses say which (create_sql, drop_sql)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def create_sql(self, vendor: str, table: str) -> list[str]:
        raise NotImplementedError

    def drop_sql(self, vendor: str, table: str) -> list[str]:
        raise NotImplementedError

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _table(self, app_label: str, state: Any) -> str:
        return str(state.apps.get_model(app_label, self.model_name)._meta.db_table)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        table = self._table(app_label, to_state)
        for statement in self.create_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(statement, params=None)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        table = self._table(app_label, from_state)
        for statement in self.drop_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(statement, params=None)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [self.model_name], {})
