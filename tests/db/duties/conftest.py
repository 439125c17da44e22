"""The world the duties tests build on the armory (tests/worlds.py): duty types, a water
pumping station at battalion level and a street patrol district of the company, volunteers
with and without the qualifications shifts ask for, a commander's and a volunteer's
accounts. Times are in the week after next, so no test depends on today's date: `at(day,
hour)` is that week's Monday + `day` days at `hour` o'clock, local time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone
from duty_helpers import at

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.core.actors import Actor
from muster.duties.models import Assignment, Availability, DutyType, Post, Shift
from muster.duties.services import NewRequirement, create_post, create_shift, define_duty_type
from muster.people.models import Person
from muster.vetting.services import NewQualification, award_qualifications
from worlds import PASSWORD, vet_for_rifle


@dataclass
class DutyWorld:
    types: dict[str, DutyType]
    station: Post  # battalion's water pumping station
    district: Post  # company's street patrol district
    people: dict[str, Person]
    commander: Actor
    volunteer: Actor  # the account of people["vol"]


def award(actor: Actor, person: Person, code: str, klass: str = "") -> None:
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=person,
                type_code=code,
                klass=klass,
                obtained_on=timezone.localdate() - dt.timedelta(days=30),
            )
        ],
    )


@pytest.fixture
def duty_world(armory, org, make_person, actor) -> DutyWorld:
    types = {
        code: define_duty_type(actor=actor, code=code, name=name)
        for code, name in (
            ("patrol", "Street patrol"),
            ("infrastructure", "Infrastructure protection"),
            ("fire_watch", "Fire watch"),
        )
    }
    station = create_post(
        actor=actor, code="PS-1", name="Water pumping station No. 1", unit=org["battalion"],
        duty_type=types["infrastructure"], address="1 River Road",
        latitude=Decimal("50.450100"), longitude=Decimal("30.523400"),
    )  # fmt: skip
    district = create_post(
        actor=actor, code="PAT-1", name="Old town", unit=org["company"],
        duty_type=types["patrol"], address="Market square",
    )  # fmt: skip
    people = {
        "vol": make_person(national_id="VD60000001", family_name="Bondar", given_name="Olena"),
        "fire": make_person(national_id="VD60000002", family_name="Hrytsenko", given_name="Ivan"),
        "rifle1": make_person(national_id="VD60000003", family_name="Lysenko", given_name="Oleh"),
        "rifle2": make_person(national_id="VD60000004", family_name="Moroz", given_name="Anna"),
        "plain": make_person(national_id="VD60000005", family_name="Savchuk", given_name="Yurii"),
        "applicant": make_person(
            national_id="VD60000006", family_name="Tkachuk", given_name="Roman", status="applicant"
        ),
    }
    award(actor, people["fire"], "fire_safety")
    award(actor, people["vol"], "radio_operator")
    for key in ("rifle1", "rifle2"):
        vet_for_rifle(people[key], actor)
    user = User.objects.create_user(username="vol", password=PASSWORD)
    user.person = people["vol"]
    user.save(update_fields=["person"])
    grant_role(actor=actor, username="vol", role="volunteer", unit=org["company"])
    return DutyWorld(
        types=types,
        station=station,
        district=district,
        people=people,
        commander=armory["commander"],
        volunteer=Actor.for_user(user),
    )


@pytest.fixture
def patrol_shift(duty_world, actor):
    """Old town patrol, Monday 08:00–16:00, two volunteers, nothing required."""
    return create_shift(
        actor=actor, post=duty_world.district, starts_at=at(0, 8), ends_at=at(0, 16), headcount=2
    )


@pytest.fixture
def armed_shift(duty_world, actor):
    """The pumping station, Tuesday 20:00–Wednesday 08:00: two firearm-eligible volunteers
    and a radio operator among them; two rifles and a radio."""
    return create_shift(
        actor=actor,
        post=duty_world.station,
        starts_at=at(1, 20),
        ends_at=at(2, 8),
        headcount=3,
        requirements=[
            NewRequirement("eligibility", "firearm/rifle", count=2),
            NewRequirement("qualification", "radio_operator", count=1),
        ],
        equipment=[("firearm", 2), ("radio", 1)],
    )


@dataclass
class RoleWorld:
    """duty_world with an account per role (hq, auditor, admin1, commander, vet, armorer, vol)
    and work under way: a patrol starting in half an hour (the volunteer on it, `plain` checked
    in), a pumping-station shift that started an hour ago (rifle1 assigned, rifle2 a no-show),
    a shift in the other region, the volunteer's own unavailability next month, a radio at
    the vault."""

    duty: DutyWorld
    users: dict[str, User]
    soon: Shift
    started: Shift
    there: Shift
    own: Assignment  # the volunteer's, on `soon`
    checked_in: Assignment  # plain's, on `soon`
    waiting: Assignment  # rifle1's, on `started`
    no_show: Assignment  # rifle2's, on `started`
    entry: Availability  # the volunteer's


@pytest.fixture
def role_world(duty_world, org, actor) -> RoleWorld:
    from muster.armory.models import Site
    from muster.armory.services.catalogue import NewItem, receive_items
    from muster.duties.services import (
        assign_person,
        check_in,
        record_availability,
        record_no_show,
    )
    from muster.people.services import create_unit

    for username, role, unit in (
        ("hq", "hq_staff", None),
        ("auditor", "auditor", None),
        ("admin1", "regional_admin", org["region"]),
        ("vet", "vetting_officer", org["battalion"]),
    ):
        User.objects.create_user(username=username, password=PASSWORD)
        grant_role(actor=actor, username=username, role=role, unit=unit)
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["hq", "auditor", "admin1", "commander", "vet", "armorer", "vol"]
        )
    }
    now = timezone.now().replace(second=0, microsecond=0)
    soon = create_shift(
        actor=actor, post=duty_world.district, starts_at=now + dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(hours=8), headcount=3,
    )  # fmt: skip
    started = create_shift(
        actor=actor, post=duty_world.station, starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=7), headcount=2,
    )  # fmt: skip
    battalion2 = create_unit(
        actor=actor, code="R2-B1", name="1st", kind="battalion", parent=org["other_region"]
    )
    far = create_post(
        actor=actor, code="FAR-1", name="Far bridge", unit=battalion2,
        duty_type=duty_world.types["patrol"], address="Far road",
    )  # fmt: skip
    there = create_shift(actor=actor, post=far, starts_at=at(0, 8), ends_at=at(0, 16), headcount=1)
    people = duty_world.people

    def put(shift: Shift, key: str) -> Assignment:
        outcome = assign_person(actor=actor, shift=shift, person=people[key])
        assert outcome.assigned, outcome.refusals
        assert outcome.assignment is not None
        return outcome.assignment

    own = put(soon, "vol")
    checked_in = check_in(actor=actor, assignment=put(soon, "plain"))
    waiting = put(started, "rifle1")
    no_show = record_no_show(actor=actor, assignment=put(started, "rifle2"))
    entry = record_availability(
        actor=duty_world.volunteer, person=people["vol"], kind="unavailable",
        starts_at=at(14, 0), ends_at=at(15, 0), reason="exams",
    )  # fmt: skip
    receive_items(
        actor=Actor.for_user(users["armorer"]), site=Site.objects.get(code="ARM-1"),
        reference="SHIP-RAD", items=[NewItem("RAD-DMR", "RAD-1"), NewItem("RAD-DMR", "RAD-2")],
    )  # fmt: skip
    return RoleWorld(
        duty=duty_world, users=users, soon=soon, started=started, there=there, own=own,
        checked_in=checked_in, waiting=waiting, no_show=no_show, entry=entry,
    )  # fmt: skip
