"""The alert job: each source raises exactly the alerts its condition implies, the job resolves
them when the condition clears, and running it again changes nothing."""

from __future__ import annotations

import datetime as dt
import sys
import types
from types import SimpleNamespace

import pytest
from alert_world import STAND_IN, closed_count_with_variance, expiring_award, issue, rifle
from django.utils import timezone

from muster.access.scope import scope_of
from muster.accounts.models import User
from muster.alerts.choices import AlertState
from muster.alerts.job import JOB, run_alerts
from muster.alerts.models import Alert, AlertEntry
from muster.alerts.services import resolve_alert
from muster.alerts.sources import SOURCES, Condition, SourceSkipped
from muster.armory.models import Site
from muster.armory.services.counts import resolve_variance
from muster.armory.services.custody import Returned, return_items
from muster.journal.models import JournalEntry
from muster.people.models import Unit
from muster.people.services import change_status, move_person
from muster.vetting.models import Qualification
from muster.vetting.services import (
    NewQualification,
    Revocation,
    award_qualifications,
    revoke_qualifications,
)


def active(kind: str | None = None):
    found = Alert.objects.filter(state__in=["open", "acknowledged"])
    return found.filter(kind=kind) if kind else found


def entries(kind: str) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(kind=kind, subject_type="alert").order_by("seq"))


def return_rifle(world, person, serial):
    return_items(
        actor=world.armorer,
        second=world.commander,
        person=person,
        returns=[Returned(rifle(serial).pk)],
    )


# Overdue returns ------------------------------------------------------------------------------


def test_an_overdue_rifle_raises_one_alert_and_its_return_resolves_it(world):
    item = issue(world, world.rifleman, "R0001", hours=2)
    later = world.later(hours=3)
    assert run_alerts(now=world.later(hours=1)).raised == {}  # not due yet

    summary = run_alerts(now=later)
    assert summary.raised == {"overdue": 1}
    (alert,) = active()
    assert (alert.kind, alert.item_id, alert.person_id, alert.site_id) == (
        "overdue", item.pk, world.rifleman.pk, world.vault.pk
    )  # fmt: skip
    assert alert.unit.code == "R1-B1"  # the arms room's unit acts, with the holder's commander
    assert alert.person_path == world.rifleman.unit.path
    assert "VPR-223 R0001 of ARM-1 was due back" in alert.message
    assert world.rifleman.national_id not in alert.message
    (raised,) = entries("alert.raised")
    assert raised.subject_id == str(alert.pk) and raised.actor == "system:alerts"

    assert run_alerts(now=later).raised == {}  # idempotent: still one alert
    assert active().count() == 1 and Alert.objects.count() == 1

    return_rifle(world, world.rifleman, "R0001")
    summary = run_alerts(now=later)
    assert summary.resolved == {"overdue": 1} and summary.raised == {}
    alert.refresh_from_db()
    assert (alert.state, alert.cleared) == ("resolved", True)
    (entry,) = alert.entries.all()
    assert (entry.action, entry.actor) == ("resolved", "system:alerts")
    assert entry.note.startswith("cleared:")
    (resolved,) = entries("alert.resolved")
    assert resolved.seq == entry.seq and resolved.subject_id == str(alert.pk)


def test_an_overdue_item_is_not_also_a_recall(world):
    issue(world, world.rifleman, "R0003", hours=1)
    assert run_alerts(now=world.later(hours=2)).raised == {"overdue": 1}


def test_a_new_due_time_is_a_new_occurrence(world):
    issue(world, world.rifleman, "R0001", hours=1)
    run_alerts(now=world.later(hours=2))
    return_rifle(world, world.rifleman, "R0001")
    issue(world, world.rifleman, "R0001", hours=1)
    summary = run_alerts(now=world.later(hours=2))
    assert summary.raised == {"overdue": 1} and summary.resolved == {"overdue": 1}
    assert Alert.objects.filter(kind="overdue").count() == 2
    assert active().count() == 1


