"""The worlds of the planning tests (fixtures in conftest.py): the armory of tests/worlds.py,
with accounts that see everything (HQ), one region (its administrator) or one battalion (its
commander), drafts made from the national policy with one change each, and a count of every
table's rows (to show that a simulation writes nothing)."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.db import connection

from muster.access.scope import Scope, scope_of
from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.models import Item
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.custody import issue_items
from muster.people.services import create_unit
from muster.policy.schema import PolicyDocument
from worlds import NATIONAL, PASSWORD, vet_for_rifle


def draft_of(change: Callable[[dict[str, Any]], None]) -> PolicyDocument:
    """The national policy as a draft (version 2099.1-draft), changed by `change`."""
    data = copy.deepcopy(yaml.safe_load(NATIONAL))
    data["version"] = "2099.1-draft"
    data["status"] = "draft"
    data["title"] = "Test draft"
    data["effective_from"] = "2099-01-01"
    change(data)
    return PolicyDocument.model_validate(data)


def draft_yaml(change: Callable[[dict[str, Any]], None]) -> str:
    return yaml.safe_dump(draft_of(change).model_dump(mode="json"), sort_keys=False)


def years_ago(years: int, days: int = 0) -> dt.date:
    today = dt.date.today()
    return today.replace(year=today.year - years) - dt.timedelta(days=days)


@pytest.fixture
def accounts(armory, org, actor) -> dict[str, User]:
    """hq (everything), auditor (everything, read-only), admin2 (the other region),
    plus the armory's commander and armorer of the first battalion."""
    users = {}
    for name, role, unit in (
        ("hq", "hq_staff", None),
        ("auditor", "auditor", None),
        ("admin1", "regional_admin", org["region"]),
        ("admin2", "regional_admin", org["other_region"]),
        ("vet", "vetting_officer", org["battalion"]),
        ("vol", "volunteer", org["company"]),
    ):
        users[name] = User.objects.create_user(username=name, password=PASSWORD)
        grant_role(actor=actor, username=name, role=role, unit=unit)
    for name in ("armorer", "commander"):
        users[name] = User.objects.get(username=name)
    return users


def scope_for(user: User) -> Scope:
    return scope_of(user)


def issue(armory, person, serial: str, *, kind: str = "assignment", hours: int | None = None):
    outcome = issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=person,
        item_ids=[Item.objects.get(serial=serial).pk],
        kind=kind,
        hours=hours,
    )
    assert outcome.issued, outcome.refusals
    return outcome


@pytest.fixture
def young_rifleman(armory, make_person, actor):
    """Vetted for a rifle and holding R0001 on assignment, aged 25."""
    person = make_person(
        national_id="YR0000001", family_name="Moroz", given_name="Ostap", birth_date=years_ago(25)
    )
    vet_for_rifle(person, actor)
    issue(armory, person, "R0001")
    return person


def table_sizes() -> dict[str, int]:
    """Rows in every table of Muster's apps."""
    sizes = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model.__module__.startswith("muster."):
                continue
            table = model._meta.db_table
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            sizes[table] = cursor.fetchone()[0]
    return sizes


@dataclass
class Battalions:
    """Region R1 with two battalions, as the allocation tests use it: B1 (the armory's, its
    company's people) and B2 (its own arms room, ARM-2, with four serviceable rifles and one
    unserviceable), each with vetted volunteers of known experience, plus in B1 one who is
    not vetted (most experienced of all) and one who holds a rifle already."""

    b2: Any
    vault2: Any
    b1_people: list[Any]  # best first
    b2_people: list[Any]  # best first (the last two tie on everything but the national id)
    unvetted: Any
    armed: Any


@pytest.fixture
def battalions(armory, org, actor, make_person, accounts) -> Battalions:
    b2 = create_unit(actor=actor, code="R1-B2", name="2nd Battalion", kind="battalion",
                     parent=org["region"])  # fmt: skip
    grant_role(actor=actor, username="armorer", role="armorer", unit=b2)
    vault2 = create_site(
        actor=actor, code="ARM-2", name="2nd Battalion arms room", unit=b2,
        security_level="vault", certified_on=dt.date(2026, 1, 15), capacities={"firearm": 20},
    )  # fmt: skip
    receive_items(
        actor=armory["armorer"], site=vault2, reference="SHIP-B2",
        items=[*(NewItem("VPR-223", f"S{n:04d}") for n in range(1, 5)),
               NewItem("VPR-223", "S0005", condition="unserviceable")],
    )  # fmt: skip

    def vetted(national_id: str, combat: int, unit: Any) -> Any:
        person = make_person(
            national_id=national_id, family_name="Bondar", given_name=national_id,
            unit=unit, combat_experience_months=combat,
        )  # fmt: skip
        vet_for_rifle(person, actor)
        return person

    b1_people = [vetted(f"B1P{n}", 7 - n, org["company"]) for n in range(1, 7)]
    b2_people = [vetted("B2P1", 10, b2), vetted("B2P3", 0, b2), vetted("B2P2", 0, b2)]
    b2_people = [b2_people[0], b2_people[2], b2_people[1]]  # B2P2 before B2P3: national id
    unvetted = make_person(national_id="B1PX", given_name="Unvetted", combat_experience_months=30)
    armed = vetted("B1PA", 20, org["company"])
    issue(armory, armed, "R0010")
    return Battalions(b2, vault2, b1_people, b2_people, unvetted, armed)
