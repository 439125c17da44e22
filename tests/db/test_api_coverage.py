"""Every operation of the API is walked by a role × endpoint matrix: each role's answer to it
is asserted somewhere (MATRICES), so no operation goes unchecked for who may call it.

A matrix is one line of MATRICES: the module (of a folder under tests/db, imported by name as
its own tests import it) whose `endpoints` lists the calls the matrix walks, given the world
its fixture builds, and the modules whose fixtures that world is built by (the folder's world
module, or its conftest). Those fixtures become this module's, under their own names, and
the world's fixture under a name of its matrix's, so that each matrix builds a world of its
own."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _pytest.fixtures import getfixturemarker
from django.db import transaction

from muster.api.api import api

HERE = Path(__file__).resolve().parent
API = "/api/v1"
Calls = Iterable[tuple[str, str, str, Any]]  # (name, method, path under /api/v1, body)


def _module(folder: str, name: str) -> ModuleType:
    """The module `name` of tests/db/`folder`, its folder on the path; a conftest (a name
    every folder's shares) is loaded from its file under a name of its own."""
    path = HERE / folder
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    if name != "conftest":
        return importlib.import_module(name)
    unique = f"conftest_of_{path.name}"
    if unique not in sys.modules:
        spec = importlib.util.spec_from_file_location(unique, path / "conftest.py")
        assert spec is not None and spec.loader is not None
        sys.modules[unique] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[unique]


@dataclass(frozen=True)
class Matrix:
    """`module` (of the folder `folder`) lists the calls of its matrix with its function
    `endpoints`, given the world the fixture `world` builds (and `args`); `builds` names the
    modules of the folder whose fixtures the world is built by (beyond tests/worlds.py's)."""

    folder: str
    module: str
    world: str
    endpoints: str = "endpoints"
    args: tuple[str, ...] = ()
    builds: tuple[str, ...] = ()

    @property
    def fixture(self) -> str:
        """The name the world's fixture has here."""
        return f"{self.module}__{self.world}"

    def calls(self, world: Any) -> Calls:
        return getattr(_module(self.folder, self.module), self.endpoints)(world, *self.args)

    def fixtures(self) -> dict[str, Any]:
        """The fixtures the world is built by, by name, and the world's own."""
        found: dict[str, Any] = {}
        for name in self.builds:
            module = vars(_module(self.folder, name))
            found.update((k, v) for k, v in module.items() if getfixturemarker(v) is not None)
        module = _module(self.folder, self.module)
        found[self.fixture] = getattr(module, self.world, None) or found[self.world]
        return found


MATRICES = (
    Matrix(".", "test_api_admin", "world", args=("hq",)),
    Matrix("armory", "test_api", "world"),
    # On two regions of test_api's, its own (`two_regions`).
    Matrix(
        "armory", "test_api_stock", "stock_world", "stock_endpoints", builds=("test_api_stock",)
    ),
    Matrix("alerts", "test_alert_api", "alerts", builds=("alert_world",)),
    Matrix("planning", "test_planning_api", "planned", builds=("planning_world",)),
    Matrix("duties", "test_duty_api", "role_world", builds=("conftest",)),
)


def _expose(matrices: Iterable[Matrix]) -> None:
    """Make the matrices' fixtures this module's; two of them under one name is an error."""
    namespace = globals()
    for matrix in matrices:
        for name, fixture in matrix.fixtures().items():
            if namespace.setdefault(name, fixture) is not fixture:
                raise ImportError(f"{matrix.module}: a fixture {name} is here already")


_expose(MATRICES)


def _calls(endpoints: Calls) -> set[tuple[str, str]]:
    return {(method.lower(), path.split("?")[0]) for _name, method, path, _body in endpoints}


def _walked(template: str, method: str, calls: set[tuple[str, str]]) -> bool:
    pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
    return any(m == method and re.fullmatch(pattern, path) for m, path in calls)


def test_every_operation_is_in_a_role_matrix(request, armory, org, rifleman, make_person):
    # Each world is built on the same armory, in a transaction rolled back with what its
    # endpoints set up, so that the next world starts from the armory alone.
    calls: set[tuple[str, str]] = set()
    for matrix in MATRICES:
        with transaction.atomic():
            calls |= _calls(matrix.calls(request.getfixturevalue(matrix.fixture)))
            transaction.set_rollback(True)
    unwalked = [
        f"{method.upper()} {path} ({operation['operationId']})"
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method, operation in operations.items()
        if not _walked(path.removeprefix(API), method, calls)
    ]
    if unwalked:
        message = "operations in no role × endpoint matrix:\n" + "\n".join(unwalked)
        pytest.fail(message, pytrace=False)
