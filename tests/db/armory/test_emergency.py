"""Emergency issue: the commander arms two volunteers at once, without the second person; each
issue is flagged until someone else reconciles it, and overdue flags are an alert."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from muster.armory.models import Item
from muster.armory.selectors import item_by_serial, item_history
from muster.armory.services.emergency import (
    emergency_issue,
    reconcile_emergency_issue,
    unreconciled_emergency_issues,
)
from muster.core.errors import CustodyError
from muster.journal.models import JournalEntry


@pytest.fixture
def two_people(rifleman, vetted_rifleman):
    return rifleman, vetted_rifleman("VD50000002")


@pytest.fixture
def armed(armory, two_people):
    first, second = two_people
    outcomes = emergency_issue(
        actor=armory["commander"],
        assignments=[
            (first, [item_by_serial("R0001").pk]),
            (second, [item_by_serial("R0002").pk, item_by_serial("R0003").pk]),
        ],
        hours=12,
    )
    assert all(o.issued for o in outcomes)
    return outcomes


def test_a_commander_emergency_issues_to_two_people_without_a_second_person(
    armory, two_people, armed
):
    first, second = two_people
    held = dict(Item.objects.filter(place="person").values_list("serial", "holder"))
    assert held == {"R0001": first.pk, "R0002": second.pk, "R0003": second.pk}
    assert set(Item.objects.filter(place="person").values_list("emergency", flat=True)) == {True}
    issued = item_history(item_by_serial("R0001"))[-1]
    assert issued.kind == "custody.issued" and issued.data["emergency"] is True
    assert "second_person" not in issued.data


def test_a_non_commander_cannot_order_an_emergency_issue(armory, two_people):
    first, _ = two_people
    entries = JournalEntry.objects.count()
    with pytest.raises(CustodyError, match="may not order an emergency issue"):
        emergency_issue(
            actor=armory["armorer"],
            assignments=[(first, [item_by_serial("R0001").pk])],
            hours=12,
        )
    assert not Item.objects.filter(place="person").exists()
    assert JournalEntry.objects.count() == entries


def test_one_bad_assignment_refuses_the_whole_order(armory, two_people):
    first, second = two_people
    rifle = item_by_serial("R0001").pk
    with pytest.raises(CustodyError, match="an item is named twice"):
        emergency_issue(
            actor=armory["commander"], assignments=[(first, [rifle]), (second, [rifle])], hours=12
        )
    assert not Item.objects.filter(place="person").exists()


def test_an_unreconciled_issue_becomes_an_alert_after_the_policy_hours(armory, armed):
    now = timezone.now()
    assert unreconciled_emergency_issues(now + dt.timedelta(hours=11)) == []
    alerts = unreconciled_emergency_issues(now + dt.timedelta(hours=13))
    assert sorted(a.item.serial for a in alerts) == ["R0001", "R0002", "R0003"]
    assert {a.policy for a in alerts} == {"national@2026.1"}
    assert all(a.deadline == a.issued_at + dt.timedelta(hours=12) for a in alerts)


def test_reconciliation_by_a_second_person_clears_the_flag(armory, armed):
    rifle = item_by_serial("R0001")
    outcome = reconcile_emergency_issue(
        actor=armory["commander"], second=armory["armorer"], item=rifle
    )
    assert outcome.reconciled
    rifle = item_by_serial("R0001")
    assert (rifle.place, rifle.emergency) == ("person", False)
    assert item_history(rifle)[-1].kind == "custody.emergency_reconciled"
    later = timezone.now() + dt.timedelta(hours=13)
    assert sorted(a.item.serial for a in unreconciled_emergency_issues(later)) == [
        "R0002",
        "R0003",
    ]
    with pytest.raises(CustodyError, match="not an emergency issue awaiting reconciliation"):
        reconcile_emergency_issue(actor=armory["commander"], second=armory["armorer"], item=rifle)


def test_the_commander_who_ordered_it_cannot_confirm_it(armory, armed):
    with pytest.raises(CustodyError, match="someone other than commander"):
        reconcile_emergency_issue(
            actor=armory["armorer"], second=armory["commander"], item=item_by_serial("R0001")
        )
    with pytest.raises(CustodyError, match="two-person rule"):
        reconcile_emergency_issue(
            actor=armory["commander"], second=None, item=item_by_serial("R0001")
        )
    assert item_by_serial("R0001").emergency
