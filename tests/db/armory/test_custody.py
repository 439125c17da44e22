"""Issuing and returning: the armorer at night, with the commander confirming."""

from __future__ import annotations

import pytest

from muster.armory.models import Item, Lot, QuotaUsage, Shipment
from muster.armory.selectors import holdings_of, item_by_serial, item_history
from muster.armory.services.ammunition import receive_lot
from muster.armory.services.catalogue import NewItem, receive_items
from muster.armory.services.custody import Returned, issue_items, return_items
from muster.core.errors import CustodyError
from muster.journal.models import JournalEntry


def rifle(serial="R0001"):
    return item_by_serial(serial)


def test_issue_with_two_persons_then_return(armory, rifleman):
    outcome = issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        item_ids=[rifle().pk],
        kind="checkout",
        hours=8,
    )
    assert outcome.issued
    item = rifle()
    assert (item.place, item.holder, item.site) == ("person", rifleman, None)
    assert item.due_at is not None
    assert [i.serial for i in holdings_of(rifleman).items] == ["R0001"]
    assert QuotaUsage.objects.get().issued == 1

    return_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        returns=[Returned(item.pk, "unserviceable", "bent sling swivel")],
    )
    item = rifle()
    assert (item.place, item.site, item.holder, item.condition) == (
        "site",
        armory["vault"],
        None,
        "unserviceable",
    )
    assert QuotaUsage.objects.get().issued == 0
    kinds = [e.kind for e in item_history(item)]
    assert kinds == ["custody.received", "custody.issued", "custody.returned"]
    events = item_history(item)
    assert events[1].data["prev"] == events[0].seq and events[2].data["prev"] == events[1].seq
    assert events[1].data["second_person"] == "commander"


def test_a_firearm_needs_a_second_person(armory, rifleman):
    with pytest.raises(CustodyError, match="two-person rule"):
        issue_items(actor=armory["armorer"], second=None, person=rifleman, item_ids=[rifle().pk])
    with pytest.raises(CustodyError, match="different person"):
        issue_items(
            actor=armory["armorer"],
            second=armory["armorer"],
            person=rifleman,
            item_ids=[rifle().pk],
        )
    with pytest.raises(CustodyError, match="clerk may not authorise"):
        issue_items(
            actor=armory["armorer"], second=armory["clerk"], person=rifleman, item_ids=[rifle().pk]
        )
    assert rifle().place == "site"


def test_an_ineligible_person_is_refused_with_reasons_and_the_refusal_is_journaled(
    armory, make_person
):
    recruit = make_person(national_id="VD50000009")
    outcome = issue_items(
        actor=armory["armorer"], second=armory["commander"], person=recruit, item_ids=[rifle().pk]
    )
    assert not outcome.issued
    assert any("firearms_training" in r.message for r in outcome.refusals)
    assert rifle().place == "site"
    refusal = JournalEntry.objects.get(kind="custody.issue_refused")
    assert refusal.subject_id == str(recruit.pk)


def test_an_item_cannot_be_issued_twice(armory, rifleman, vetted_rifleman):
    other = vetted_rifleman("VD50000002")
    issue_items(
        actor=armory["armorer"], second=armory["commander"], person=rifleman, item_ids=[rifle().pk]
    )
    with pytest.raises(CustodyError, match="issued to a person; issue needs it at a storage site"):
        issue_items(
            actor=armory["armorer"], second=armory["commander"], person=other, item_ids=[rifle().pk]
        )


def test_returns_that_make_no_sense_are_refused(armory, rifleman, make_person):
    other = make_person(national_id="VD50000003")
    with pytest.raises(CustodyError, match="not issued to anyone"):
        return_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=rifleman,
            returns=[Returned(rifle().pk)],
        )
    issue_items(
        actor=armory["armorer"], second=armory["commander"], person=rifleman, item_ids=[rifle().pk]
    )
    with pytest.raises(CustodyError, match="held by VD50000001, not by VD50000003"):
        return_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=other,
            returns=[Returned(rifle().pk)],
        )
    return_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        returns=[Returned(rifle().pk)],
    )
    with pytest.raises(CustodyError, match="not issued to anyone"):
        return_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=rifleman,
            returns=[Returned(rifle().pk)],
        )


