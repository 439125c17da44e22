"""E-mail digests: after a run, each user who must act on some of the new alerts gets one
message listing those alerts and no others; a user without an address is counted, not mailed;
nothing is mailed again for alerts already raised."""

from __future__ import annotations

import re

from alert_world import expiring_award, issue
from django.core import mail

from muster.access.scope import scope_of
from muster.accounts.models import User
from muster.alerts.audience import Recipients, acts_on
from muster.alerts.job import run_alerts
from muster.alerts.models import Alert
from muster.armory.services.counts import close_count, record_count, start_count
from muster.core.actors import Actor
from worlds import PASSWORD


def _r2_variance(world) -> None:
    """A closed count of ARM-2 that saw only T0001: two rifles missing."""
    counter = User.objects.create_user(username="counter2", password=PASSWORD)
    count = start_count(actor=world.armorer2, site=world.vault2, counter=counter, category=None)
    record_count(actor=Actor.for_user(counter), count=count, serials=["T0001"])
    close_count(actor=Actor.for_user(counter), count=count)


def _ids(body: str) -> set[int]:
    return {int(n) for n in re.findall(r"/alerts/(\d+)/", body)}


def test_each_user_who_must_act_gets_one_digest_of_their_new_alerts(world, actor):
    issue(world, world.rifleman, "R0001", hours=1)
    expiring_award(world.rifleman, actor, days=5)
    _r2_variance(world)
    summary = run_alerts(now=world.later(hours=2))
    assert summary.raised == {"overdue": 1, "expiring": 1, "variance": 2}
    by_kind = {kind: set(Alert.objects.filter(kind=kind).values_list("pk", flat=True))
               for kind in ("overdue", "expiring", "variance")}  # fmt: skip

    sent = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == len(sent) == 4  # one digest per recipient
    assert set(sent) == {
        "armorer@example.org",  # the arms room's armorer: the overdue rifle
        "vet1@example.org",  # the region's vetting officer: the expiring record
        "armorer2@example.org",  # R2's armorer and commander: the variances of ARM-2
        "commander2@example.org",
    }
    assert _ids(sent["armorer@example.org"].body) == by_kind["overdue"]
    assert _ids(sent["vet1@example.org"].body) == by_kind["expiring"]
    assert _ids(sent["armorer2@example.org"].body) == by_kind["variance"]
    assert _ids(sent["commander2@example.org"].body) == by_kind["variance"]
    assert sent["armorer2@example.org"].subject == "Muster: 2 new alerts"
    assert sent["armorer@example.org"].subject == "Muster: 1 new alert"
    assert sent["armorer@example.org"].from_email == "muster@localhost"
    assert "http://127.0.0.1:8000/alerts/" in sent["armorer@example.org"].body
    # The B1 commander acts on the overdue rifle and the expiring record, but has no address.
    assert summary.mail is not None
    assert (summary.mail.sent, summary.mail.without_address) == (4, 1)

    mail.outbox.clear()
    again = run_alerts(now=world.later(hours=2))
    assert again.raised == {} and again.mail is None and mail.outbox == []


def test_the_recipients_are_exactly_those_who_act_on_the_alert(world, actor):
    issue(world, world.rifleman, "R0001", hours=1)
    expiring_award(world.rifleman, actor, days=5)
    _r2_variance(world)
    run_alerts(now=world.later(hours=2), mail=False)
    assert mail.outbox == []
    recipients = Recipients()
    users = list(User.objects.filter(is_active=True))
    for alert in Alert.objects.all():
        expected = {u.pk for u in users if acts_on(scope_of(u), alert)}
        assert recipients.of(alert) == expected, alert
    names = {
        kind: {
            User.objects.get(pk=pk).username
            for pk in recipients.of(Alert.objects.filter(kind=kind).first())
        }
        for kind in ("overdue", "expiring", "variance")
    }
    assert names == {
        "overdue": {"armorer", "commander"},
        "expiring": {"vet1", "commander"},
        "variance": {"armorer2", "commander2"},
    }


def test_a_custodian_armorer_of_the_site_acts_on_its_alerts(world, actor):
    from muster.accounts.services import grant_role
    from muster.armory.models import SiteCustodian

    keeper = User.objects.create_user(username="keeper", password=PASSWORD, email="k@example.org")
    grant_role(actor=actor, username="keeper", role="armorer", unit=world.far.unit)
    # The reference stamp moves with the row (a trigger), so scopes see the new custodian.
    SiteCustodian.objects.create(site=world.vault, user=keeper, since=world.later().date())
    issue(world, world.rifleman, "R0001", hours=1)
    run_alerts(now=world.later(hours=2))
    assert "k@example.org" in {m.to[0] for m in mail.outbox}
