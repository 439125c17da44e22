"""Kits: a rifle with its radio goes out together; what does not come back is listed short."""

from __future__ import annotations

import datetime as dt

import pytest

from muster.armory.models import Item, Kit
from muster.armory.selectors import holdings_of, item_by_serial
from muster.armory.services.catalogue import NewItem, receive_items
from muster.armory.services.kits import define_kit, issue_kit, return_kit
from muster.core.errors import CustodyError
from muster.journal.models import JournalEntry
from muster.vetting.services import NewQualification, award_qualifications


@pytest.fixture
def kit(armory, actor):
    """Kit K-01 at the vault: rifle R0001 and radio D-0001."""
    receive_items(
        actor=armory["armorer"],
        site=armory["vault"],
        reference="SHIP-RAD",
        items=[NewItem("RAD-DMR", "D-0001"), NewItem("RAD-DMR", "D-0002")],
    )
    return define_kit(
        actor=armory["armorer"],
        code="K-01",
        name="Rifleman's kit",
        item_ids=[item_by_serial("R0001").pk, item_by_serial("D-0001").pk],
    )


@pytest.fixture
def issued(armory, rifleman, kit, actor):
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=rifleman,
                type_code="radio_operator",
                obtained_on=dt.date.today() - dt.timedelta(days=10),
            )
        ],
    )
    outcome = issue_kit(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        kit=kit,
        kind="checkout",
        hours=8,
    )
    assert outcome.issued
    return kit


def test_a_kit_is_issued_whole(armory, rifleman, issued):
    held = sorted(i.serial for i in holdings_of(rifleman).items)
    assert held == ["D-0001", "R0001"]
    assert JournalEntry.objects.filter(kind="custody.issued").count() == 2
    assert JournalEntry.objects.get(kind="kit.issued").subject_id == "K-01"


def test_an_incomplete_return_lists_the_shortage_and_the_short_item_stays_held(
    armory, rifleman, issued
):
    shortage = return_kit(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        kit=issued,
        returned_serials=["R0001"],
        condition="serviceable",
    )
    assert [i.serial for i in shortage] == ["D-0001"]
    assert item_by_serial("R0001").place == "site"
    radio = item_by_serial("D-0001")
    assert (radio.place, radio.holder) == ("person", rifleman)
    assert [i.serial for i in holdings_of(rifleman).items] == ["D-0001"]
    entry = JournalEntry.objects.get(kind="kit.returned_incomplete")
    assert "D-0001" in entry.body


def test_a_complete_return_has_no_shortage(armory, rifleman, issued):
    shortage = return_kit(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        kit=issued,
        returned_serials=["R0001", "D-0001"],
        condition="serviceable",
    )
    assert shortage == []
    assert holdings_of(rifleman).items == []
    assert JournalEntry.objects.filter(kind="kit.returned").exists()


def test_a_return_naming_a_stranger_is_refused_and_changes_nothing(armory, rifleman, issued):
    with pytest.raises(CustodyError, match="is not an item of this kit"):
        return_kit(
            actor=armory["armorer"],
            second=armory["commander"],
            person=rifleman,
            kit=issued,
            returned_serials=["R0001", "R0005"],
            condition="serviceable",
        )
    assert len(holdings_of(rifleman).items) == 2


def test_an_ineligible_person_gets_none_of_the_kit(armory, make_person, kit):
    recruit = make_person(national_id="VD50000077")
    outcome = issue_kit(
        actor=armory["armorer"], second=armory["commander"], person=recruit, kit=kit, hours=8
    )
    assert not outcome.issued and len(outcome.decisions) == 2
    assert set(Item.objects.filter(kit=kit).values_list("place", flat=True)) == {"site"}


def test_kits_are_defined_from_free_items_at_one_site(armory, kit):
    with pytest.raises(CustodyError, match="is already in another kit"):
        define_kit(
            actor=armory["armorer"],
            code="K-02",
            name="Second kit",
            item_ids=[item_by_serial("R0001").pk, item_by_serial("D-0002").pk],
        )
    with pytest.raises(CustodyError, match="two or more"):
        define_kit(
            actor=armory["armorer"],
            code="K-03",
            name="Lonely",
            item_ids=[item_by_serial("R0002").pk],
        )
    assert list(Kit.objects.values_list("code", flat=True)) == ["K-01"]
