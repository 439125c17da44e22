"""The main pages in a real browser, each checked against the database: the dashboard's
numbers, a commander's reach (roster, person, another battalion's person), an item's
verified history and its proof bundle, and the auditor's page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from muster.access.scope import scope_of
from muster.accounts.models import User
from muster.armory.models import Item
from muster.journal import log
from muster.people.models import Person
from muster.people.services import create_unit
from muster.vetting.selectors import eligibility_of
from muster.web.dashboard import readiness
from muster_verify.note import parse_verifier_key
from muster_verify.proof import verify_bundle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def southern(org, make_person, actor):
    """A battalion of the Southern Region and one volunteer in it."""
    battalion = create_unit(
        actor=actor,
        code="R2-B1",
        name="2nd Battalion",
        kind="battalion",
        parent=org["other_region"],
    )
    return make_person(
        national_id="VD70000001", family_name="Bondar", given_name="Oksana", unit=battalion
    )


@pytest.fixture
def battalion_people(issued, recruit, vetted_rifleman, make_person, southern):
    """In the 1st Battalion: the rifleman (vetted, holding R0001), a second vetted volunteer,
    the recruit (no qualifications), a discharged volunteer; one more in the south."""
    vetted_rifleman(national_id="VD50000003", given_name="Olena")
    make_person(national_id="VD50000004", status="discharged")


def metric(page, name):
    return page.locator(f"[data-metric={name}]").inner_text().strip()


def test_the_dashboard_numbers_match_the_database(page, sign_in, org, battalion_people, shot):
    sign_in("commander")
    names = ("members", "eligible", "items_issued", "firearms_issued")
    shown = {name: metric(page, name) for name in names}
    shot("dashboard")

    counted = readiness_of("commander")
    mine = Person.objects.filter(unit__path__startswith=org["battalion"].path)
    today = timezone.localdate()
    eligible = sum(
        any(d.allowed for d in eligibility_of(p, today) if d.target.split("/")[0] == "firearm")
        for p in mine.filter(status="active")
    )
    direct = {
        "members": mine.exclude(status="discharged").count(),
        "eligible": eligible,
        "items_issued": Item.objects.filter(place="person", home_site__code="ARM-1").count(),
        "firearms_issued": Item.objects.filter(
            place="person", model__category__code="firearm"
        ).count(),
    }
    assert shown == {
        "members": str(counted.members),
        "eligible": str(counted.eligible),
        "items_issued": str(counted.items_issued),
        "firearms_issued": str(counted.firearms_issued),
    }
    assert shown == {key: str(value) for key, value in direct.items()}
    assert shown == {"members": "3", "eligible": "2", "items_issued": "1", "firearms_issued": "1"}


def readiness_of(username):
    return readiness(scope_of(User.objects.get(username=username)))


def test_a_commander_sees_their_battalion_but_not_another(
    page, live_server, sign_in, rifleman, southern, shot
):
    sign_in("commander")
    page.goto(f"{live_server.url}/people/")
    roster = page.locator("main table").inner_text()
    assert "VD50000001" in roster and "VD70000001" not in roster
    shot("roster")

    page.get_by_role("link", name="Shevchenko Taras").click()
    page.get_by_role("heading", name="Shevchenko Taras").wait_for()
    assert "firearm/rifle" in page.locator("main").inner_text()
    shot("person")

    response = page.goto(f"{live_server.url}/people/{southern.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "Bondar" not in page.content()
    shot("person-elsewhere-not-found")


def test_the_item_page_shows_verified_and_its_proof_bundle_checks_out(
    page, live_server, sign_in, issued, shot
):
    sign_in("armorer")
    page.goto(f"{live_server.url}/items/")
    assert page.get_by_role("link", name="R0010").is_visible()
    shot("items")

    page.get_by_role("link", name="R0001").click()
    page.get_by_role("heading", name="VPR-223 R0001").wait_for()
    mark = page.locator("[data-verified=yes]")
    assert mark.is_visible() and "verified" in mark.inner_text()
    shot("item")

    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download the proof bundle").click()
    download = waiting.value
    assert download.suggested_filename == "VPR-223-R0001.item-proof"
    bundle = download.path().read_text(encoding="utf-8")
    history = verify_bundle(bundle, parse_verifier_key(log.verifier_key()))
    kinds = [event["kind"] for event in history.events]
    assert kinds[-1] == "custody.issued" and len(kinds) >= 2


def test_the_auditor_page_shows_the_key_and_checkpoint_to_verify_with(
    page, live_server, sign_in, issued, auditor, shot
):
    signed = log.integrate().checkpoint  # the operator's routine `muster log integrate`
    sign_in("auditor")
    page.goto(f"{live_server.url}/audit/")
    page.get_by_role("heading", name="The log, for auditors").wait_for()
    assert page.locator("pre.key").inner_text().strip() == log.verifier_key()
    assert page.locator("pre.note").first.inner_text().strip() == signed.note.strip()
    shot("audit")
