"""The Russian interface shows the domain's choices (a volunteer's status, an item's place and
condition, a count's and an incident's status) in Russian; files that name a choice by its
label are read the same in either language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from muster.accounts.models import User
from muster.armory.models import Item
from muster.armory.services.counts import start_count
from muster.armory.services.incidents import open_incident
from muster.core.actors import Actor
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


def test_the_duties_week_and_my_shifts_in_russian(armory, org, make_person, actor):
    from muster.duties.selectors import iso_week
    from muster.duties.services import assign_person, create_post, create_shift, define_duty_type

    patrol = define_duty_type(actor=actor, code="patrol", name="Street patrol")
    post = create_post(
        actor=actor, code="PAT-1", name="Old town", unit=org["company"], duty_type=patrol,
        address="Market square",
    )  # fmt: skip
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=14)
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time(8)))
    shift = create_shift(
        actor=actor, post=post, starts_at=start, ends_at=start + dt.timedelta(hours=8), headcount=2
    )
    volunteer = make_person(national_id="VD60000010")
    assert assign_person(actor=actor, shift=shift, person=volunteer).assigned
    week = iso_week(monday)
    html = (
        russian("commander")
        .get(reverse("web:duties"), {"unit": "R1-B1-C1", "week": week})
        .content.decode()
    )
    assert f"<h1>Наряды R1-B1-C1, неделя {week}</h1>" in html
    assert "1 из 2" in html and "не хватает 1" in html  # the gap in the shift's cell
    assert "<dt>Смены с нехваткой людей</dt>" in html and "Предложить график" in html
    assert ">Наряды</a>" in html  # the navigation
    user = User.objects.create_user(username="vol", password="x" * 12)
    user.person = volunteer
    user.save(update_fields=["person"])
    mine = russian("vol").get(reverse("web:my-shifts")).content.decode()
    assert "<h1>Мои смены</h1>" in mine
    assert '<span class="state assigned">Назначен</span>' in mine
    assert "Заступить на смену можно будет" in mine


def test_the_alerts_page_in_russian_shows_the_kind_and_the_state(armory, counted):
    from muster.alerts.job import run_alerts
    from muster.armory.services.counts import close_count, record_count

    counter = Actor.for_user(User.objects.get(username="counter1"))
    record_count(actor=counter, count=counted, serials=["R0001"])
    close_count(actor=counter, count=counted)  # nine rifles missing: variances
    run_alerts(now=timezone.now() + dt.timedelta(hours=1), mail=False)
    html = russian("armorer").get(reverse("web:alerts")).content.decode()
    assert "<h1>Оповещения</h1>" in html
    assert "<b>Неразрешённое расхождение</b> · Открыто" in html
    assert '<option value="">Любой вид</option>' in html and "9 оповещений" in html
    assert ">Оповещения</a>" in html  # the navigation


def test_the_allocation_plans_in_russian_show_the_plan_state(armory):
    from muster.access.scope import scope_of
    from muster.planning.services import make_plan

    commander = User.objects.get(username="commander")
    plan = make_plan(actor=armory["commander"], scope=scope_of(commander), site=armory["vault"])
    html = russian("commander").get(reverse("web:planning-plans")).content.decode()
    assert "<h1>Планы распределения</h1>" in html
    assert f"<b>План {plan.pk}</b>" in html and "Черновик · " in html
    assert '<option value="draft">Черновик</option>' in html  # the state filter
    assert ">Распределение</a>" in html and ">Моделирование проекта правил</a>" in html
