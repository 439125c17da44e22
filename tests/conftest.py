"""Shared fixtures. Database tests run on whichever engine MUSTER_DATABASE_URL names;
`make test` runs the suite once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

# The worlds the database and browser tests build (tests/worlds.py).
pytest_plugins = ["worlds"]


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"muster database engine: {engine} (expected: {os.environ.get('MUSTER_TEST_ENGINE', 'any')})"


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request in Russian leaves Russian active in its thread (the test client runs views
    in the test's thread): every test starts in the default language whatever ran before."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def actor():
    from muster.core.actors import Actor

    return Actor.system("tests")


@pytest.fixture
def today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()


@pytest.fixture(scope="session", autouse=True)
def _test_flush_lifts_append_only_triggers():
    """Between transactional tests Django empties every table, which the append-only triggers
    rightly refuse. For the test database only, flushing drops the triggers, empties the
    tables and puts the triggers back, in one transaction."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from muster.core.append_only import MakeAppendOnly, create_sql, drop_sql

    loader = MigrationLoader(None, ignore_no_migrations=True)
    models = loader.project_state().apps
    history_tables: dict[str, bool] = {}
    for (app_label, _), migration in loader.disk_migrations.items():
        for operation in migration.operations:
            if isinstance(operation, MakeAppendOnly):
                try:
                    model = models.get_model(app_label, operation.model_name)
                except LookupError:  # a table a later migration replaced
                    continue
                history_tables[model._meta.db_table] = operation.allow_update

    ops_class = type(connection.ops)
    original = ops_class.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        guarded = sorted(set(history_tables) & set(tables))
        vendor = self.connection.vendor
        lift = [s for table in guarded for s in drop_sql(vendor, table)]
        restore = [
            s
            for table in guarded
            for s in create_sql(vendor, table, allow_update=history_tables[table])
        ]
        return [*lift, *statements, *restore]

    ops_class.sql_flush = sql_flush
    yield
    ops_class.sql_flush = original


@pytest.fixture(scope="session", autouse=True)
def _static_root_exists():
    """WhiteNoise warns on every request when STATIC_ROOT is missing; a served site has it
    (`muster serve` collects the static files there), so the tests make it too."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
