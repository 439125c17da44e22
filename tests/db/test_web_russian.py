"""The Russian interface shows the domain's choices (a volunteer's status, an item's place and
condition, a count's and an incident's status) in Russian; files that name a choice by its
label are read the same in either language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from muster.accounts.models import User
from muster.armory.models import Item
from muster.armory.services.counts import start_count
from muster.armory.services.incidents import open_incident
from muster.core.labels import labels_in_every_language
from muster.core.tabular import ChoiceCell
from muster.people.choices import PersonStatus, UnitRole


def russian(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    client.cookies["django_language"] = "ru"
    return client


@pytest.fixture
def counted(armory):
    """An open count of the vault, for an independent counter."""
    counter = User.objects.create_user(username="counter1", password="x" * 12)
    return start_count(
        actor=armory["armorer"], site=armory["vault"], counter=counter, category=None
    )


def test_the_roster_in_russian_shows_each_volunteers_status_in_russian(armory, make_person):
    make_person(national_id="VD60000001", status="active")
    make_person(national_id="VD60000002", status="discharged")
    html = russian("commander").get(reverse("web:people")).content.decode()
    assert "<td>В строю</td>" in html and "<td>Отчислен</td>" in html
    assert '<option value="vetting">На проверке</option>' in html  # the status filter
    english = Client()
    english.force_login(User.objects.get(username="commander"))
    assert "<td>Active</td>" in english.get(reverse("web:people")).content.decode()


def test_the_person_page_in_russian_shows_the_status_and_the_role_in_the_unit(armory, make_person):
    person = make_person(national_id="VD60000003", status="suspended")
    html = russian("commander").get(reverse("web:person", args=[person.pk])).content.decode()
    assert ">Отстранён</dd>" in html and "<dd>Боец</dd>" in html


def test_items_counts_and_incidents_in_russian_show_their_states_in_russian(armory, counted):
    rifle = Item.objects.get(serial="R0001")
    incident = open_incident(
        actor=armory["armorer"], kind="theft", summary="Gone from the rack", item_ids=[rifle.pk]
    )
    client = russian("armorer")
    items = client.get(reverse("web:items")).content.decode()
    assert "<td>Исправен</td>" in items and '<option value="lost">Утрачен</option>' in items
    count = client.get(reverse("web:count", args=[counted.pk])).content.decode()
    assert "<dd>Открыта" in count
    page = client.get(reverse("web:incident", args=[incident.pk])).content.decode()
    assert "Хищение" in page and ">Открыто</dd>" in page


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_file_names_a_choice_by_its_label_in_either_language(language):
    with translation.override(language):
        status = ChoiceCell(labels_in_every_language(PersonStatus))
        role = ChoiceCell(labels_in_every_language(UnitRole))
    assert status("In vetting") == status("на проверке") == status("vetting") == "vetting"
    assert role("Commander") == role("Командир") == "commander"
    assert status.rule == "must be one of applicant, vetting, active, suspended, discharged"
