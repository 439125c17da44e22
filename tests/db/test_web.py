"""The web application, page by page, as each role sees it: the pages open for those allowed,
a record outside the scope is not found, the auditor's page is theirs alone, the dashboard's
numbers are the database's, and the interface speaks Russian."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import muster.policy
from muster.access.scope import scope_of
from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.models import Item
from muster.armory.services.catalogue import (
    NewItem,
    create_site,
    define_categories,
    receive_items,
    register_model,
)
from muster.core.actors import Actor
from muster.journal.models import JournalEntry
from muster.people.models import Person
from muster.people.services import create_unit
from muster.policy.services import load_policy
from muster.vetting.models import Qualification
from muster.vetting.services import NewQualification, award_qualifications
from muster.web.dashboard import readiness

NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()


@pytest.fixture
def world(org, actor, make_person, today):
    """Region R1: battalion B1 (company C1) and B2, each with a person and an arms room with a
    radio; one account per role. The person of C1 is the volunteer's own record."""
    b2 = create_unit(actor=actor, code="R1-B2", name="2nd", kind="battalion", parent=org["region"])
    people = {"c1": make_person(unit=org["company"]), "b2": make_person(unit=b2)}
    make_person(unit=org["company"], status="discharged")
    make_person(unit=org["company"], status="applicant")
    load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")
    define_categories(actor=actor, categories=[("radio", "Radios", "serialized")])
    register_model(actor=actor, code="RAD", name="Radio", category="radio")
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=people["c1"],
                type_code="medical_fitness",
                obtained_on=today - dt.timedelta(days=350),
                expires_on=today + dt.timedelta(days=10),
            ),
            # vetted: active with a background check in force (the b2 person has none)
            NewQualification(
                person=people["c1"],
                type_code="background_check",
                obtained_on=today - dt.timedelta(days=30),
                expires_on=today + dt.timedelta(days=700),
            ),
        ],
    )
    grants = {
        "hq": ("hq_staff", None),
        "auditor": ("auditor", None),
        "cmd_b1": ("commander", org["battalion"]),
        "arm_b1": ("armorer", org["battalion"]),
        "arm_b2": ("armorer", b2),
        "vol": ("volunteer", org["company"]),
    }
    for username, (role, unit) in grants.items():
        User.objects.create_user(username=username, password="x" * 12)
        grant_role(actor=actor, username=username, role=role, unit=unit)
    User.objects.filter(username="vol").update(person=people["c1"])
    items = {}
    for code, unit, receiver in (("ARM-B1", org["battalion"], "arm_b1"), ("ARM-B2", b2, "arm_b2")):
        site = create_site(
            actor=actor, code=code, name=code, unit=unit, security_level="vault_alarmed",
            certified_on=dt.date(2026, 1, 1),
        )  # fmt: skip
        receive_items(
            actor=Actor.for_user(User.objects.get(username=receiver)), site=site,
            reference=f"S-{code}", items=[NewItem("RAD", f"{code}-1")],
        )  # fmt: skip
        items[code] = Item.objects.get(serial=f"{code}-1")
    return {"people": people, "items": items, "b2": b2}


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


PAGES = [
    ("hq", "home"), ("hq", "web:people"), ("hq", "web:items"), ("hq", "web:audit"),
    ("auditor", "home"), ("auditor", "web:audit"), ("auditor", "web:people"),
    ("cmd_b1", "home"), ("cmd_b1", "web:people"), ("cmd_b1", "web:items"),
    ("arm_b1", "home"), ("arm_b1", "web:items"), ("arm_b1", "web:issue"), ("arm_b1", "web:return"),
]  # fmt: skip


@pytest.mark.parametrize(("username", "page"), PAGES)
def test_each_page_opens_for_a_user_allowed_it(world, username, page):
    response = client_of(username).get(reverse(page))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("username", "page", "status"),
    [
        ("cmd_b1", "web:audit", 403),
        ("arm_b1", "web:audit", 403),
        ("vol", "web:audit", 403),
        ("cmd_b1", "web:issue", 403),
        ("hq", "web:issue", 403),
        ("auditor", "web:return", 403),
    ],
)
def test_a_page_the_roles_do_not_give_is_refused(world, username, page, status):
    assert client_of(username).get(reverse(page)).status_code == status


