"""The dashboard keeps its slow numbers (the eligibility pass, the recalls) between requests,
yet shows what the database holds: a qualification awarded, a volunteer suspended or an item
issued changes the numbers at once without counting everyone again, a checkout falling due
moves "overdue" with no write at all, a qualification lapsing overnight moves "eligible" the
next day, and a policy loaded or the time bound counts everyone again."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest
from django.utils import timezone

from muster.access.scope import scope_of
from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.catalogue_file import load_catalogue
from muster.armory.models import Item
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.custody import Returned, issue_items, return_items
from muster.core.actors import Actor
from muster.people.services import change_status
from muster.policy.services import load_policy
from muster.vetting.services import NewQualification, award_qualifications
from muster.web import dashboard, eligibility_counts
from muster.web.dashboard import readiness, regions_side_by_side


@pytest.fixture(autouse=True)
def _nothing_kept():
    dashboard.clear_cache()
    yield
    dashboard.clear_cache()


@pytest.fixture
def passes(monkeypatch):
    """How many times the eligibility pass ran."""
    count = [0]
    original = eligibility_counts.count_people

    def counted(*args, **kwargs):
        count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(eligibility_counts, "count_people", counted)
    return count


@pytest.fixture
def armory(org, actor, make_person, today):
    """The national policy and catalogue, an arms room in the battalion with a helmet, an
    armorer and HQ, and a volunteer with every rifle qualification but firearms training."""
    load_policy(
        actor=actor,
        text=resources.files("muster.policy").joinpath("examples/national-2026.yaml").read_text(),
        source="national-2026.yaml",
    )
    load_catalogue(
        actor=actor,
        text=resources.files("muster.armory").joinpath("examples/catalogue.yaml").read_text(),
        source="catalogue.yaml",
    )
    site = create_site(
        actor=actor, code="ARM-B1", name="Arms room", unit=org["battalion"],
        security_level="vault_alarmed", certified_on=today - dt.timedelta(days=30),
    )  # fmt: skip
    for username, role, unit in (("arm", "armorer", org["battalion"]), ("hq", "hq_staff", None)):
        User.objects.create_user(username=username, password="x" * 12)
        grant_role(actor=actor, username=username, role=role, unit=unit)
    armorer = Actor.for_user(User.objects.get(username="arm"))
    receive_items(
        actor=armorer, site=site, reference="SHP-1", items=[NewItem("PG-HELMET", "H0001")]
    )
    person = make_person()
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=person, type_code=code, obtained_on=today - dt.timedelta(days=60)
            )
            for code in ("psych_assessment", "medical_fitness", "background_check")
        ],
    )
    return {
        "person": person,
        "armorer": armorer,
        "helmet": Item.objects.get(serial="H0001").pk,
        "hq": scope_of(User.objects.get(username="hq")),
    }


def test_the_eligible_number_changes_once_a_qualification_is_awarded(armory, actor, today, passes):
    scope = armory["hq"]
    assert (readiness(scope).vetted, readiness(scope).eligible) == (1, 0)
    assert passes[0] == 1  # the second request reused the pass
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=armory["person"], type_code="firearms_training", klass="rifle",
                obtained_on=today - dt.timedelta(days=10),
            )
        ],
    )  # fmt: skip
    assert readiness(scope).eligible == 1
    region = {u.code: r for u, r in regions_side_by_side(scope)}
    assert (region["R1"].eligible, region["R2"].eligible) == (1, 0)
    assert passes[0] == 1  # the volunteer alone was decided again, for HQ and the regions


def test_a_suspension_removes_the_volunteer_from_the_vetted(armory, actor, passes):
    scope = armory["hq"]
    assert readiness(scope).vetted == 1
    change_status(
        actor=actor,
        person=armory["person"],
        to_status="suspended",
        effective_on=timezone.localdate(),
        reason="inquiry",
    )
    assert (readiness(scope).members, readiness(scope).vetted) == (1, 0)
    assert passes[0] == 1


def test_an_issue_changes_the_numbers_but_not_the_eligibility_pass(armory, passes):
    scope, person, helmet = armory["hq"], armory["person"], armory["helmet"]
    assert readiness(scope).items_issued == 0
    outcome = issue_items(
        actor=armory["armorer"], second=None, person=person, item_ids=[helmet], hours=2
    )
    assert outcome.issued
    assert readiness(scope).items_issued == 1
    return_items(actor=armory["armorer"], second=None, person=person, returns=[Returned(helmet)])
    assert readiness(scope).items_issued == 0
    assert passes[0] == 1  # custody entries cannot change who is vetted or eligible


def test_a_checkout_falling_due_is_overdue_without_any_write(armory):
    scope, person = armory["hq"], armory["person"]
    issue_items(
        actor=armory["armorer"], second=None, person=person, item_ids=[armory["helmet"]], hours=2
    )
    now = timezone.now()
    assert (readiness(scope, now).overdue, readiness(scope, now).recalls) == (0, 0)
    later = now + dt.timedelta(hours=3)
    assert (readiness(scope, later).overdue, readiness(scope, later).recalls) == (1, 1)
    region = {u.code: r for u, r in regions_side_by_side(scope, later)}
    assert region["R1"].overdue == 1


def test_a_qualification_lapsing_overnight_counts_the_next_day(
    armory, actor, today, passes, monkeypatch
):
    scope = armory["hq"]
    monkeypatch.setattr(eligibility_counts, "RECOUNT_EVERY", dt.timedelta(days=7))
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=armory["person"], type_code="firearms_training", klass="rifle",
                obtained_on=today - dt.timedelta(days=300), expires_on=today + dt.timedelta(days=1),
            )
        ],
    )  # fmt: skip
    now = timezone.localtime().replace(hour=12, minute=0)
    assert readiness(scope, now).eligible == 1
    assert readiness(scope, now + dt.timedelta(days=1)).eligible == 0
    assert readiness(scope, now + dt.timedelta(days=1)).vetted == 1
    assert passes[0] == 1  # the next day, only the volunteer whose record lapsed was decided


def test_a_policy_loaded_counts_everyone_again(armory, actor, passes):
    scope = armory["hq"]
    readiness(scope)
    text = resources.files("muster.policy").joinpath("examples/national-2026.yaml").read_text()
    load_policy(
        actor=actor,
        text=text.replace('version: "2026.1"', 'version: "2026.2"'),
        source="national-2026.2.yaml",
    )
    assert readiness(scope).vetted == 1
    assert passes[0] == 2


def test_nothing_is_kept_past_the_time_bound(armory, passes):
    scope = armory["hq"]
    now = timezone.localtime().replace(hour=12, minute=0)  # the date stays the same
    readiness(scope, now)
    readiness(scope, now + dashboard.MAX_AGE / 2)
    assert passes[0] == 1
    readiness(scope, now + eligibility_counts.RECOUNT_EVERY + dt.timedelta(seconds=1))
    assert passes[0] == 2
