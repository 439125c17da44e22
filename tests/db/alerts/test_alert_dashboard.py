"""The dashboard's alerts panel shows, for the viewer's scope, exactly the alerts the database
holds still to be dealt with: their number per kind, how many are not acknowledged, and the
latest ones, each linking to its page."""

from __future__ import annotations

import re
from collections import Counter

from alert_world import closed_count_with_variance, expiring_award, issue
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from muster.access.scope import scope_of
from muster.accounts.models import User
from muster.alerts.job import run_alerts
from muster.alerts.models import Alert
from muster.alerts.selectors import alert_panel
from muster.alerts.services import acknowledge_alert
from muster.armory.services.counts import close_count, record_count, start_count
from muster.core.actors import Actor
from worlds import PASSWORD


def metrics(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-metric="(\w+)">([^<]*)<', html))


def page_of(username: str) -> str:
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def _world_with_alerts(world, actor) -> None:
    """Alerts in both regions: R1's overdue rifle, expiring record and variances; R2's
    variances; one R1 variance alert acknowledged."""
    issue(world, world.rifleman, "R0001", hours=1)
    expiring_award(world.rifleman, actor, days=5)
    expiring_award(world.far, actor, days=5)
    closed_count_with_variance(world)
    counter = User.objects.create_user(username="counter2", password=PASSWORD)
    count = start_count(actor=world.armorer2, site=world.vault2, counter=counter, category=None)
    record_count(actor=Actor.for_user(counter), count=count, serials=["T0001"])
    close_count(actor=Actor.for_user(counter), count=count)
    run_alerts(now=world.later(hours=2), mail=False)
    armorer = User.objects.get(username="armorer")
    first = Alert.objects.filter(kind="variance", site=world.vault).order_by("pk").first()
    acknowledge_alert(actor=Actor.for_user(armorer), scope=scope_of(armorer), alert=first)


def _database(site_paths=(), person_paths=(), everything=False) -> tuple[Counter, Counter]:
    """Active and unacknowledged alerts per kind, straight from the table, for a scope that
    sees these sites' and people's units (or everything)."""
    rows = Alert.objects.filter(state__in=["open", "acknowledged"]).values_list(
        "kind", "state", "site_path", "person_path"
    )
    active, fresh = Counter(), Counter()
    for kind, state, site_path, person_path in rows:
        seen = everything or (
            any(site_path.startswith(p) for p in site_paths if site_path)
            or any(person_path.startswith(p) for p in person_paths if person_path)
        )
        if seen:
            active[kind] += 1
            fresh[kind] += state == "open"
    return active, fresh


def test_the_panel_shows_what_the_database_holds_for_hq_and_for_an_armorer(world, actor, org):
    _world_with_alerts(world, actor)
    for username, (active, fresh) in (
        ("hq", _database(everything=True)),
        # The armorer sees the battalion's sites and, to issue to, its people.
        (
            "armorer",
            _database(site_paths=[org["battalion"].path], person_paths=[org["battalion"].path]),
        ),
        ("vet1", _database(person_paths=[org["region"].path])),
    ):
        shown = metrics(page_of(username))
        assert int(shown["alerts_active"]) == sum(active.values()), username
        for kind, n in active.items():
            assert int(shown[f"alerts_{kind}"]) == n, (username, kind)
        assert {k.removeprefix("alerts_") for k in shown if k.startswith("alerts_")} >= set(active)
        panel = alert_panel(scope_of(User.objects.get(username=username)))
        assert {k.kind: (k.active, k.unacknowledged) for k in panel.kinds} == {
            kind: (active[kind], fresh[kind]) for kind in active
        }
    # HQ sees both regions: R1's overdue, two expiring, 10 + 2 variances.
    assert _database(everything=True)[0] == {"overdue": 1, "expiring": 2, "variance": 12}
    battalion = [org["battalion"].path]
    assert _database(site_paths=battalion, person_paths=battalion)[0] == {
        "overdue": 1, "expiring": 1, "variance": 10,
    }  # fmt: skip


def test_the_panel_lists_the_latest_alerts_with_links_and_is_one_query(world, actor):
    _world_with_alerts(world, actor)
    html = page_of("armorer")
    newest = Alert.objects.filter(site=world.vault).order_by("-raised_at", "-pk")[:5]
    for alert in newest:
        assert reverse("web:alert", args=[alert.pk]) in html
    assert reverse("web:alerts") in html
    scope = scope_of(User.objects.get(username="armorer"))
    with CaptureQueriesContext(connection) as queries:
        panel = alert_panel(scope)
    assert len(queries) == 1
    assert len(panel.latest) == 5 and panel.unacknowledged == panel.active - 1


def test_a_scope_without_alerts_sees_an_empty_panel_and_a_volunteer_none(world):
    html = page_of("commander_b2")
    assert 'id="alerts-panel"' in html and "No alerts to deal with." in html
    client = Client()
    client.force_login(User.objects.get(username="vol1"))
    assert client.get(reverse("home")).status_code == 302  # their own record
