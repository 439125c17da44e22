"""The NinjaAPI behind /api/v1/: authentication, the error shape, and the routers by area.

OpenAPI schema at /api/v1/openapi.json, interactive docs at /api/v1/docs (Swagger UI served
from ninja's own static files, so it works without a network)."""

from __future__ import annotations

from ninja import NinjaAPI

from muster.api import (
    alerts,
    ammunition,
    armory,
    catalogue,
    counts,
    documents,
    duties,
    emergency,
    imports,
    kits,
    log,
    movements,
    people,
    planning,
    policies,
    units_accounts,
)
from muster.api.auth import SessionAuth, TokenAuth
from muster.api.errors import register_handlers

DESCRIPTION = """\
Muster's REST API: the registry, vetting and eligibility, custody of controlled equipment,
inventory counts and incidents, duties, alerts, policy simulation and allocation plans,
imports, documents and the transparency log.

**Authentication**: an API token (`Authorization: Bearer <token>`), or the browser's signed-in
session (unsafe methods then need the `X-CSRFToken` header). Every call sees and may do only
what the caller's roles allow: a record outside their scope is 404, an action their roles do
not give is 403.

**Errors** are JSON `{"code", "message", "field", "problems": [{"record", "field", "rule",
"value"}]}` with a stable code: `invalid` 400, `unauthenticated` 401, `forbidden` 403,
`not_found` 404, `conflict` 409. A refusal by policy (e.g. an issue to someone not eligible) is
422 with code `refused`, the `decision` and its `reasons`.
"""


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Muster API",
        version="1",
        description=DESCRIPTION,
        urls_namespace="api-v1",
        auth=[TokenAuth(), SessionAuth()],
    )
    register_handlers(api)
    # POST /units is on people.router (muster.api.units_accounts says why).
    for module in (
        people,
        armory,
        counts,
        movements,
        ammunition,
        kits,
        emergency,
        catalogue,
        units_accounts,
        policies,
        imports,
        log,
        documents,
        duties,
        alerts,
        planning,
    ):
        api.add_router("/", module.router)
    return api


api = build_api()
