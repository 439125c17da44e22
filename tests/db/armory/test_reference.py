"""What custody operations keep in memory (units, grants, sites, catalogue, policies) is read
again as soon as any of it changes: a database trigger gives every change a new stamp."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

import muster.policy
from muster.accounts.services import grant_role
from muster.armory.reference import custody_reference
from muster.armory.selectors import item_by_serial
from muster.armory.services.custody import issue_items
from muster.core.errors import CustodyError
from muster.core.reference import current_stamp
from muster.people.services import create_unit
from muster.policy.services import load_policy

NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()


def test_every_change_to_reference_data_gives_a_new_stamp(armory, make_person, actor, org):
    before = current_stamp()
    make_person(national_id="VD70000001")  # people are not reference data
    assert current_stamp() == before
    create_unit(
        actor=actor, code="R1-B2", name="2nd Battalion", kind="battalion", parent=org["region"]
    )
    after_unit = current_stamp()
    grant_role(actor=actor, username="clerk", role="auditor", unit=None)
    assert len({before, after_unit, current_stamp()}) == 3


def test_unchanged_reference_data_is_read_once_and_again_after_a_change(armory, actor, org):
    first = custody_reference()
    assert custody_reference() is first
    create_unit(
        actor=actor, code="R1-B3", name="3rd Battalion", kind="battalion", parent=org["region"]
    )
    again = custody_reference()
    assert again is not first
    assert any(row[1] == "R1-B3" for row in again.units.values())


def test_a_role_granted_after_a_refusal_counts_at_once(armory, rifleman, actor):
    clerk = armory["clerk"]
    rifle = item_by_serial("R0001")

    def issue():
        return issue_items(
            actor=clerk, second=armory["commander"], person=rifleman,
            item_ids=[rifle.pk], kind="checkout", hours=8,
        )  # fmt: skip

    with pytest.raises(CustodyError, match="may not authorise firearm"):
        issue()
    grant_role(actor=actor, username="clerk", role="armorer", unit=armory["vault"].unit)
    assert issue().issued


def test_a_policy_that_comes_into_force_governs_the_next_issue(armory, rifleman, actor):
    rifle = item_by_serial("R0001")
    stricter = (
        NATIONAL.replace('version: "2026.1"', 'version: "2026.2"')
        .replace(
            "effective_from: 2026-01-01", f"effective_from: {timezone.localdate().isoformat()}"
        )
        .replace("max_issue_hours: 24", "max_issue_hours: 6")
    )
    load_policy(actor=actor, text=stricter, source="national-2026.2.yaml")

    with pytest.raises(
        CustodyError, match=r"national@2026\.2 categories\.firearm\.max_issue_hours"
    ):
        issue_items(
            actor=armory["armorer"], second=armory["commander"], person=rifleman,
            item_ids=[rifle.pk], kind="checkout", hours=8,
        )  # fmt: skip
