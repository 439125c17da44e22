"""The suite proves which database it ran on, so a skipped PostgreSQL run cannot pass for one."""

import os

from django.db import connection


def test_suite_runs_on_the_engine_it_was_asked_for(db):
    expected = os.environ.get("MUSTER_TEST_ENGINE", "sqlite")
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if expected == "sqlite" else "SELECT version()")
        (version,) = cursor.fetchone()
    assert version  # the server itself answered
