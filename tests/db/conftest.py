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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow (~0.2 s a hash); tests that make many users use a fast
    hasher. test_accounts checks that the configured hasher is Argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
