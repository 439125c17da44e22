"""A blind count on the phone: the armorer starts it for an independent counter, the counter
records serials (a typed list, and one scanned serial at a time through htmx) seeing only how
many, closes it, and the armorer resolves the variance with the commander confirming; users
outside the site get 404, those whose roles do not order counts 403."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.models import InventoryCount, Variance

PASSWORD = "correct horse battery staple"  # every user's password in the armory fixture
EXPECTED = [f"R{n:04d}" for n in range(1, 11)]


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def counter(armory):
    return User.objects.create_user(username="counter1", password=PASSWORD)


@pytest.fixture
def started(armory, counter):
    """A blind count of the vault, started through the web by the armorer."""
    page = client_of("armorer").post(
        reverse("web:count-start"), {"site": armory["vault"].pk, "counter": "counter1"}
    )
    count = InventoryCount.objects.get()
    assert page.status_code == 302 and page["Location"] == reverse("web:count", args=[count.pk])
    return count


def test_the_armorer_starts_a_blind_count_and_the_counter_sees_it_in_their_list(started):
    assert started.blind and started.counter.username == "counter1"
    listing = client_of("counter1").get(reverse("web:counts")).content.decode()
    assert reverse("web:count", args=[started.pk]) in listing
    assert "Start a count" not in listing  # the counter does not order counts


def test_a_blind_count_never_shows_the_expected_serials(started):
    for username in ("counter1", "armorer"):
        html = client_of(username).get(reverse("web:count", args=[started.pk])).content.decode()
        assert not any(serial in html for serial in EXPECTED), username
    counter = client_of("counter1")
    counter.post(reverse("web:count-record", args=[started.pk]), {"serials": "R0001\nR0002"})
    html = counter.get(reverse("web:count", args=[started.pk])).content.decode()
    assert 'data-recorded="2"' in html
    assert not any(serial in html for serial in EXPECTED[2:])
    sheet = counter.get(reverse("web:count-sheet", args=[started.pk]))
    assert sheet.content.startswith(b"%PDF")


def test_the_counter_records_by_list_and_by_scan_closes_and_sees_the_variance(started):
    counter = client_of("counter1")
    typed = "\n".join(EXPECTED[:8])
    page = counter.post(reverse("web:count-record", args=[started.pk]), {"serials": typed})
    assert page.status_code == 302
    scanned = counter.post(
        reverse("web:count-record", args=[started.pk]),
        {"serials": "R0009"},
        HTTP_HX_REQUEST="true",
    )
    html = scanned.content.decode()
    assert scanned.status_code == 200 and 'id="tally"' in html and "<html" not in html
    assert 'data-recorded="9"' in html and "R0009" in html
    closed = counter.post(reverse("web:count-close", args=[started.pk]))
    assert closed.status_code == 302
    report = counter.get(reverse("web:count", args=[started.pk])).content.decode()
    assert "R0010" in report and "Missing" in report
    assert "Resolve" not in report  # the counter does not resolve
    pdf = counter.get(reverse("web:count-variances", args=[started.pk]))
    assert pdf.content.startswith(b"%PDF")


def test_a_wrong_serial_list_shows_the_services_error_and_records_nothing(started):
    page = client_of("armorer").post(
        reverse("web:count-record", args=[started.pk]), {"serials": "R0001"}
    )
    assert "only the assigned counter" in page.content.decode()
    assert not started.records.exists()


def _closed_with_r0010_missing(started):
    counter = client_of("counter1")
    counter.post(
        reverse("web:count-record", args=[started.pk]), {"serials": "\n".join(EXPECTED[:9])}
    )
    counter.post(reverse("web:count-close", args=[started.pk]))
    return Variance.objects.get(count=started)


def test_the_armorer_resolves_a_variance_with_the_commander_confirming(started):
    variance = _closed_with_r0010_missing(started)
    url = reverse("web:variance-resolve", args=[started.pk, variance.pk])
    prefix = f"v{variance.pk}-"
    form = {f"{prefix}resolution": "found", f"{prefix}note": "in the cleaning room"}
    alone = client_of("armorer").post(url, form)
    assert "second person" in alone.content.decode() or "two-person" in alone.content.decode()
    assert Variance.objects.get(pk=variance.pk).resolution == ""
    confirmed = client_of("armorer").post(
        url,
        {**form, f"{prefix}second_username": "commander", f"{prefix}second_password": PASSWORD},
    )
    assert confirmed.status_code == 302
    assert Variance.objects.get(pk=variance.pk).resolution == "found"


def test_others_get_not_found_or_refused(started, actor, org):
    User.objects.create_user(username="south", password=PASSWORD)
    grant_role(actor=actor, username="south", role="armorer", unit=org["other_region"])
    variance = _closed_with_r0010_missing(started)
    count_url = reverse("web:count", args=[started.pk])
    for username in ("clerk", "south"):
        client = client_of(username)
        assert client.get(count_url).status_code == 404
        assert client.get(reverse("web:count-sheet", args=[started.pk])).status_code == 404
        assert client.get(reverse("web:count-variances", args=[started.pk])).status_code == 404
        assert count_url not in client.get(reverse("web:counts")).content.decode()
    assert client_of("clerk").post(reverse("web:count-start"), {}).status_code == 403
    assert client_of("commander").post(reverse("web:count-start"), {}).status_code == 403
    resolve = reverse("web:variance-resolve", args=[started.pk, variance.pk])
    assert client_of("commander").post(resolve, {}).status_code == 403
    assert client_of("south").post(resolve, {}).status_code == 404
    assert client_of("clerk").post(reverse("web:count-close", args=[started.pk])).status_code == 404
