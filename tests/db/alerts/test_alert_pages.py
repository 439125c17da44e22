"""The alerts pages, every role × every page over two regions: the list, one alert, and the
acknowledge and resolve forms. A form that is done redirects (302) and writes one journal
entry; a refusal writes nothing; the list shows an alert exactly when its page opens.

PAGE_EXPECTATIONS (and PAGE_EXPECTATIONS_THERE, for the other region's alert) give the status
each role of tests/db/test_page_access.py gets, for a variance alert of a site of the role's
own region (battalion or company level): commander, vetting officer and armorer hold their
grants on the battalion, the volunteer on the company. The POSTs send a valid note."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from muster.accounts.models import User
from muster.alerts.models import Alert
from muster.journal.models import JournalEntry

ROLES = (
    "anonymous",
    "hq_staff",
    "auditor",
    "regional_admin",
    "commander",
    "vetting_officer",
    "armorer",
    "volunteer",
)


def _expect(**statuses: int) -> dict[str, int]:
    assert set(statuses) == set(ROLES)
    return statuses


PAGE_EXPECTATIONS: dict[str, dict[str, int]] = {
    # The list: for every role whose scope reaches units or sites; not a volunteer's.
    "web:alerts": _expect(
        anonymous=302, hq_staff=200, auditor=200, regional_admin=200, commander=200,
        vetting_officer=200, armorer=200, volunteer=403,
    ),
    # A variance alert of the region's site: seen by those who see the site.
    "web:alert": _expect(
        anonymous=302, hq_staff=200, auditor=200, regional_admin=200, commander=200,
        vetting_officer=404, armorer=200, volunteer=403,
    ),
    # Acted on by the site's armorers and its unit's commanders only.
    "web:alert-acknowledge": _expect(
        anonymous=302, hq_staff=403, auditor=403, regional_admin=403, commander=302,
        vetting_officer=404, armorer=302, volunteer=403,
    ),
    "web:alert-resolve": _expect(
        anonymous=302, hq_staff=403, auditor=403, regional_admin=403, commander=302,
        vetting_officer=404, armorer=302, volunteer=403,
    ),
}  # fmt: skip
PAGE_EXPECTATIONS_THERE: dict[str, dict[str, int]] = {
    "web:alert": _expect(
        anonymous=302, hq_staff=200, auditor=200, regional_admin=404, commander=404,
        vetting_officer=404, armorer=404, volunteer=403,
    ),
    "web:alert-acknowledge": _expect(
        anonymous=302, hq_staff=403, auditor=403, regional_admin=404, commander=404,
        vetting_officer=404, armorer=404, volunteer=403,
    ),
    "web:alert-resolve": _expect(
        anonymous=302, hq_staff=403, auditor=403, regional_admin=404, commander=404,
        vetting_officer=404, armorer=404, volunteer=403,
    ),
}  # fmt: skip
DATA = {
    "web:alert-acknowledge": {"note": "on it"},
    "web:alert-resolve": {"note": "recounted: all there"},
}
# The world's account for each role of region 1 (alert_world.ACCOUNTS and the armory's).
USERS = {
    "hq_staff": "hq",
    "auditor": "auditor",
    "regional_admin": "admin1",
    "commander": "commander",
    "vetting_officer": "vet1",
    "armorer": "armorer",
    "volunteer": "vol1",
}


def _request(username: str | None, name: str, alert: Alert | None) -> tuple[int, str, int]:
    """(status, body, journal entries written), undone afterwards."""
    client = Client()
    if username:
        client.force_login(User.objects.get(username=username))
    url = reverse(name, args=[alert.pk]) if alert else reverse(name)
    with transaction.atomic():
        before = JournalEntry.objects.count()
        response = client.post(url, DATA[name]) if name in DATA else client.get(url)
        wrote = JournalEntry.objects.count() - before
        transaction.set_rollback(True)
    return response.status_code, response.content.decode(), wrote


@pytest.mark.parametrize("role", ROLES)
def test_each_alerts_page_answers_each_role_as_the_table_says(alerts, world, role):
    username = USERS.get(role)
    here = Alert.objects.filter(kind="variance", site=world.vault).order_by("pk").first()
    there = alerts["there"]
    wrong = []
    bodies = {}
    for table, alert in ((PAGE_EXPECTATIONS, here), (PAGE_EXPECTATIONS_THERE, there)):
        for name, expected in table.items():
            status, body, wrote = _request(username, name, None if name == "web:alerts" else alert)
            bodies[(name, alert.pk)] = (status, body)
            if status != expected[role]:
                wrong.append(
                    f"{role}: {name} ({alert.site.code}): {status}, expected {expected[role]}"
                )
            if name in DATA and wrote != (1 if status == 302 and username else 0):
                wrong.append(f"{role}: {name} ({alert.site.code}): {status} wrote {wrote}")
    status, listing = bodies[("web:alerts", here.pk)]
    if status == 200:
        for alert in (here, there):
            shown = reverse("web:alert", args=[alert.pk]) in listing
            opens = bodies[("web:alert", alert.pk)][0] == 200
            if shown != opens:
                wrong.append(f"{role}: the list {'shows' if shown else 'hides'} alert {alert.pk}")
    assert not wrong, "\n".join(wrong)


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_an_alert_is_acknowledged_and_resolved_from_its_page(alerts):
    overdue = alerts["overdue"]
    client = _client("armorer")
    page = client.get(reverse("web:alert", args=[overdue.pk])).content.decode()
    assert reverse("web:alert-acknowledge", args=[overdue.pk]) in page
    assert reverse("web:item", args=[overdue.item_id]) in page
    assert "Shevchenko Taras" in page  # the holder, whom the armorer sees
    done = client.post(reverse("web:alert-acknowledge", args=[overdue.pk]), {"note": "calling"})
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    assert "calling" in page and reverse("web:alert-acknowledge", args=[overdue.pk]) not in page
    empty = client.post(reverse("web:alert-resolve", args=[overdue.pk]), {"note": ""})
    assert empty.status_code == 200 and "errorlist" in empty.content.decode()
    done = client.post(reverse("web:alert-resolve", args=[overdue.pk]), {"note": "returned"})
    assert done.status_code == 302
    overdue.refresh_from_db()
    assert overdue.state == "resolved"
    again = client.post(reverse("web:alert-resolve", args=[overdue.pk]), {"note": "again"})
    assert again.status_code == 200 and "already resolved by armorer" in again.content.decode()


def test_the_list_filters_by_kind_state_and_unit(alerts):
    client = _client("hq")
    url = reverse("web:alerts")

    def shown(**query: str) -> set[int]:
        body = client.get(url, query).content.decode()
        return {a.pk for a in Alert.objects.all() if reverse("web:alert", args=[a.pk]) in body}

    assert shown(kind="expiring") == {alerts["expiring"].pk}
    assert shown(unit="R2") == set(
        Alert.objects.filter(site__code="ARM-2").values_list("pk", flat=True)
    )
    assert shown(state="resolved") == set()
    body = client.get(url, {"kind": "nonsense"}).content.decode()
    assert "Nothing was done" in body and "kind" in body


def test_the_page_of_someone_who_sees_the_alert_but_not_its_person_hides_them(alerts, actor):
    from muster.accounts.services import grant_role
    from muster.armory.models import SiteCustodian

    keeper = User.objects.create_user(username="keeper", password="x")
    grant_role(actor=actor, username="keeper", role="armorer", unit=alerts["there"].unit)
    SiteCustodian.objects.create(
        site=alerts["overdue"].site, user=keeper, since=alerts["overdue"].raised_at.date()
    )
    page = _client("keeper").get(reverse("web:alert", args=[alerts["overdue"].pk]))
    assert page.status_code == 200
    assert "Shevchenko" not in page.content.decode()