def test_anonymous_users_are_sent_to_sign_in(world):
    response = Client().get(reverse("web:people"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Client().get(reverse("health")).status_code == 200


def test_a_commander_gets_not_found_for_another_battalions_person_and_item(world):
    client = client_of("cmd_b1")
    assert client.get(reverse("web:person", args=[world["people"]["c1"].pk])).status_code == 200
    assert client.get(reverse("web:person", args=[world["people"]["b2"].pk])).status_code == 404
    assert client.get(reverse("web:item", args=[world["items"]["ARM-B1"].pk])).status_code == 200
    assert client.get(reverse("web:item", args=[world["items"]["ARM-B2"].pk])).status_code == 404
    roster = client.get(reverse("web:people")).content.decode()
    assert world["people"]["c1"].national_id in roster
    assert world["people"]["b2"].national_id not in roster


def test_a_volunteer_sees_only_their_own_page(world):
    client = client_of("vol")
    own = world["people"]["c1"]
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home["Location"] == reverse("web:person", args=[own.pk])
    assert client.get(reverse("web:person", args=[own.pk])).status_code == 200
    assert client.get(reverse("web:person", args=[world["people"]["b2"].pk])).status_code == 404
    assert not JournalEntry.objects.filter(kind="person.viewed").exists()


def test_reading_someone_elses_record_is_journaled_with_the_reason_given(world):
    person = world["people"]["c1"]
    client_of("cmd_b1").get(reverse("web:person", args=[person.pk]), {"why": "readiness review"})
    entry = JournalEntry.objects.get(kind="person.viewed")
    assert (entry.actor, entry.subject_id) == ("cmd_b1", str(person.pk))
    assert "readiness review" in entry.body


def test_the_person_page_highlights_a_qualification_expiring_within_30_days(world):
    page = client_of("cmd_b1").get(reverse("web:person", args=[world["people"]["c1"].pk]))
    assert re.search(r'<tr class="expiring"><td>[^<]*</td>', page.content.decode())


def test_the_roster_searches_and_filters(world):
    client = client_of("hq")
    person = world["people"]["b2"]
    found = client.get(reverse("web:people"), {"q": person.national_id}).content.decode()
    assert person.national_id in found and world["people"]["c1"].national_id not in found
    discharged = client.get(reverse("web:people"), {"status": "discharged"}).content.decode()
    assert person.national_id not in discharged
    by_unit = client.get(reverse("web:people"), {"unit": world["b2"].pk}).content.decode()
    assert person.national_id in by_unit and world["people"]["c1"].national_id not in by_unit


def metrics(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-metric="(\w+)">([^<]*)<', html))


@pytest.mark.parametrize("username", ["hq", "cmd_b1"])
def test_the_dashboard_numbers_are_the_databases(world, org, username, today):
    scope = scope_of(User.objects.get(username=username))
    people = Person.objects.all()
    items = Item.objects.all()
    if username == "cmd_b1":
        people = people.filter(unit__path__startswith=org["battalion"].path)
        items = items.filter(home_site__unit__path__startswith=org["battalion"].path)
    numbers = readiness(scope)
    assert numbers.members == people.exclude(status="discharged").count()
    checked = Qualification.objects.filter(
        qualification_type__code="background_check", expires_on__gte=today
    ).values("person")
    assert numbers.vetted == people.filter(status="active", pk__in=checked).count() == 1
    assert numbers.items_issued == items.filter(place="person").count()
    assert (
        numbers.expiring
        == Qualification.objects.filter(
            person__in=people,
            expires_on__gte=today,
            expires_on__lte=today + dt.timedelta(days=30),
        ).count()
    )
    assert numbers.eligible == 0  # nobody is vetted for a firearm
    shown = metrics(client_of(username).get(reverse("home")).content.decode())
    assert shown["members"] == str(numbers.members)
    assert shown["vetted"] == str(numbers.vetted)
    assert shown["expiring"] == str(numbers.expiring) == "1"


def test_hq_sees_the_regions_side_by_side(world):
    html = client_of("hq").get(reverse("home")).content.decode()
    assert 'data-region="R1"' in html and 'data-region="R2"' in html
    assert "data-region" not in client_of("cmd_b1").get(reverse("home")).content.decode()


def test_the_auditor_page_shows_the_logs_checkpoint_and_key(world, settings, tmp_path):
    from muster.journal import log

    settings.LOG_KEY_FILE = tmp_path / "log.key"
    log.integrate()
    html = client_of("auditor").get(reverse("web:audit")).content.decode()
    checkpoint = log.latest_checkpoint()
    assert checkpoint is not None
    assert checkpoint.note.splitlines()[0] in html
    assert log.verifier_key() in html
    assert "muster-verify" in html


def test_the_russian_interface_renders_translated_strings(world):
    client = client_of("hq")
    client.cookies["django_language"] = "ru"
    html = client.get(reverse("home")).content.decode()
    assert 'lang="ru"' in html
    assert "Готовность" in html and "Люди" in html
