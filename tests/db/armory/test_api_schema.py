"""The API's published contract: the OpenAPI schema and offline docs, and a bounded
schemathesis run over every operation (no 500s, every response as the schema says)."""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.accounts.tokens import create_token
from muster.config.wsgi import application
from muster.core.actors import Actor

SCHEMA = "/api/v1/openapi.json"


def test_the_schema_documents_every_operation_and_its_errors(db):
    schema = Client().get(SCHEMA).json()
    assert schema["info"]["title"] == "Muster API"
    assert {"/api/v1/people", "/api/v1/items", "/api/v1/custody/issue", "/api/v1/counts"} <= set(
        schema["paths"]
    )
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401", "403", "404"} <= set(operation["responses"]), (method, path)
    issue = schema["paths"]["/api/v1/custody/issue"]["post"]["responses"]
    assert issue["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/RefusalOut")


def test_the_docs_work_offline(db):
    page = Client().get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "https://" not in html and "http://" not in html
    # …and the assets are there to be served (collectstatic finds them).
    assert finders.find("ninja/swagger-ui-bundle.js")


@pytest.fixture
def hq_token(armory, rifleman, actor):
    """A small world (one region's armory, a vetted rifleman) and an HQ user's token."""
    user = User.objects.create_user(username="hq", password="correct horse battery staple")
    grant_role(actor=actor, username="hq", role="hq_staff", unit=None)
    _, raw = create_token(actor=Actor.for_user(user), user=user, name="schemathesis")
    return raw


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Called through WSGI (not Django's test client), each request would close the database
    connection at its end, and with it the test's transaction: Django's client disconnects
    these handlers too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded when the module is collected (the schema needs no database); schemathesis 4.32's
# lazy `from_fixture` loader does not run under pytest 9 (it reads Function._nodeid).
schema = schemathesis.openapi.from_wsgi(SCHEMA, application)


@schema.parametrize()
@settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_contract(case, hq_token, wsgi_keeps_the_test_connection):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {hq_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
