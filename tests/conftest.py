"""Shared fixtures. Database tests run on whichever engine MUSTER_DATABASE_URL names;
`make test` runs the suite once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os

import pytest


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"muster database engine: {engine} (expected: {os.environ.get('MUSTER_TEST_ENGINE', 'any')})"


@pytest.fixture
def actor():
    from muster.core.actors import Actor

    return Actor.system("tests")


@pytest.fixture
def today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()