# Recalls --------------------------------------------------------------------------------------


def test_a_holder_suspended_while_holding_is_a_recall_until_reinstated(world, actor):
    item = issue(world, world.other, "R0002", hours=None)  # an assignment: never due
    assert run_alerts().raised == {}
    change_status(
        actor=actor,
        person=world.other,
        to_status="suspended",
        effective_on=timezone.localdate(),
        reason="inquiry",
    )
    summary = run_alerts()
    assert summary.raised == {"recall": 1}
    (alert,) = active("recall")
    assert (alert.item_id, alert.person_id) == (item.pk, world.other.pk)
    assert "status" in alert.message and alert.data["reasons"]
    assert run_alerts().raised == {}
    change_status(
        actor=actor,
        person=world.other,
        to_status="active",
        effective_on=timezone.localdate(),
        reason="cleared",
    )
    assert run_alerts().resolved == {"recall": 1}
    assert not active().exists()


def test_a_required_qualification_revoked_while_holding_is_a_recall(world, actor):
    issue(world, world.other, "R0002", hours=None)
    psych = Qualification.objects.get(
        person=world.other, qualification_type__code="psych_assessment"
    )
    revoke_qualifications(
        actor=actor,
        revocations=[
            Revocation(qualification=psych, revoked_on=timezone.localdate(), reason="retest")
        ],
    )
    assert run_alerts().raised == {"recall": 1}
    (alert,) = active("recall")
    assert "psych_assessment" in alert.message
    # A new assessment: the holder may hold it again, and the job resolves the recall.
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=world.other, type_code="psych_assessment", obtained_on=timezone.localdate()
            )
        ],
    )
    assert run_alerts().resolved == {"recall": 1}


# Qualifications expiring ------------------------------------------------------------------------


def test_qualifications_expiring_within_the_days_of_active_members_are_raised(
    world, actor, settings
):
    soon = expiring_award(world.rifleman, actor, days=10)
    expiring_award(world.other, actor, days=45)  # beyond 30 days
    expiring_award(world.far, actor, days=5)
    change_status(
        actor=actor,
        person=world.far,
        to_status="suspended",
        effective_on=timezone.localdate(),
        reason="inquiry",
    )  # not active: not raised
    assert run_alerts().raised == {"expiring": 1}
    (alert,) = active("expiring")
    assert (alert.person_id, alert.data["qualification"]) == (world.rifleman.pk, soon.pk)
    assert alert.unit_id == world.rifleman.unit_id
    assert world.rifleman.national_id in alert.message  # seen only by those who see them

    settings.ALERT_EXPIRING_DAYS = 60
    assert run_alerts().raised == {"expiring": 1}  # the other's record now too
    settings.ALERT_EXPIRING_DAYS = 30
    assert run_alerts().resolved == {"expiring": 1}

    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=world.rifleman, type_code="first_aid", obtained_on=timezone.localdate()
            )
        ],
    )  # renewed
    assert run_alerts().resolved == {"expiring": 1}
    assert not active().exists()


# Counts overdue by policy -----------------------------------------------------------------------


def test_a_site_holding_firearms_not_counted_within_the_policy_interval_is_raised(world):
    now = timezone.now()
    Site.objects.update(created_at=now - dt.timedelta(days=3))
    summary = run_alerts(now=now)
    # Both arms rooms hold rifles (firearm: every 1 day); the company store holds nothing.
    assert summary.raised == {"count_overdue": 2}
    by_site = {a.site.code: a for a in active("count_overdue")}
    assert set(by_site) == {"ARM-1", "ARM-2"}
    assert by_site["ARM-1"].data["category"] == "firearm"
    assert by_site["ARM-1"].data["interval_days"] == 1
    assert "never counted" in by_site["ARM-1"].message

    closed_count_with_variance(world)  # a full count of ARM-1, closed now
    summary = run_alerts(now=now + dt.timedelta(hours=1))
    assert summary.resolved == {"count_overdue": 1}
    assert {a.site.code for a in active("count_overdue")} == {"ARM-2"}
    # A day and more later, ARM-1 is due again: a new occurrence, a new alert.
    summary = run_alerts(now=now + dt.timedelta(days=2))
    assert summary.raised == {"count_overdue": 1}
    again = active("count_overdue").get(site=world.vault)
    assert "since" in again.message and again.data["last_counted_at"]