def test_the_database_refuses_an_item_in_two_places(armory):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=rifle().pk).update(place="person")  # at a site and with nobody


def test_an_overdue_checkout_and_a_lapsed_holder_are_recalls(
    armory, rifleman, vetted_rifleman, actor
):
    import datetime as dt

    from django.utils import timezone

    from muster.armory.selectors import recalls
    from muster.people.services import change_status

    late = vetted_rifleman("VD50000004")
    issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        item_ids=[rifle("R0001").pk],
        kind="checkout",
        hours=2,
    )
    issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=late,
        item_ids=[rifle("R0002").pk],
        kind="assignment",
    )
    assert recalls(timezone.now()) == []
    change_status(
        actor=actor,
        person=late,
        to_status="suspended",
        effective_on=timezone.localdate(),
        reason="inquiry",
    )
    found = {r.item.serial: r.reasons for r in recalls(timezone.now() + dt.timedelta(hours=3))}
    assert set(found) == {"R0001", "R0002"}
    assert found["R0001"][0].startswith("overdue since")
    assert any("suspended" in reason for reason in found["R0002"])


def test_only_an_authoriser_over_the_holder_records_rounds_fired(armory, rifleman):
    from muster.armory.services.ammunition import expend_ammunition, issue_ammunition

    lot = receive_lot(
        actor=armory["armorer"],
        site=armory["vault"],
        model_code="AMM-556",
        lot_number="L-1",
        quantity=1000,
        reference="SHIP-AMMO",
    )
    issued, _ = issue_ammunition(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        lot=lot,
        site=armory["vault"],
        quantity=60,
    )
    assert issued
    with pytest.raises(CustodyError, match="clerk may not record ammunition expended"):
        expend_ammunition(
            actor=armory["clerk"], person=rifleman, lot=lot, quantity=30, reason="range"
        )
    expend_ammunition(
        actor=armory["armorer"], person=rifleman, lot=lot, quantity=30, reason="range"
    )
    lot.refresh_from_db()
    assert lot.expended_total == 30


def test_an_item_named_twice_in_one_issue_is_refused(armory, rifleman):
    with pytest.raises(CustodyError, match="named twice"):
        issue_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=rifleman,
            item_ids=[rifle().pk, rifle().pk],
        )


def test_only_an_authorised_person_receives_into_a_site(armory, actor):
    shipment = [NewItem("VPR-223", "R0900"), NewItem("RAD-DMR", "D-0900")]
    for who, why in (
        (armory["clerk"], "clerk may not receive into ARM-1 (needs the role armorer over it"),
        (actor, "must be an authenticated user"),
    ):
        with pytest.raises(CustodyError) as refused:
            receive_items(actor=who, site=armory["vault"], reference="SHIP-900", items=shipment)
        assert why in str(refused.value)
        assert "shipment SHIP-900" in str(refused.value)
        with pytest.raises(CustodyError, match=r"may not receive into ARM-1|authenticated"):
            receive_lot(
                actor=who, site=armory["vault"], model_code="AMM-556", lot_number="L-900",
                quantity=100, reference="SHIP-901",
            )  # fmt: skip
    assert not Item.objects.filter(serial__in=["R0900", "D-0900"]).exists()
    assert not Lot.objects.filter(lot_number="L-900").exists()
    assert not Shipment.objects.filter(reference="SHIP-900").exists()

    receive_items(
        actor=armory["armorer"], site=armory["vault"], reference="SHIP-900", items=shipment
    )
    assert Item.objects.filter(serial__in=["R0900", "D-0900"], place="site").count() == 2
