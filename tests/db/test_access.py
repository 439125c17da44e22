"""Access scopes, role by role, over two regions: each user sees exactly what DOMAIN's "Who
uses it" gives their role, and may do only what it allows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import muster.policy
from muster.access.scope import (
    Forbidden,
    items_in,
    may_at,
    people_in,
    require,
    require_at,
    scope_of,
    sees_person,
    sees_site,
    sites_in,
    units_for,
    units_in,
    unseen_items,
    visible,
    visible_person,
)
from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.models import Item, Site, SiteCustodian
from muster.armory.selectors import items_by_serials
from muster.armory.services.catalogue import (
    NewItem,
    create_site,
    define_categories,
    receive_items,
    register_model,
)
from muster.core.actors import Actor
from muster.core.errors import NotFound
from muster.people.models import Person, Unit
from muster.people.services import create_unit
from muster.policy.services import load_policy

NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()


@pytest.fixture
def world(org, actor, make_person):
    """Region R1: battalion B1 (company C1) and B2; region R2: battalion B3. A person in C1, B2
    and B3, an arms room in B1 and B3 with one radio each, and one account per role."""
    b2 = create_unit(actor=actor, code="R1-B2", name="2nd", kind="battalion", parent=org["region"])
    b3 = create_unit(
        actor=actor, code="R2-B3", name="3rd", kind="battalion", parent=org["other_region"]
    )
    people = {
        "c1": make_person(unit=org["company"]),
        "b2": make_person(unit=b2),
        "b3": make_person(unit=b3),
    }
    load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")
    define_categories(actor=actor, categories=[("radio", "Radios", "serialized")])
    register_model(actor=actor, code="RAD", name="Radio", category="radio")
    grants = {
        "hq": ("hq_staff", None),
        "auditor": ("auditor", None),
        "admin1": ("regional_admin", org["region"]),
        "cmd_b1": ("commander", org["battalion"]),
        "vet": ("vetting_officer", org["battalion"]),
        "arm_b1": ("armorer", org["battalion"]),
        "vol": ("volunteer", org["company"]),
        "keeper": None,
    }
    for username, grant in grants.items():
        User.objects.create_user(username=username, password="x" * 12)
        if grant:
            grant_role(actor=actor, username=username, role=grant[0], unit=grant[1])
    User.objects.filter(username="vol").update(person=people["c1"])
    sites = {}
    for code, unit in (("ARM-B1", org["battalion"]), ("ARM-B3", b3)):
        sites[code] = create_site(
            actor=actor, code=code, name=code, unit=unit, security_level="vault_alarmed",
            certified_on=dt.date(2026, 1, 1),
        )  # fmt: skip
    SiteCustodian.objects.create(
        site=sites["ARM-B3"], user=User.objects.get(username="keeper"), since=dt.date(2026, 1, 1)
    )
    for code, receiver in (("ARM-B1", "arm_b1"), ("ARM-B3", "keeper")):
        receive_items(
            actor=Actor.for_user(User.objects.get(username=receiver)), site=sites[code],
            reference=f"S-{code}", items=[NewItem("RAD", f"{code}-1")],
        )  # fmt: skip
    return people


ALL_PEOPLE = {"c1", "b2", "b3"}


@pytest.mark.parametrize(
    ("username", "people", "sites", "units"),
    [
        ("hq", ALL_PEOPLE, {"ARM-B1", "ARM-B3"}, {"R1", "R1-B1", "R1-B1-C1", "R1-B2", "R2", "R2-B3"}),
        ("auditor", ALL_PEOPLE, {"ARM-B1", "ARM-B3"}, {"R1", "R1-B1", "R1-B1-C1", "R1-B2", "R2", "R2-B3"}),
        ("admin1", {"c1", "b2"}, {"ARM-B1"}, {"R1", "R1-B1", "R1-B1-C1", "R1-B2"}),
        ("cmd_b1", {"c1"}, {"ARM-B1"}, {"R1-B1", "R1-B1-C1"}),
        ("vet", {"c1", "b2"}, set(), {"R1", "R1-B1", "R1-B1-C1", "R1-B2"}),
        ("arm_b1", {"c1"}, {"ARM-B1"}, {"R1-B1", "R1-B1-C1"}),
        ("vol", {"c1"}, set(), set()),
        ("keeper", set(), {"ARM-B3"}, set()),
    ],
)  # fmt: skip
def test_each_role_sees_exactly_its_scope(world, username, people, sites, units):
    scope = scope_of(User.objects.get(username=username))
    codes = {pk: code for code, person in world.items() for pk in [person.pk]}
    assert {codes[p.pk] for p in people_in(scope)} == people
    assert set(sites_in(scope).values_list("code", flat=True)) == sites
    assert set(units_in(scope).values_list("code", flat=True)) == units


def test_items_follow_their_sites_and_holders(world):
    Item.objects.filter(serial="ARM-B3-1").update(
        place="person", site=None, holder=world["c1"], issue_kind="assignment",
        issued_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
    )  # held by the volunteer of C1 (only the row: this test is about reading)  # fmt: skip
    seen = {
        name: set(items_in(scope_of(User.objects.get(username=name))).values_list("serial", flat=True))
        for name in ("cmd_b1", "vol", "keeper", "auditor")
    }  # fmt: skip
    assert seen["cmd_b1"] == {"ARM-B1-1", "ARM-B3-1"}  # home of one, holder of the other
    assert seen["vol"] == {"ARM-B3-1"}  # what they hold
    assert seen["keeper"] == {"ARM-B3-1"}  # its home site
    assert seen["auditor"] == {"ARM-B1-1", "ARM-B3-1"}


USERS = ("hq", "auditor", "admin1", "cmd_b1", "vet", "arm_b1", "vol", "keeper")


@pytest.mark.parametrize("username", USERS)
def test_the_one_record_checks_agree_with_the_queries(world, username):
    """The hot paths (the API's issue and return) ask about one person or item without a
    query; their answer must be the queries' for every record."""
    Item.objects.filter(serial="ARM-B3-1").update(
        place="person", site=None, holder=world["c1"], issue_kind="assignment",
        issued_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
    )  # held in another region than its home  # fmt: skip
    scope = scope_of(User.objects.get(username=username))
    for person in Person.objects.select_related("unit"):
        seen = people_in(scope).filter(pk=person.pk).exists()
        assert sees_person(scope, person.pk, person.unit.path) == seen, person
        if seen:
            assert visible_person(scope, person.pk, "person") == person
        else:
            with pytest.raises(NotFound):
                visible_person(scope, person.pk, "person")
    for site in Site.objects.select_related("unit"):
        assert (
            sees_site(scope, site.pk, site.unit.path) == sites_in(scope).filter(pk=site.pk).exists()
        )
    items = items_by_serials(["ARM-B1-1", "ARM-B3-1"])
    hidden = set(
        Item.objects.exclude(pk__in=items_in(scope).values("pk")).values_list("pk", flat=True)
    )
    assert {i.pk for i in unseen_items(scope, items)} == hidden


def test_an_action_reaches_only_the_units_of_the_roles_giving_it(world, org, actor):
    """Armorer in B1 and commander in B2: sees both, changes the roster only in B2."""
    User.objects.create_user(username="mixed", password="x" * 12)
    grant_role(actor=actor, username="mixed", role="armorer", unit=org["battalion"])
    b2 = Unit.objects.get(code="R1-B2")
    grant_role(actor=actor, username="mixed", role="commander", unit=b2)
    scope = scope_of(User.objects.get(username="mixed"))
    assert {world["c1"].pk, world["b2"].pk} <= set(people_in(scope).values_list("pk", flat=True))
    assert set(units_for(scope, "people.change").values_list("code", flat=True)) == {"R1-B2"}
    assert may_at(scope, "people.change", b2.path)
    assert not may_at(scope, "people.change", org["company"].path)
    with pytest.raises(Forbidden) as refused:
        require_at(scope, "people.change", org["company"].path, "person")
    assert refused.value.problems[0].field == "unit"
    require_at(scope, "people.change", b2.path, "person")
    # a vetting officer's reach is their region; HQ's everywhere
    vet = scope_of(User.objects.get(username="vet"))
    assert may_at(vet, "vetting.change", b2.path)
    assert not may_at(vet, "vetting.change", Unit.objects.get(code="R2-B3").path)
    hq = scope_of(User.objects.get(username="hq"))
    assert units_for(hq, "people.change").count() == Unit.objects.count()


def test_a_record_outside_the_scope_is_not_found(world):
    scope = scope_of(User.objects.get(username="cmd_b1"))
    assert visible(people_in(scope), world["c1"].pk, "person") == world["c1"]
    with pytest.raises(NotFound, match="no such record"):
        visible(people_in(scope), world["b3"].pk, "person")


@pytest.mark.parametrize(
    ("username", "action", "allowed"),
    [
        ("auditor", "custody.change", False),
        ("auditor", "people.change", False),
        ("arm_b1", "custody.change", True),
        ("arm_b1", "vetting.change", False),
        ("vet", "vetting.change", True),
        ("cmd_b1", "people.change", True),
        ("vol", "people.change", False),
        ("hq", "policy.change", True),
        ("admin1", "policy.change", False),
    ],
)
def test_actions_follow_the_roles(world, username, action, allowed):
    scope = scope_of(User.objects.get(username=username))
    assert scope.may(action) is allowed
    if allowed:
        require(scope, action, "test")
    else:
        with pytest.raises(Forbidden, match="may not"):
            require(scope, action, "test")


def test_an_inactive_or_anonymous_user_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    User.objects.filter(username="hq").update(is_active=False)
    for user in (User.objects.get(username="hq"), AnonymousUser()):
        scope = scope_of(user)
        assert not people_in(scope).exists() and not sites_in(scope).exists()
        assert not Person.objects.none().exists() and Site.objects.exists()
