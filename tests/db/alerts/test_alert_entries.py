"""Acknowledging and resolving an alert: by those who must act, once each, each an entry and a
journal entry in one transaction; nothing deleted; the same from the command line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from alert_world import issue
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, transaction

from muster.access.scope import Forbidden, scope_of
from muster.accounts.models import User
from muster.alerts.job import run_alerts
from muster.alerts.models import Alert, AlertEntry
from muster.alerts.services import AlertError, acknowledge_alert, resolve_alert
from muster.core.actors import Actor
from muster.journal.models import JournalEntry
from worlds import PASSWORD


@pytest.fixture
def overdue(world) -> Alert:
    issue(world, world.rifleman, "R0001", hours=1)
    run_alerts(now=world.later(hours=2), mail=False)
    return Alert.objects.get(kind="overdue")


def as_user(username: str) -> tuple[Actor, object]:
    user = User.objects.get(username=username)
    return Actor.for_user(user), scope_of(user)


def journal(kind: str) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(kind=kind).order_by("seq"))


def test_acknowledged_then_resolved_each_with_an_entry_and_a_journal_entry(overdue):
    actor, scope = as_user("armorer")
    acknowledge_alert(actor=actor, scope=scope, alert=overdue, note="calling the holder")
    overdue.refresh_from_db()
    assert overdue.state == "acknowledged"
    (ack,) = overdue.entries.all()
    assert (ack.action, ack.actor, ack.note) == ("acknowledged", "armorer", "calling the holder")
    (entry,) = journal("alert.acknowledged")
    assert (entry.seq, entry.subject_id, entry.actor) == (ack.seq, str(overdue.pk), "armorer")
    assert json.loads(entry.body)["data"]["note"] == "calling the holder"

    commander, commander_scope = as_user("commander")
    resolve_alert(
        actor=commander, scope=commander_scope, alert=overdue, note="returned to the arms room"
    )
    overdue.refresh_from_db()
    assert (overdue.state, overdue.cleared) == ("resolved", False)
    resolved = overdue.entries.order_by("pk").last()
    assert (resolved.action, resolved.actor) == ("resolved", "commander")
    (entry,) = journal("alert.resolved")
    assert entry.seq == resolved.seq and entry.actor == "commander"


def test_each_step_is_taken_once_and_a_refusal_writes_nothing(overdue):
    actor, scope = as_user("armorer")
    acknowledge_alert(actor=actor, scope=scope, alert=overdue)
    before = (JournalEntry.objects.count(), AlertEntry.objects.count())
    with pytest.raises(AlertError) as again:
        acknowledge_alert(actor=actor, scope=scope, alert=overdue)
    assert again.value.code == "conflict"
    assert "already acknowledged by armorer" in str(again.value)
    with pytest.raises(AlertError) as no_note:
        resolve_alert(actor=actor, scope=scope, alert=overdue, note="  ")
    (problem,) = no_note.value.problems
    assert (problem.record, problem.field) == (f"alert {overdue.pk}", "note")
    assert "required" in problem.rule
    resolve_alert(actor=actor, scope=scope, alert=overdue, note="back")
    with pytest.raises(AlertError, match="already resolved by armorer"):
        resolve_alert(actor=actor, scope=scope, alert=overdue, note="back again")
    assert (JournalEntry.objects.count(), AlertEntry.objects.count()) == (
        before[0] + 1,
        before[1] + 1,
    )


@pytest.mark.parametrize("username", ["hq", "auditor", "admin1", "vet1", "commander_b2"])
def test_only_those_who_must_act_acknowledge_or_resolve(overdue, username):
    actor, scope = as_user(username)
    with pytest.raises(Forbidden) as refused:
        acknowledge_alert(actor=actor, scope=scope, alert=overdue)
    assert refused.value.problems[0].field == "role"
    with pytest.raises(Forbidden):
        resolve_alert(actor=actor, scope=scope, alert=overdue, note="not mine")
    assert not AlertEntry.objects.exists()


def test_the_database_refuses_to_delete_alerts_or_change_their_entries(overdue):
    actor, scope = as_user("armorer")
    acknowledge_alert(actor=actor, scope=scope, alert=overdue)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Alert.objects.filter(pk=overdue.pk).delete()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AlertEntry.objects.update(note="rewritten")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AlertEntry.objects.all().delete()
    assert Alert.objects.filter(pk=overdue.pk).exists()


# The command line -------------------------------------------------------------------------------


def call(*args: str) -> str:
    out = StringIO()
    call_command("alerts", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_alerts_run_raises_and_reports_what_it_did(world):
    from django.core import mail
    from django.utils import timezone

    from muster.armory.models import Item

    assert "raised 0; resolved 0" in call("run", "--no-mail")
    item = issue(world, world.rifleman, "R0001", hours=1)
    Item.objects.filter(pk=item.pk).update(due_at=timezone.now() - timezone.timedelta(hours=1))
    output = call("run")
    assert "raised 1 (overdue 1)" in output and "still to be dealt with: 1" in output
    assert "mail: 1 digest(s) sent; 1 user(s) who must act have no e-mail address" in output
    assert [m.to for m in mail.outbox] == [["armorer@example.org"]]
    assert "raised 0; resolved 0" in call("run")
    with pytest.raises(CommandError, match="--every"):
        call("run", "--every", "0")


def test_the_command_line_acknowledges_and_resolves_as_the_signed_in_user(overdue, monkeypatch):
    listed = json.loads(call("list", "--json"))
    assert [(a["id"], a["kind"], a["unit"]) for a in listed] == [(overdue.pk, "overdue", "R1-B1")]
    assert call("list", "--kind", "recall").strip() == "no alerts"
    assert str(overdue.pk) in call("list", "--unit", "R1-B1-C1")
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    assert "acknowledged by armorer" in call(
        "ack", str(overdue.pk), "--note", "on it", "--user", "armorer"
    )
    assert "resolved by commander" in call(
        "resolve", str(overdue.pk), "--note", "returned", "--user", "commander"
    )
    overdue.refresh_from_db()
    assert overdue.state == "resolved"
    assert json.loads(call("list", "--json")) == []
    assert len(json.loads(call("list", "--json", "--state", "resolved"))) == 1


def test_bad_input_on_the_command_line_names_the_record_field_and_rule(overdue, monkeypatch):
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("alerts", "ack", "999999", "--user", "armorer", stdout=StringIO(), stderr=err)
    assert failed.value.returncode == 2
    assert "alert 999999, id: no such record" in err.getvalue()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "alerts", "resolve", str(overdue.pk), "--note", " ", "--user", "armorer",
            stdout=StringIO(), stderr=err,
        )  # fmt: skip
    assert f"alert {overdue.pk}, note: is required" in err.getvalue()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "alerts", "ack", str(overdue.pk), "--user", "hq", stdout=StringIO(), stderr=err
        )
    assert f"alert {overdue.pk}, role: only those who must act" in err.getvalue()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("alerts", "list", "--state", "nonsense", stdout=StringIO(), stderr=err)
    assert "alerts, state: must be one of active, open" in err.getvalue()
    assert not AlertEntry.objects.exists()


def test_alerts_run_every_keeps_running_until_stopped(world, monkeypatch):
    from django.utils import timezone

    from muster.armory.models import Item

    item = issue(world, world.rifleman, "R0001", hours=1)
    Item.objects.filter(pk=item.pk).update(due_at=timezone.now() - timezone.timedelta(hours=1))
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("muster.alerts.management.commands.alerts.time.sleep", sleep)
    # Between runs the command drops stale connections; the test's transaction must stay.
    monkeypatch.setattr(
        "muster.alerts.management.commands.alerts.close_old_connections", lambda: None
    )
    output = call("run", "--every", "300", "--no-mail")
    assert naps == [300.0, 300.0]
    # The first run raised the alert and said so; the second found nothing and kept quiet.
    assert output.count("raised 1 (overdue 1)") == 1 and "raised 0" not in output
    assert Alert.objects.count() == 1
