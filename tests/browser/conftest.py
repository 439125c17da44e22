"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, headless, never a
downloaded browser) against Django's live server, on whichever database the run uses.
Screenshots of the main pages go to test-artifacts/screenshots/ (not committed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.armory.models import Item
from muster.armory.services.custody import issue_items
from worlds import PASSWORD

# Playwright's sync API runs an event loop in this thread; the live server's database work is
# still synchronous Django. Only the test process sets this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("MUSTER_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap.sh test)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _short_timeouts(page):
    """A page that does not come within 10 s will not come: fail fast, not after 30 s."""
    page.set_default_timeout(10_000)


@pytest.fixture
def shot(page):
    """Save a screenshot of the page as test-artifacts/screenshots/NAME.png."""

    def save(name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


# A world with an armory, as tests/db/armory/conftest.py builds it, kept to what the browser
# flows use: the national policy, a battalion vault ARM-1 with rifles R0001-R0010, an armorer
# and a commander of the battalion, and an auditor. Fixtures of tests/db are not visible here.


@pytest.fixture(autouse=True)
def _fast_password_hashing(fast_password_hashing):
    """Browser tests hash passwords fast too (see worlds.fast_password_hashing)."""


@pytest.fixture(autouse=True)
def _log_key(settings, tmp_path):
    """Each test signs its log with a key of its own (muster.journal.log)."""
    settings.LOG_KEY_FILE = tmp_path / "log.key"
    settings.LOG_ORIGIN = "muster.test/log"


@pytest.fixture
def auditor(armory, actor):
    """An auditor over everything (read-only)."""
    User.objects.create_user(username="auditor", password=PASSWORD)
    grant_role(actor=actor, username="auditor", role="auditor", unit=None)


@pytest.fixture
def recruit(armory, make_person):
    """An active volunteer of A Company with no qualification at all."""
    return make_person(national_id="VD50000002", family_name="Melnyk", given_name="Ivan")


@pytest.fixture
def sign_in(page, live_server):
    """Sign in through the login page and wait for the dashboard."""

    def sign_in_as(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")

    return sign_in_as


@pytest.fixture
def issued(armory, rifleman):
    """R0001 issued to the rifleman for a shift, through the custody service."""
    outcome = issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        item_ids=[Item.objects.get(serial="R0001").pk],
        kind="checkout",
        hours=8,
    )
    assert outcome.issued
    return outcome.items[0]