def test_a_new_site_is_not_due_before_its_first_interval(world):
    assert run_alerts().raised == {}


# Unresolved variances -----------------------------------------------------------------------------


def test_each_unresolved_variance_of_a_closed_count_is_raised_until_resolved(world):
    count = closed_count_with_variance(world)
    variances = list(count.variances.order_by("pk"))
    assert len(variances) == 9  # R0002–R0010 missing
    summary = run_alerts()
    assert summary.raised == {"variance": 9}
    alert = active("variance").get(variance=variances[0])
    assert (alert.count_id, alert.site_id, alert.item_id) == (
        count.pk, world.vault.pk, variances[0].item_id,
    )  # fmt: skip
    resolve_variance(
        actor=world.armorer,
        second=world.commander,
        variance=variances[0],
        resolution="found",
        note="behind the rack",
    )
    summary = run_alerts()
    assert summary.resolved == {"variance": 1} and summary.raised == {}
    assert active("variance").count() == 8


# Shifts understaffed (the duties app) -------------------------------------------------------------


def _duties(monkeypatch, rows):
    module = types.ModuleType(STAND_IN)
    calls = []

    def understaffed_shifts(now, within):
        calls.append((now, within))
        return list(rows)

    module.understaffed_shifts = understaffed_shifts  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, STAND_IN, module)
    return calls


def test_understaffed_shifts_are_raised_for_the_posts_unit_and_resolved_when_staffed(
    world, org, monkeypatch
):
    starts = timezone.now() + dt.timedelta(hours=20)
    shift = SimpleNamespace(pk=41, starts_at=starts, post="WTR-7 Pumping station")
    # The shape of muster.duties.selectors.Understaffed.
    rows = [SimpleNamespace(shift=shift, unit=org["company"], headcount=4, filled=2)]
    calls = _duties(monkeypatch, rows)
    summary = run_alerts()
    assert summary.raised == {"understaffed": 1}
    assert calls and calls[0][1] == dt.timedelta(hours=48)
    (alert,) = active("understaffed")
    assert (alert.shift_id, alert.unit_id) == (41, org["company"].pk)
    assert alert.message.startswith("WTR-7 Pumping station: the shift starting")
    assert "understaffed (2 of 4)" in alert.message
    rows.clear()
    assert run_alerts().resolved == {"understaffed": 1}


def test_without_the_duties_function_the_source_is_skipped_and_its_alerts_kept(
    world, org, monkeypatch
):
    shift = SimpleNamespace(pk=7, starts_at=timezone.now(), post="P-1")
    _duties(monkeypatch, [SimpleNamespace(shift=shift, unit=org["battalion"])])
    assert run_alerts().raised == {"understaffed": 1}
    monkeypatch.setitem(sys.modules, STAND_IN, types.ModuleType(STAND_IN))
    summary = run_alerts()
    assert "has no understaffed_shifts" in summary.skipped["understaffed"]
    assert summary.resolved == {} and active("understaffed").count() == 1
    monkeypatch.setitem(sys.modules, STAND_IN, None)  # no module at all
    summary = run_alerts()
    assert "cannot be imported" in summary.skipped["understaffed"] and summary.ok
    assert active("understaffed").count() == 1


def test_the_duties_apps_own_function_is_called_when_it_exists(world, monkeypatch):
    selectors = pytest.importorskip("muster.duties.selectors")
    if not hasattr(selectors, "understaffed_shifts"):
        pytest.skip("muster.duties.selectors has no understaffed_shifts yet")
    monkeypatch.setattr("muster.alerts.sources.DUTIES_SELECTORS", "muster.duties.selectors")
    summary = run_alerts()
    assert "understaffed" not in summary.skipped and "understaffed" not in summary.failed


