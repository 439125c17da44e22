"""The worlds tests build, shared by the database and browser tests (loaded by
tests/conftest.py as a plugin): a small organisation (one region with a battalion and a
company, and another region), and an armory in it: the national policy, a vault at battalion
level, an armorer and a commander who may authorise, rifles, and a volunteer vetted to hold
one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import muster.policy
from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.services.catalogue import (
    NewItem,
    create_site,
    define_categories,
    receive_items,
    register_model,
)
from muster.core.actors import Actor
from muster.people.services import NewPerson, create_unit, register_person
from muster.policy.services import load_policy
from muster.vetting.services import NewQualification, award_qualifications


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


@pytest.fixture
def fast_password_hashing(settings):
    """Argon2 is deliberately slow (~0.2 s a hash); tests that make many users use a fast
    hasher. test_accounts checks that the configured hasher is Argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()
PASSWORD = "correct horse battery staple"

CATEGORIES = [
    ("firearm", "Firearms", "serialized"),
    ("ammunition", "Ammunition", "quantity"),
    ("magazine", "Magazines", "serialized"),
    ("drone", "Drones", "serialized"),
    ("counter_drone", "Counter-drone devices", "serialized"),
    ("radio", "Radios", "serialized"),
    ("vehicle", "Vehicles", "serialized"),
    ("optics", "Optics", "serialized"),
    ("protective_gear", "Protective gear", "serialized"),
]


@pytest.fixture
def armory(org, actor):
    """The policy, the catalogue and one vault with ten rifles."""
    load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")
    define_categories(actor=actor, categories=CATEGORIES)
    register_model(
        actor=actor,
        code="VPR-223",
        name="Civilian semi-automatic rifle .223",
        category="firearm",
        legal_class="civilian_rifle",
        weapon_class="rifle",
        attributes={"calibre": "5.56x45", "magazine_capacity": 10},
    )
    register_model(actor=actor, code="RAD-DMR", name="DMR handheld radio", category="radio")
    register_model(
        actor=actor,
        code="AMM-556",
        name="5.56x45 ball",
        category="ammunition",
        attributes={"calibre": "5.56x45"},
    )
    users = {}
    for name in ("armorer", "commander", "clerk"):
        users[name] = User.objects.create_user(username=name, password=PASSWORD)
    grant_role(actor=actor, username="armorer", role="armorer", unit=org["battalion"])
    grant_role(actor=actor, username="commander", role="commander", unit=org["battalion"])
    vault = create_site(
        actor=actor,
        code="ARM-1",
        name="1st Battalion arms room",
        unit=org["battalion"],
        security_level="vault_alarmed",
        certified_on=dt.date(2026, 1, 15),
        capacities={"firearm": 50},
    )
    room = create_site(
        actor=actor,
        code="STORE-1",
        name="Company store",
        unit=org["company"],
        security_level="locked_room",
        certified_on=dt.date(2026, 1, 15),
    )
    receive_items(
        actor=Actor.for_user(users["armorer"]),
        site=vault,
        reference="SHIP-001",
        items=[NewItem("VPR-223", f"R{n:04d}") for n in range(1, 11)],
    )
    return {
        "vault": vault,
        "room": room,
        "armorer": Actor.for_user(users["armorer"]),
        "commander": Actor.for_user(users["commander"]),
        "clerk": Actor.for_user(users["clerk"]),
    }


def vet_for_rifle(person, actor, *, psych_on=None):
    """Give a person every qualification the national policy asks for a rifle."""
    today = dt.date.today()
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=person,
                type_code="firearms_training",
                klass="rifle",
                obtained_on=today - dt.timedelta(days=30),
            ),
            NewQualification(
                person=person,
                type_code="psych_assessment",
                obtained_on=psych_on or today - dt.timedelta(days=60),
            ),
            NewQualification(
                person=person,
                type_code="medical_fitness",
                obtained_on=today - dt.timedelta(days=60),
            ),
            NewQualification(
                person=person,
                type_code="background_check",
                obtained_on=today - dt.timedelta(days=90),
            ),
        ],
    )


@pytest.fixture
def vetted_rifleman(armory, make_person, actor):
    """Makes more volunteers vetted for a rifle."""

    def make(national_id, **fields):
        person = make_person(national_id=national_id, **fields)
        vet_for_rifle(person, actor)
        return person

    return make


@pytest.fixture
def rifleman(armory, make_person, actor):
    person = make_person(national_id="VD50000001", family_name="Shevchenko", given_name="Taras")
    vet_for_rifle(person, actor)
    return person
