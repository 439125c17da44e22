"""The dashboard's charts show the database's numbers, for HQ and for a battalion commander:
firearms in people's hands day by day (issued, returned, reported stolen on known days), and
readiness by region, battalion and company; and every number stays right at the request
right after a change (an issue, a return, a qualification awarded or revoked, a suspension),
counted person by person rather than all over again."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from muster.access.scope import scope_of
from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.models import Item
from muster.armory.selectors import recalls
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.custody import Returned, issue_items, return_items
from muster.armory.services.movements import report_missing
from muster.core.actors import Actor
from muster.journal.models import JournalEntry
from muster.people.models import Person, Unit
from muster.people.services import change_status, create_unit
from muster.policy.services import load_policy
from muster.vetting.models import Qualification
from muster.vetting.selectors import eligibility_of
from muster.vetting.services import NewQualification, award_qualifications, revoke_qualification
from muster.web import dashboard, eligibility_counts
from muster.web.dashboard import (
    compute_readiness,
    firearms_by_day,
    readiness,
    readiness_by_unit,
    region_scope,
    regions_side_by_side,
)
from muster.web.kept import read_marker
from worlds import NATIONAL, PASSWORD, vet_for_rifle


@pytest.fixture(autouse=True)
def _nothing_kept():
    dashboard.clear_cache()
    yield
    dashboard.clear_cache()


class Clock:
    """timezone.now, set by the test: the services journal and stamp at the time it says."""

    def __init__(self, monkeypatch, today: dt.date) -> None:
        self.today = today
        self.moment = self.at(0, 12)
        monkeypatch.setattr(timezone, "now", lambda: self.moment)

    def at(self, days: int, hour: int) -> dt.datetime:
        day = self.today + dt.timedelta(days=days)
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))

    def set(self, days: int, hour: int = 10) -> None:
        self.moment = self.at(days, hour)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, timezone.localdate())


@pytest.fixture
def world(armory, org, actor, rifleman, make_person, clock):
    """The armory's 1st Battalion (vault ARM-1, rifles R0001-R0010, the rifleman in A Company)
    and a 2nd Battalion with its own vault, rifle S0001 and a vetted volunteer; HQ staff.

    Ten days ago R0001 went to the rifleman; five days ago S0001 to the 2nd Battalion's
    volunteer; three days ago R0001 came back; two days ago S0001 was reported stolen from
    its holder; this morning R0003 went to the rifleman for a shift."""
    b2 = create_unit(actor=actor, code="R1-B2", name="2nd Battalion", kind="battalion",
                     parent=org["region"])  # fmt: skip
    User.objects.create_user(username="arm2", password=PASSWORD)
    grant_role(actor=actor, username="arm2", role="armorer", unit=b2)
    User.objects.create_user(username="hq", password=PASSWORD)
    grant_role(actor=actor, username="hq", role="hq_staff", unit=None)
    arm2 = Actor.for_user(User.objects.get(username="arm2"))
    vault2 = create_site(actor=actor, code="ARM-2", name="2nd Battalion arms room", unit=b2,
                         security_level="vault_alarmed", certified_on=dt.date(2026, 1, 15))  # fmt: skip
    receive_items(actor=arm2, site=vault2, reference="SHIP-2", items=[NewItem("VPR-223", "S0001")])
    other = make_person(national_id="VD60000001", unit=b2)
    vet_for_rifle(other, actor)
    rifle = {s: Item.objects.get(serial=s).pk for s in ("R0001", "R0003", "S0001")}
    second = armory["commander"]

    clock.set(-10)
    issue_items(actor=armory["armorer"], second=second, person=rifleman,
                item_ids=[rifle["R0001"]], kind="assignment")  # fmt: skip
    clock.set(-5)
    issue_items(actor=arm2, second=arm2_commander(actor, b2), person=other,
                item_ids=[rifle["S0001"]], kind="assignment")  # fmt: skip
    clock.set(-3)
    return_items(actor=armory["armorer"], second=second, person=rifleman,
                 returns=[Returned(rifle["R0001"])])  # fmt: skip
    clock.set(-2)
    report_missing(actor=arm2, item_ids=[rifle["S0001"]], stolen=True, summary="taken at night")
    clock.set(0, 9)
    issue_items(actor=armory["armorer"], second=second, person=rifleman,
                item_ids=[rifle["R0003"]], kind="checkout", hours=8)  # fmt: skip
    clock.set(0, 12)
    return {"b2": b2, "other": other, "rifle": rifle, "second": second}


def arm2_commander(actor, b2) -> Actor:
    User.objects.create_user(username="cmd2", password=PASSWORD)
    grant_role(actor=actor, username="cmd2", role="commander", unit=b2)
    return Actor.for_user(User.objects.get(username="cmd2"))


def scope(username):
    return scope_of(User.objects.get(username=username))


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


# --- the database's own answers ---------------------------------------------------------------


def held_at(item_ids, moment) -> int:
    """Firearms of `item_ids` held by a person at `moment`, replaying each item's whole
    custody history from the journal (every entry that moves it)."""
    held = 0
    for pk in item_ids:
        last = (
            JournalEntry.objects.filter(
                subject_type="item", subject_id=str(pk), kind__startswith="custody.",
                recorded_at__lte=moment,
            )
            .exclude(kind__in=("custody.issue_refused", "custody.emergency_reconciled"))
            .order_by("-seq")
            .first()
        )  # fmt: skip
        held += last is not None and last.kind == "custody.issued"
    return held


def firearm_ids(username) -> list[int]:
    from muster.access.scope import items_in

    return list(
        items_in(scope(username))
        .filter(model__category__code="firearm")
        .values_list("pk", flat=True)
    )


def truth_row(path: str, today: dt.date) -> dict[str, int]:
    people = Person.objects.filter(unit__path__startswith=path)
    active = people.filter(status="active")
    checked = Qualification.objects.filter(
        qualification_type__code="background_check", expires_on__gt=today, revocation__isnull=True
    ).values("person")
    eligible = sum(any(d.allowed for d in eligibility_of(p, today, "firearm")) for p in active)
    return {
        "members": people.exclude(status="discharged").count(),
        "vetted": active.filter(pk__in=checked).count(),
        "eligible": eligible,
        "armed": Item.objects.filter(
            place="person", model__category__code="firearm", holder__unit__path__startswith=path
        ).count(),
    }


def shown_row(row) -> dict[str, int]:
    return {"members": row.members, "vetted": row.vetted, "eligible": row.eligible,
            "armed": row.armed}  # fmt: skip


# --- firearms over time -----------------------------------------------------------------------


def test_firearms_held_day_by_day_for_hq(world, clock):
    days = firearms_by_day(scope("hq"), clock.moment)
    assert len(days) == 90 and days[-1].day == clock.today
    recent = {clock.today - d.day: d for d in days if clock.today - d.day <= dt.timedelta(11)}
    held = [recent[dt.timedelta(n)].held for n in range(11, -1, -1)]
    #           -11 -10 -9 -8 -7 -6 -5 -4 -3 -2 -1  0
    assert held == [0, 1, 1, 1, 1, 1, 2, 2, 1, 0, 0, 1]
    assert sum(d.issued for d in days) == 3 and sum(d.taken_back for d in days) == 2
    assert recent[dt.timedelta(2)].taken_back == 1  # reported stolen from its holder
    ids = firearm_ids("hq")
    for day in days:
        end = min(clock.moment, clock.at((day.day - clock.today).days, 23) + dt.timedelta(hours=1))
        assert day.held == held_at(ids, end), day


def test_firearms_held_day_by_day_for_a_commander(world, clock):
    days = firearms_by_day(scope("commander"), clock.moment)
    recent = {clock.today - d.day: d for d in days if clock.today - d.day <= dt.timedelta(11)}
    held = [recent[dt.timedelta(n)].held for n in range(11, -1, -1)]
    assert held == [0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1]  # the 2nd Battalion's rifle unseen
    ids = firearm_ids("commander")
    assert world["rifle"]["S0001"] not in ids
    for day in days:
        end = min(clock.moment, clock.at((day.day - clock.today).days, 23) + dt.timedelta(hours=1))
        assert day.held == held_at(ids, end), day
    assert days[-1].held == readiness(scope("commander"), clock.moment).firearms_issued


def test_the_page_draws_both_charts_with_their_numbers(world, clock):
    html = client_of("commander").get(reverse("home")).content.decode()
    assert html.count('role="img"') == 2
    assert '<title id="days-title">' in html and '<desc id="days-desc">' in html
    assert '<title id="units-title">' in html and '<desc id="units-desc">' in html
    rows = dict(
        re.findall(
            r'<tr data-day="([\d-]+)"><th scope="row">[^<]*</th><td data-k="held">(\d+)<', html
        )
    )
    days = firearms_by_day(scope("commander"), clock.moment)
    assert rows == {d.day.isoformat(): str(d.held) for d in days}
    assert 'data-unit="R1-B1"' in html and 'data-unit="R1-B1-C1"' in html
    assert 'data-unit="R1-B2"' not in html


# --- readiness by unit ------------------------------------------------------------------------


def test_readiness_by_region_for_hq_is_the_databases(world, clock, org):
    within, rows = readiness_by_unit(scope("hq"), clock.moment)
    assert within is None and [r.unit.code for r in rows] == ["R1", "R2"]
    for row in rows:
        assert shown_row(row) == truth_row(row.unit.path, clock.today), row.unit.code
    r1 = rows[0]
    assert (r1.quota_used, r1.quota_limit) == (1, 300)  # R0003; S0001's slot was given back


def test_readiness_by_battalion_of_a_region_for_hq(world, clock, org):
    within, rows = readiness_by_unit(scope("hq"), clock.moment, region="R1")
    assert within == org["region"]
    assert [r.unit.code for r in rows] == ["R1-B1", "R1-B2"]
    for row in rows:
        assert shown_row(row) == truth_row(row.unit.path, clock.today), row.unit.code
    assert [r.eligible for r in rows] == [1, 1] and [r.armed for r in rows] == [1, 0]


def test_a_commander_sees_their_battalion_and_its_companies(world, clock, org):
    within, rows = readiness_by_unit(scope("commander"), clock.moment)
    assert within == org["battalion"]
    assert [r.unit.code for r in rows] == ["R1-B1", "R1-B1-C1"]
    for row in rows:
        assert shown_row(row) == truth_row(row.unit.path, clock.today), row.unit.code


def test_each_regions_numbers_equal_those_of_a_scope_of_that_region(world, clock):
    side_by_side = dict(regions_side_by_side(scope("hq"), clock.moment))
    marker = read_marker()
    for region in Unit.objects.filter(kind="region"):
        alone = compute_readiness(region_scope(region), clock.moment, marker)
        assert side_by_side[region] == alone, region.code
    everything = readiness(scope("hq"), clock.moment)
    assert everything.items_issued == Item.objects.filter(place="person").count() == 1
    assert everything.open_incidents == 1  # the theft


# --- right after a change ---------------------------------------------------------------------


def metrics(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-metric="(\w+)">([^<]*)<', html))


def assert_dashboards_are_the_databases(clock, battalion) -> None:
    """HQ's and the commander's pages, asked for now, show what the database holds now."""
    for username, path in (("hq", ""), ("commander", battalion.path)):
        html = client_of(username).get(reverse("home")).content.decode()
        shown = metrics(html)
        truth = truth_row(path, clock.today)
        firearms = Item.objects.filter(place="person", model__category__code="firearm").filter(
            Q(home_site__unit__path__startswith=path) | Q(holder__unit__path__startswith=path)
        )
        assert shown["members"] == str(truth["members"]), username
        assert shown["vetted"] == str(truth["vetted"]), username
        assert shown["eligible"] == str(truth["eligible"]), username
        assert shown["firearms_issued"] == str(firearms.count()), username
        held = re.search(
            rf'<tr data-day="{clock.today.isoformat()}"><th scope="row">[^<]*</th>'
            r'<td data-k="held">(\d+)<',
            html,
        )
        assert held and held.group(1) == str(firearms.count()), username


def test_every_number_is_right_at_the_request_after_each_change(
    world, clock, actor, rifleman, org, monkeypatch
):
    passes = [0]
    original = eligibility_counts.count_people

    def counted(*args, **kwargs):
        passes[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(eligibility_counts, "count_people", counted)
    battalion = org["battalion"]
    assert_dashboards_are_the_databases(clock, battalion)
    first = passes[0]  # one full count per set of people seen (HQ's, the commander's)

    change_status(actor=actor, person=world["other"], to_status="suspended",
                  effective_on=clock.today, reason="inquiry")  # fmt: skip
    assert_dashboards_are_the_databases(clock, battalion)

    outcome = issue_items(
        actor=Actor.for_user(User.objects.get(username="armorer")), second=world["second"],
        person=rifleman, item_ids=[Item.objects.get(serial="R0005").pk], kind="assignment",
    )  # fmt: skip
    assert outcome.issued
    assert_dashboards_are_the_databases(clock, battalion)

    training = Qualification.objects.get(
        person=rifleman, qualification_type__code="firearms_training"
    )
    revoke_qualification(actor=actor, qualification=training, revoked_on=clock.today,
                         reason="safety violation")  # fmt: skip
    assert_dashboards_are_the_databases(clock, battalion)
    assert readiness(scope("hq"), clock.moment).recalls == len(recalls(clock.moment)) == 2

    award_qualifications(actor=actor, awards=[NewQualification(
        person=rifleman, type_code="firearms_training", klass="rifle", obtained_on=clock.today,
    )])  # fmt: skip
    assert_dashboards_are_the_databases(clock, battalion)
    assert readiness(scope("hq"), clock.moment).recalls == len(recalls(clock.moment)) == 0
    assert passes[0] == first  # each change decided its own people again, nobody else


def test_a_policy_change_on_a_large_scope_shows_the_last_counts_with_their_time(
    world, clock, actor, monkeypatch
):
    """HQ's scope counted again in the background (simulated: the count is not started) shows
    the counts as they stood, marked with the time, until the count is done."""
    started = []
    monkeypatch.setattr(eligibility_counts, "_may_background", lambda state: True)
    monkeypatch.setattr(
        eligibility_counts, "_start_recount",
        lambda ledger, scope, stale: (started.append(stale),
                                      setattr(ledger, "stale_since", timezone.now())),
    )  # fmt: skip
    before = readiness(scope("hq"), clock.moment)
    assert before.stale_since is None and before.counted_at == clock.moment
    load_policy(actor=actor, text=NATIONAL.replace('version: "2026.1"', 'version: "2026.2"'),
                source="national-2026.2.yaml")  # fmt: skip
    after = readiness(scope("hq"), clock.moment)
    assert started == [True]
    assert after.stale_since == clock.moment and after.eligible == before.eligible
    html = client_of("hq").get(reverse("home")).content.decode()
    assert 'data-asof="stale"' in html


def test_a_shift_checkout_falls_due_for_hq_and_the_commander_without_a_write(world, clock):
    assert readiness(scope("commander"), clock.moment).overdue == 0
    evening = clock.at(0, 18)  # R0003 was checked out at 09:00 for 8 hours
    for username in ("hq", "commander"):
        numbers = readiness(scope(username), evening)
        assert (numbers.overdue, numbers.recalls) == (1, 1), username