def test_a_failing_source_leaves_its_alerts_and_the_others_run(world):
    issue(world, world.rifleman, "R0001", hours=1)
    later = world.later(hours=2)
    run_alerts(now=later)

    def broken(now):
        raise RuntimeError("database went away")

    sources = {**SOURCES, "overdue": broken}
    expiring = expiring_award(world.rifleman, JOB, days=3)
    summary = run_alerts(now=later, sources=sources)
    assert "RuntimeError" in summary.failed["overdue"] and not summary.ok
    assert summary.raised == {"expiring": 1} and summary.resolved == {}
    assert active("overdue").count() == 1
    assert expiring.pk


def test_a_skipping_source_says_why(world):
    def later_source(now):
        raise SourceSkipped("not yet")

    assert run_alerts(sources={"understaffed": later_source}).skipped == {"understaffed": "not yet"}


# Refiling and a person's resolution ------------------------------------------------------------


def test_an_alert_follows_its_holder_to_another_unit(world, actor):
    issue(world, world.rifleman, "R0001", hours=1)
    later = world.later(hours=2)
    run_alerts(now=later)
    (before,) = active()
    b2 = Unit.objects.get(code="R1-B2")
    move_person(
        actor=actor,
        person=world.rifleman,
        unit=b2,
        role="member",
        since=timezone.localdate(),
        reason="posting",
    )
    summary = run_alerts(now=later)
    assert summary.refiled == 1 and summary.raised == {"overdue": 1}
    before.refresh_from_db()
    assert before.state == "resolved" and before.entries.get().note.startswith("refiled")
    (after,) = active()
    assert after.key == before.key and after.person_path == b2.path


def test_an_occurrence_resolved_by_a_person_is_not_raised_again(world):
    issue(world, world.rifleman, "R0001", hours=1)
    later = world.later(hours=2)
    run_alerts(now=later)
    (alert,) = active()
    armorer = User.objects.get(username="armorer")
    resolve_alert(
        actor=world.armorer,
        scope=scope_of(armorer),
        alert=alert,
        note="holder in hospital; rifle secured by police",
    )
    summary = run_alerts(now=later)
    assert summary.raised == {} and summary.kept_resolved == 1
    assert not active().exists()
    # The rifle comes back and goes out again: a new occurrence is raised.
    return_rifle(world, world.rifleman, "R0001")
    issue(world, world.rifleman, "R0001", hours=1)
    assert run_alerts(now=later).raised == {"overdue": 1}


def test_two_runs_raise_one_alert_per_condition_and_write_nothing_the_second_time(world, actor):
    issue(world, world.rifleman, "R0001", hours=1)
    expiring_award(world.rifleman, actor, days=3)
    closed_count_with_variance(world)
    later = world.later(hours=2)
    first = run_alerts(now=later)
    # R0001 is with the rifleman: counted, it is mis-located; R0002–R0010 are missing.
    assert first.raised == {"overdue": 1, "expiring": 1, "variance": 10}
    journal = JournalEntry.objects.count()
    entries_before = AlertEntry.objects.count()
    second = run_alerts(now=later)
    assert second.raised == {} and second.resolved == {} and second.refiled == 0
    assert JournalEntry.objects.count() == journal
    assert AlertEntry.objects.count() == entries_before
    assert Alert.objects.count() == 12 == first.active == second.active


def test_the_database_refuses_a_second_active_alert_for_one_key(world):
    from django.db import IntegrityError, transaction

    from muster.alerts.services import Routed, raise_alerts

    condition = Condition("variance", "variance:x", world.vault.unit_id, "m")
    routed = Routed(condition, world.vault.unit.path, "", "")
    with transaction.atomic():
        raise_alerts(actor=JOB, found=[routed], now=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        raise_alerts(actor=JOB, found=[routed], now=timezone.now())
    assert Alert.objects.filter(key="variance:x", state=AlertState.OPEN).count() == 1
