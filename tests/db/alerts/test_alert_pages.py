"""The alerts pages as those who must act use them: an alert acknowledged and resolved from its
page, the list filtered, and the holder of an item hidden from whoever does not see them.
Who gets which page (every role, both regions) is tests/db/test_page_access.py's."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from muster.accounts.models import User
from muster.alerts.models import Alert


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
