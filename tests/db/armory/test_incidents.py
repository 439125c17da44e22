"""Incidents: a damaged rifle is reported, investigated and closed, one note at a time."""

from __future__ import annotations

import pytest

from muster.armory.models import Incident, IncidentNote
from muster.armory.selectors import item_by_serial
from muster.armory.services.custody import issue_items
from muster.armory.services.incidents import add_incident_note, open_incident
from muster.armory.services.movements import report_missing
from muster.core.errors import CustodyError
from muster.journal.models import JournalEntry


@pytest.fixture
def damage(armory, rifleman):
    return open_incident(
        actor=armory["armorer"],
        kind="damage",
        summary="R0001 came back with a cracked stock",
        item_ids=[item_by_serial("R0001").pk],
        person_ids=[rifleman.pk],
    )


def test_an_incident_goes_open_investigating_closed_with_notes(armory, rifleman, damage):
    assert (damage.status, damage.kind) == ("open", "damage")
    assert list(damage.items.all()) == [item_by_serial("R0001")]
    assert list(damage.people.all()) == [rifleman]

    add_incident_note(actor=armory["armorer"], incident=damage, text="photos taken")
    add_incident_note(
        actor=armory["commander"],
        incident=damage,
        text="asked the range officer",
        status_to="investigating",
    )
    add_incident_note(
        actor=armory["commander"],
        incident=damage,
        text="dropped from the truck; stock replaced",
        status_to="closed",
    )

    assert Incident.objects.get(pk=damage.pk).status == "closed"
    assert [n.status_to for n in IncidentNote.objects.order_by("pk")] == [
        "",
        "investigating",
        "closed",
    ]
    kinds = list(
        JournalEntry.objects.filter(subject_type="incident")
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "incident.opened",
        "incident.noted",
        "incident.noted",
        "incident.status_changed",
        "incident.noted",
        "incident.status_changed",
    ]


def test_an_open_incident_may_be_closed_at_once_but_not_without_a_note(armory, damage):
    with pytest.raises(CustodyError, match="closing an incident needs a note"):
        add_incident_note(actor=armory["commander"], incident=damage, text=" ", status_to="closed")
    assert not IncidentNote.objects.exists()
    add_incident_note(
        actor=armory["commander"], incident=damage, text="duplicate of 7", status_to="closed"
    )
    assert Incident.objects.get(pk=damage.pk).status == "closed"


def test_the_status_moves_only_forward_and_a_closed_incident_stays_closed(armory, damage):
    add_incident_note(
        actor=armory["commander"], incident=damage, text="looking", status_to="investigating"
    )
    with pytest.raises(CustodyError, match="is investigating; it may move only to closed"):
        add_incident_note(actor=armory["commander"], incident=damage, text="back", status_to="open")
    add_incident_note(actor=armory["commander"], incident=damage, text="done", status_to="closed")
    with pytest.raises(CustodyError, match="is closed"):
        add_incident_note(actor=armory["commander"], incident=damage, text="one more thing")
    assert IncidentNote.objects.count() == 2


def test_only_an_authorised_person_changes_the_status(armory, damage):
    with pytest.raises(CustodyError, match="clerk may not change the status"):
        add_incident_note(
            actor=armory["clerk"], incident=damage, text="closing", status_to="closed"
        )
    add_incident_note(actor=armory["clerk"], incident=damage, text="I saw it happen")
    assert Incident.objects.get(pk=damage.pk).status == "open"


def test_bad_incidents_are_refused_whole(armory):
    with pytest.raises(CustodyError) as refused:
        open_incident(actor=armory["armorer"], kind="mischief", summary="", item_ids=[999_999])
    assert {p.field for p in refused.value.problems} == {"kind", "summary", "items"}
    assert not Incident.objects.exists()


def test_a_stolen_item_cannot_be_issued(armory, rifleman):
    rifle = item_by_serial("R0003")
    incident = report_missing(
        actor=armory["armorer"], item_ids=[rifle.pk], stolen=True, summary="rack forced open"
    )
    assert incident.kind == "theft" and incident.status == "open"
    with pytest.raises(CustodyError, match="reported stolen; issue needs it at a storage site"):
        issue_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=rifleman,
            item_ids=[rifle.pk],
        )


def test_only_someone_answerable_for_the_site_reports_an_item_lost(armory, actor):
    rifle = item_by_serial("R0002")
    for who, why in (
        (armory["clerk"], "clerk may not authorise firearm at ARM-1"),
        (actor, "must be an authenticated user"),
    ):
        with pytest.raises(CustodyError, match=why):
            report_missing(actor=who, item_ids=[rifle.pk], stolen=False, summary="not in the rack")
    assert item_by_serial("R0002").place == "site"
    assert not Incident.objects.exists()
    assert not JournalEntry.objects.filter(kind="custody.reported_lost").exists()

    report_missing(
        actor=armory["armorer"], item_ids=[rifle.pk], stolen=False, summary="not in the rack"
    )
    assert item_by_serial("R0002").place == "lost"
