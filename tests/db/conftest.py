"""A small organisation to test against: one region with a battalion and a company."""

from __future__ import annotations

import datetime as dt

import pytest

from muster.people.services import NewPerson, create_unit, register_person


@pytest.fixture
def org(db, actor):
    region = create_unit(
        actor=actor, code="R1", name="Northern Region", kind="region", jurisdiction="national"
    )
    battalion = create_unit(
        actor=actor, code="R1-B1", name="1st Battalion", kind="battalion", parent=region
    )
    company = create_unit(
        actor=actor, code="R1-B1-C1", name="A Company", kind="company", parent=battalion
    )
    other = create_unit(
        actor=actor, code="R2", name="Southern Region", kind="region", jurisdiction="national"
    )
    return {"region": region, "battalion": battalion, "company": company, "other_region": other}


@pytest.fixture
def make_person(org, actor):
    counter = iter(range(1, 10_000))

    def make(**overrides):
        n = next(counter)
        fields = {
            "national_id": f"ID{n:06d}",
            "family_name": "Koval",
            "given_name": f"Petro{n}",
            "unit": org["company"],
            "status": "active",
            "joined_on": dt.date(2024, 3, 1),
            "birth_date": dt.date(1985, 6, 15),
        }
        fields.update(overrides)
        return register_person(actor=actor, person=NewPerson(**fields))

    return make


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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow (~0.2 s a hash); tests that make many users use a fast
    hasher. test_accounts checks that the configured hasher is Argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
