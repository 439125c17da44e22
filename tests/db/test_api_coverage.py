"""Every operation of the API is walked by a role × endpoint matrix: each role's answer to it
is asserted somewhere (tests/db/armory/test_api.py, tests/db/armory/test_api_stock.py,
tests/db/test_api_admin.py), so no operation goes unchecked for who may call it."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction

from muster.api.api import api

# The armory's matrices live beside their worlds, in tests/db/armory.
sys.path.insert(0, str(Path(__file__).resolve().parent / "armory"))
test_api = importlib.import_module("test_api")
test_api_stock = importlib.import_module("test_api_stock")
test_api_admin = importlib.import_module("test_api_admin")

# Each matrix's world, as its own module builds it (the stock world is built on test_api's).
two_regions = test_api.world
stock_world = test_api_stock.stock_world
admin_world = test_api_admin.world

API = "/api/v1"


def _calls(endpoints: Iterable[tuple[str, str, str, object]]) -> set[tuple[str, str]]:
    return {(method.lower(), path.split("?")[0]) for _name, method, path, _body in endpoints}


def _walked(template: str, method: str, calls: set[tuple[str, str]]) -> bool:
    pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
    return any(m == method and re.fullmatch(pattern, path) for m, path in calls)


def test_every_operation_is_in_a_role_matrix(request, armory, org, rifleman, make_person):
    # Each world is built on the same armory; the admin world and what test_api's endpoints
    # set up are rolled back, so that the next world starts from the armory alone.
    with transaction.atomic():
        calls = _calls(test_api_admin.endpoints(request.getfixturevalue("admin_world"), "hq"))
        transaction.set_rollback(True)
    regions = request.getfixturevalue("two_regions")
    with transaction.atomic():
        calls |= _calls(test_api.endpoints(regions))
        transaction.set_rollback(True)
    calls |= _calls(test_api_stock.stock_endpoints(request.getfixturevalue("stock_world")))
    unwalked = [
        f"{method.upper()} {path} ({operation['operationId']})"
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method, operation in operations.items()
        if not _walked(path.removeprefix(API), method, calls)
    ]
    assert not unwalked, "operations in no role × endpoint matrix:\n" + "\n".join(unwalked)
