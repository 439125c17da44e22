"""The world the alert tests share: the armory fixture's region R1 (battalion B1 with its arms
room ARM-1 and ten rifles, company C1 with its store), a second battalion B2 in R1, a second
region R2 with its own battalion, arms room and rifles, and one account per role in each
region. The duties app is replaced by a stand-in reporting no understaffed shift, so that
these tests do not depend on it (test_alert_sources tests the real contract's shapes)."""

from __future__ import annotations

import datetime as dt
import sys
import types
from dataclasses import dataclass

import pytest
from django.utils import timezone

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.alerts.job import run_alerts
from muster.alerts.models import Alert
from muster.armory.models import Item, Site
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.counts import close_count, record_count, start_count
from muster.armory.services.custody import issue_items
from muster.core.actors import Actor
from muster.people.models import Person, Unit
from muster.people.services import create_unit
from muster.vetting.services import NewQualification, award_qualifications
from worlds import PASSWORD, vet_for_rifle

# username: (role, unit code or None for everything, e-mail address)
ACCOUNTS = {
    "hq": ("hq_staff", None, "hq@example.org"),
    "auditor": ("auditor", None, "auditor@example.org"),
    "admin1": ("regional_admin", "R1", "admin1@example.org"),
    "vet1": ("vetting_officer", "R1-B1", "vet1@example.org"),
    "vol1": ("volunteer", "R1-B1-C1", "vol1@example.org"),
    "armorer2": ("armorer", "R2-B1", "armorer2@example.org"),
    "commander2": ("commander", "R2-B1", "commander2@example.org"),
    "commander_b2": ("commander", "R1-B2", "commander_b2@example.org"),
}


STAND_IN = "alerts_test_duties"


@pytest.fixture(autouse=True)
def no_duties(monkeypatch):
    """The understaffed source reads a stand-in for muster.duties.selectors that finds no
    understaffed shift (the real module is left alone)."""
    module = types.ModuleType(STAND_IN)
    module.understaffed_shifts = lambda now, within: []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, STAND_IN, module)
    monkeypatch.setattr("muster.alerts.sources.DUTIES_SELECTORS", STAND_IN)
    return module


@dataclass
class World:
    rifleman: Person  # R1-B1-C1, vetted, holds nothing yet
    other: Person  # R1-B1-C1, vetted
    far: Person  # R2-B1, vetted
    vault: Site  # ARM-1 (R1-B1)
    store: Site  # STORE-1 (R1-B1-C1)
    vault2: Site  # ARM-2 (R2-B1)
    armorer: Actor
    commander: Actor
    armorer2: Actor
    commander2: Actor

    def later(self, **delta: float) -> dt.datetime:
        return timezone.now() + dt.timedelta(**delta)


def rifle(serial: str) -> Item:
    return Item.objects.get(serial=serial)


@pytest.fixture
def world(armory, org, actor, rifleman, make_person) -> World:
    b2 = create_unit(actor=actor, code="R1-B2", name="2nd", kind="battalion", parent=org["region"])
    r2b1 = create_unit(
        actor=actor, code="R2-B1", name="1st", kind="battalion", parent=org["other_region"]
    )
    assert b2 and r2b1
    for username, (role, unit, email) in ACCOUNTS.items():
        User.objects.create_user(username=username, password=PASSWORD, email=email)
        grant_role(
            actor=actor,
            username=username,
            role=role,
            unit=Unit.objects.get(code=unit) if unit else None,
        )
    User.objects.filter(username="armorer").update(email="armorer@example.org")
    # The armory's commander of B1 has no e-mail address: they are counted, not mailed.
    User.objects.filter(username="vol1").update(person=rifleman)
    other = make_person(national_id="VD50000002", given_name="Ivan")
    vet_for_rifle(other, actor)
    far = make_person(national_id="VD60000001", given_name="Far", unit=r2b1)
    vet_for_rifle(far, actor)
    vault2 = create_site(
        actor=actor,
        code="ARM-2",
        name="R2 arms room",
        unit=r2b1,
        security_level="vault_alarmed",
        certified_on=dt.date(2026, 1, 15),
        capacities={"firearm": 50},
    )
    armorer2 = Actor.for_user(User.objects.get(username="armorer2"))
    receive_items(
        actor=armorer2,
        site=vault2,
        reference="SHIP-201",
        items=[NewItem("VPR-223", f"T{n:04d}") for n in range(1, 4)],
    )
    return World(
        rifleman=rifleman,
        other=other,
        far=far,
        vault=armory["vault"],
        store=armory["room"],
        vault2=vault2,
        armorer=armory["armorer"],
        commander=armory["commander"],
        armorer2=armorer2,
        commander2=Actor.for_user(User.objects.get(username="commander2")),
    )


def issue(world: World, person: Person, serial: str, *, hours: int | None = 2, r2=False):
    """Issue one rifle as a checkout of `hours` (None: an assignment)."""
    armorer, second = (world.armorer2, world.commander2) if r2 else (world.armorer, world.commander)
    outcome = issue_items(
        actor=armorer,
        second=second,
        person=person,
        item_ids=[rifle(serial).pk],
        kind="checkout" if hours else "assignment",
        hours=hours,
    )
    assert outcome.issued, outcome.refusals
    return rifle(serial)


def expiring_award(person: Person, actor: Actor, days: int = 10, code: str = "first_aid"):
    today = timezone.localdate()
    (found,) = award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=person,
                type_code=code,
                obtained_on=today - dt.timedelta(days=300),
                expires_on=today + dt.timedelta(days=days),
            )
        ],
    )
    return found


def closed_count_with_variance(world: World, site: Site | None = None):
    """A full count of the arms room (by default) that saw only R0001: nine missing."""
    site = site or world.vault
    counter = User.objects.create_user(username=f"counter-{site.code}", password=PASSWORD)
    count = start_count(actor=world.armorer, site=site, counter=counter, category=None)
    record_count(actor=Actor.for_user(counter), count=count, serials=["R0001"])
    close_count(actor=Actor.for_user(counter), count=count)
    return count


@pytest.fixture
def alerts(world, actor) -> dict[str, Alert]:
    """R1: an overdue rifle (ARM-1, holder in C1), an expiring record (C1), variances of
    ARM-1; R2: a variance of ARM-2."""
    issue(world, world.rifleman, "R0001", hours=1)
    expiring_award(world.rifleman, actor, days=5)
    closed_count_with_variance(world)
    counter = User.objects.create_user(username="counter2", password=PASSWORD)
    count = start_count(actor=world.armorer2, site=world.vault2, counter=counter, category=None)
    record_count(actor=Actor.for_user(counter), count=count, serials=["T0001", "T0002"])
    close_count(actor=Actor.for_user(counter), count=count)
    run_alerts(now=world.later(hours=2), mail=False)
    return {
        "overdue": Alert.objects.get(kind="overdue"),
        "expiring": Alert.objects.get(kind="expiring"),
        "there": Alert.objects.get(kind="variance", site=world.vault2),
    }
