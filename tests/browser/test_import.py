"""Importing through a real browser: a roster with errors shows the row-by-row error table and
nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.people.models import Person
from muster.people.services import create_unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
IMPORT_PASSWORD = "correct horse battery staple"


@pytest.fixture
def roster_clerk(db, actor, settings, tmp_path):
    """HQ staff over units R1 > R1-B1 > R1-B1-C1, uploads kept in a directory of this test."""
    settings.VAR_DIR = tmp_path
    region = create_unit(
        actor=actor, code="R1", name="North", kind="region", jurisdiction="national"
    )
    battalion = create_unit(actor=actor, code="R1-B1", name="1st", kind="battalion", parent=region)
    create_unit(actor=actor, code="R1-B1-C1", name="A Company", kind="company", parent=battalion)
    User.objects.create_user(username="importer", password=IMPORT_PASSWORD)
    grant_role(actor=actor, username="importer", role="hq_staff", unit=None)


@pytest.mark.django_db(transaction=True)
def test_a_roster_with_errors_shows_the_error_table(page, live_server, roster_clerk, shot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("importer")
    page.get_by_label("Password").fill(IMPORT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/imports/")
    shot("imports")
    page.get_by_label("File (CSV or XLSX)").set_input_files(str(FIXTURES / "broken_roster.csv"))
    page.get_by_role("button", name="Check the file").click()

    table = page.locator("table.import-problems")
    table.wait_for()
    assert page.get_by_role("alert").get_by_text("Nothing was written").is_visible()
    rows = table.locator("tbody tr")
    assert rows.count() >= 7
    assert table.get_by_text("R9-X").is_visible()
    assert page.get_by_role("button", name="Confirm import").count() == 0
    shot("import-errors")
    assert not Person.objects.exists()
