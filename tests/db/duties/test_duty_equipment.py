"""Equipment for a shift: issued through the armory's rules, due back at the shift's end, and
shown overdue by the armory's recalls once the shift is over."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from duty_helpers import at

from muster.armory.models import Item, Site
from muster.armory.selectors import recalls
from muster.armory.services.catalogue import NewItem, receive_items
from muster.core.errors import CustodyError
from muster.duties.errors import DutyError
from muster.duties.models import ShiftIssue
from muster.duties.services import assign_person, create_shift, issue_for_shift
from muster.journal.models import JournalEntry


@pytest.fixture
def tonight(duty_world, actor):
    """The pumping station from now + 1 h for 8 h; rifleman 1 on it."""
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    shift = create_shift(
        actor=actor, post=duty_world.station, starts_at=start,
        ends_at=start + dt.timedelta(hours=8), headcount=2,
    )  # fmt: skip
    outcome = assign_person(actor=actor, shift=shift, person=duty_world.people["rifle1"])
    assert outcome.assigned
    return shift, outcome.assignment


def test_a_rifle_for_a_shift_is_due_at_its_end_and_overdue_after(duty_world, tonight, armory):
    shift, assignment = tonight
    rifle = Item.objects.get(serial="R0001")
    outcome = issue_for_shift(
        actor=armory["armorer"], second=armory["commander"], assignment=assignment,
        item_ids=[rifle.pk],
    )  # fmt: skip
    assert outcome.issued, outcome.refusals
    rifle.refresh_from_db()
    assert (rifle.place, rifle.holder_id) == ("person", duty_world.people["rifle1"].pk)
    assert (rifle.issue_kind, rifle.due_at) == ("checkout", shift.ends_at)
    [link] = ShiftIssue.objects.filter(assignment=assignment)
    assert link.item_id == rifle.pk and link.due_at == shift.ends_at
    issued = JournalEntry.objects.get(kind="custody.issued", subject_id=str(rifle.pk))
    assert f"shift {shift.pk}" in issued.body
    assert JournalEntry.objects.filter(kind="duty.equipment_issued").count() == 1
    during = [r.item.serial for r in recalls(shift.ends_at - dt.timedelta(minutes=1))]
    assert "R0001" not in during
    [after] = [r for r in recalls(shift.ends_at + dt.timedelta(minutes=1)) if r.item.pk == rifle.pk]
    assert any(reason.startswith("overdue since") for reason in after.reasons)


def test_a_shift_too_far_ahead_for_the_checkout_limit_is_refused(duty_world, armory, actor):
    """national@2026.1 lets a firearm out for 24 h at most: not two weeks before a shift."""
    shift = create_shift(
        actor=actor, post=duty_world.station, starts_at=at(0, 8), ends_at=at(0, 16), headcount=1
    )
    assignment = assign_person(
        actor=actor, shift=shift, person=duty_world.people["rifle1"]
    ).assignment
    with pytest.raises(CustodyError, match="at most 24 hours"):
        issue_for_shift(
            actor=armory["armorer"], second=armory["commander"], assignment=assignment,
            item_ids=[Item.objects.get(serial="R0002").pk],
        )  # fmt: skip
    assert Item.objects.get(serial="R0002").place == "site"


def test_a_volunteer_not_eligible_is_refused_by_policy_and_nothing_is_linked(
    duty_world, tonight, armory, actor
):
    shift, _ = tonight
    plain = assign_person(actor=actor, shift=shift, person=duty_world.people["plain"]).assignment
    outcome = issue_for_shift(
        actor=armory["armorer"], second=armory["commander"], assignment=plain,
        item_ids=[Item.objects.get(serial="R0003").pk],
    )  # fmt: skip
    assert not outcome.issued and outcome.refusals
    assert not ShiftIssue.objects.exists()
    assert JournalEntry.objects.filter(kind="custody.issue_refused").count() == 1


def test_nothing_is_issued_for_a_shift_that_is_over_or_an_assignment_cancelled(
    duty_world, tonight, armory
):
    shift, assignment = tonight
    with pytest.raises(DutyError, match="the shift is over"):
        issue_for_shift(
            actor=armory["armorer"], second=armory["commander"], assignment=assignment,
            item_ids=[Item.objects.get(serial="R0004").pk],
            now=shift.ends_at + dt.timedelta(minutes=5),
        )  # fmt: skip


def test_a_radio_needs_no_second_person(duty_world, tonight, armory, actor):
    shift, _ = tonight
    vol = assign_person(actor=actor, shift=shift, person=duty_world.people["vol"]).assignment
    receive_items(
        actor=armory["armorer"], site=Site.objects.get(code="ARM-1"), reference="SHIP-R",
        items=[NewItem("RAD-DMR", "RAD-9")],
    )  # fmt: skip
    outcome = issue_for_shift(
        actor=armory["armorer"], second=None, assignment=vol,
        item_ids=[Item.objects.get(serial="RAD-9").pk],
    )  # fmt: skip
    assert outcome.issued and outcome.items[0].due_at == shift.ends_at
