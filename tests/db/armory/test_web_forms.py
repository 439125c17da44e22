"""The forms that change a record from the browser: a vetting officer awards and revokes a
qualification and suspends and reinstates a volunteer, a commander moves one to another unit,
an armorer dispatches a transfer that the destination receives short (opening an incident),
and notes move the incident along. The services' errors appear beside the fields; users
without the role get 403, users whose scope does not reach the record 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.models import Incident, Item, Transfer
from muster.armory.services.catalogue import create_site
from muster.people.models import Person
from muster.vetting.models import Qualification

PASSWORD = "correct horse battery staple"  # every user's password in the armory fixture


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def people_staff(armory, actor, org):
    """A vetting officer of the region, and a vetting officer and an armorer of the other."""
    for username, role, unit in (
        ("vetter", "vetting_officer", org["region"]),
        ("south_vetter", "vetting_officer", org["other_region"]),
        ("south", "armorer", org["other_region"]),
    ):
        User.objects.create_user(username=username, password=PASSWORD)
        grant_role(actor=actor, username=username, role=role, unit=unit)


def test_a_vetting_officer_adds_a_qualification_and_a_bad_date_is_shown_by_its_field(
    people_staff, rifleman
):
    url = reverse("web:person-qualify", args=[rifleman.pk])
    vetter = client_of("vetter")
    assert 'for="id_obtained_on"' in vetter.get(url).content.decode()
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    page = vetter.post(url, {"qualification": "first_aid", "obtained_on": future})
    html = page.content.decode()
    assert page.status_code == 200 and "is in the future" in html
    assert html.index("is in the future") > html.index('id="id_obtained_on"')
    assert not Qualification.objects.filter(qualification_type__code="first_aid").exists()
    done = vetter.post(
        url,
        {"qualification": "first_aid", "obtained_on": dt.date.today().isoformat()},
    )
    assert done.status_code == 302
    assert Qualification.objects.filter(
        person=rifleman, qualification_type__code="first_aid"
    ).exists()


def test_a_vetting_officer_revokes_a_qualification_with_a_reason(people_staff, rifleman):
    qualification = Qualification.objects.filter(person=rifleman).first()
    url = reverse("web:person-revoke", args=[rifleman.pk, qualification.pk])
    person_page = client_of("vetter").get(reverse("web:person", args=[rifleman.pk]))
    assert url in person_page.content.decode()
    done = client_of("vetter").post(
        url, {"revoked_on": dt.date.today().isoformat(), "reason": "certificate forged"}
    )
    assert done.status_code == 302
    assert hasattr(Qualification.objects.get(pk=qualification.pk), "revocation")


def test_a_vetting_officer_suspends_and_reinstates(people_staff, rifleman):
    url = reverse("web:person-status", args=[rifleman.pk])
    today = dt.date.today().isoformat()
    vetter = client_of("vetter")
    assert vetter.post(url, {"effective_on": today, "reason": "inquiry"}).status_code == 302
    assert Person.objects.get(pk=rifleman.pk).status == "suspended"
    assert vetter.post(url, {"effective_on": today, "reason": "cleared"}).status_code == 302
    assert Person.objects.get(pk=rifleman.pk).status == "active"


def test_a_commander_moves_a_volunteer_and_a_move_to_where_they_are_is_refused(
    people_staff, rifleman, org
):
    url = reverse("web:person-move", args=[rifleman.pk])
    commander = client_of("commander")
    form = {"role": "member", "since": dt.date.today().isoformat(), "reason": "reorganised"}
    same = commander.post(url, {**form, "unit": org["company"].pk})
    assert "already in this unit" in same.content.decode()
    moved = commander.post(url, {**form, "unit": org["battalion"].pk})
    assert moved.status_code == 302
    assert Person.objects.get(pk=rifleman.pk).unit == org["battalion"]


@pytest.mark.parametrize(
    ("username", "name", "status"),
    [
        ("commander", "web:person-qualify", 403),
        ("clerk", "web:person-qualify", 403),
        ("armorer", "web:person-status", 403),
        ("vetter", "web:person-move", 403),
        ("south_vetter", "web:person-qualify", 404),
        ("south_vetter", "web:person-status", 404),
    ],
)
def test_person_forms_are_refused_or_not_found_for_others(
    people_staff, rifleman, username, name, status
):
    client = client_of(username)
    url = reverse(name, args=[rifleman.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"reason": "x"}).status_code == status
    assert Person.objects.get(pk=rifleman.pk).status == "active"


@pytest.fixture
def second_vault(armory, actor, org):
    return create_site(
        actor=actor,
        code="ARM-2",
        name="Second arms room",
        unit=org["battalion"],
        security_level="vault_alarmed",
        certified_on=dt.date(2026, 1, 15),
        capacities={"firearm": 50},
    )


def test_a_transfer_is_dispatched_and_received_short_which_opens_an_incident(
    people_staff, armory, second_vault
):
    armorer = client_of("armorer")
    refused = armorer.post(
        reverse("web:transfer-dispatch"),
        {"from_site": armory["vault"].pk, "to_site": armory["room"].pk, "serials": "R0001"},
    )
    assert refused.status_code == 200 and "STORE-1" in refused.content.decode()
    assert not Transfer.objects.exists()
    sent = armorer.post(
        reverse("web:transfer-dispatch"),
        {"from_site": armory["vault"].pk, "to_site": second_vault.pk, "serials": "R0001\nR0002"},
    )
    transfer = Transfer.objects.get()
    assert sent.status_code == 302 and Item.objects.get(serial="R0001").place == "in_transit"
    assert client_of("south").get(reverse("web:transfer", args=[transfer.pk])).status_code == 404
    assert client_of("clerk").post(reverse("web:transfer-dispatch"), {}).status_code == 403
    received = armorer.post(reverse("web:transfer", args=[transfer.pk]), {"serials": "R0001"})
    assert received.status_code == 302
    assert Item.objects.get(serial="R0001").site == second_vault
    assert Item.objects.get(serial="R0002").place == "in_transit"
    incident = Incident.objects.get()
    listing = armorer.get(reverse("web:incidents")).content.decode()
    assert reverse("web:incident", args=[incident.pk]) in listing
    assert client_of("south").get(reverse("web:incident", args=[incident.pk])).status_code == 404
    noted = armorer.post(
        reverse("web:incident", args=[incident.pk]),
        {"text": "searching the truck", "status_to": "investigating"},
    )
    assert noted.status_code == 302
    assert Incident.objects.get().status == "investigating"
    page = armorer.get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert "searching the truck" in page
    closing = armorer.post(
        reverse("web:incident", args=[incident.pk]), {"text": "", "status_to": "closed"}
    )
    assert "closing an incident needs a note" in closing.content.decode()
    assert client_of("clerk").post(
        reverse("web:incident", args=[incident.pk]), {"text": "x"}
    ).status_code in (403, 404)
