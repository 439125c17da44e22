"""The registry as a unit commander and a vetting officer use it."""

from __future__ import annotations

import datetime as dt

import pytest

from muster.core.errors import RegistryError
from muster.journal.models import JournalEntry
from muster.people.models import Membership, Person, StatusChange
from muster.people.selectors import jurisdiction_of, people_in_subtree, region_of
from muster.people.services import (
    NewPerson,
    change_status,
    create_unit,
    move_person,
    register_people,
)


def test_units_form_a_tree_of_any_depth_and_inherit_the_jurisdiction(org, actor):
    platoon = create_unit(
        actor=actor, code="R1-B1-C1-P1", name="1st Platoon", kind="platoon", parent=org["company"]
    )
    section = create_unit(
        actor=actor, code="R1-B1-C1-P1-S1", name="1st Section", kind="section", parent=platoon
    )
    assert region_of(section) == org["region"]
    assert jurisdiction_of(section) == "national"
    assert section.path.startswith(org["battalion"].path)


def test_a_unit_needs_a_parent_unless_it_is_a_region(org, actor):
    with pytest.raises(RegistryError) as refused:
        create_unit(actor=actor, code="B9", name="Orphan", kind="battalion")
    assert "every unit but a region needs a parent" in str(refused.value)


def test_registering_writes_person_membership_status_and_one_entry_each(org, actor):
    people = [
        NewPerson(
            national_id=f"VD{i:08d}",
            family_name="Bondar",
            given_name="Olena",
            unit=org["company"],
            status="applicant",
            joined_on=dt.date(2025, 1, 10),
        )
        for i in range(3)
    ]
    created = register_people(actor=actor, people=people)
    assert [p.national_id for p in created] == ["VD00000000", "VD00000001", "VD00000002"]
    assert Membership.objects.filter(person__in=created).count() == 3
    assert (
        StatusChange.objects.filter(
            person__in=created, from_status="", to_status="applicant"
        ).count()
        == 3
    )
    assert JournalEntry.objects.filter(kind="person.registered").count() == 3


def test_a_batch_with_one_bad_person_writes_nobody(org, actor):
    good = NewPerson(
        national_id="VD10000001",
        family_name="Shevchenko",
        given_name="Taras",
        unit=org["company"],
        status="active",
        joined_on=dt.date(2024, 1, 1),
    )
    bad = NewPerson(
        national_id="VD10000002",
        family_name="",
        given_name="Ivan",
        unit=org["company"],
        status="active",
        joined_on=dt.date(2024, 1, 1),
        birth_date=dt.date(2030, 1, 1),
    )
    entries = JournalEntry.objects.count()
    with pytest.raises(RegistryError) as refused:
        register_people(actor=actor, people=[good, bad])
    messages = [str(p) for p in refused.value.problems]
    assert "person VD10000002, family_name: is required" in messages
    assert "person VD10000002, birth_date: is in the future (value '2030-01-01')" in messages
    assert Person.objects.count() == 0
    assert JournalEntry.objects.count() == entries


def test_the_same_identifier_cannot_be_registered_twice(make_person):
    make_person(national_id="VD20000001")
    with pytest.raises(RegistryError, match="a volunteer with this identifier exists"):
        make_person(national_id="VD20000001")


def test_a_move_is_recorded_with_its_date_and_the_person_follows(org, make_person, actor, today):
    person = make_person()
    new_company = create_unit(
        actor=actor, code="R1-B1-C2", name="B Company", kind="company", parent=org["battalion"]
    )
    move_person(
        actor=actor,
        person=person,
        unit=new_company,
        role="armorer",
        since=today,
        reason="reassigned",
    )
    history = list(
        Membership.objects.filter(person=person).values_list("unit__code", "role", "since")
    )
    assert history == [("R1-B1-C1", "member", dt.date(2024, 3, 1)), ("R1-B1-C2", "armorer", today)]
    assert Person.objects.get(pk=person.pk).unit == new_company
    assert person in people_in_subtree(org["battalion"])
    assert JournalEntry.objects.filter(kind="person.moved", subject_id=str(person.pk)).count() == 1


def test_a_move_cannot_start_before_the_current_placement(make_person, org, actor):
    person = make_person()
    with pytest.raises(RegistryError, match="before the current placement began"):
        move_person(
            actor=actor,
            person=person,
            unit=org["battalion"],
            role="member",
            since=dt.date(2020, 1, 1),
            reason="backdated",
        )


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["vetting", "active", "suspended", "active", "discharged"], True),
        (["active"], False),  # an applicant must be vetted first
        (["vetting", "active", "discharged", "active"], False),  # discharge is final
    ],
)
def test_status_lifecycle(make_person, actor, today, path, allowed):
    person = make_person(status="applicant")
    try:
        for status in path:
            change_status(
                actor=actor, person=person, to_status=status, effective_on=today, reason="review"
            )
    except RegistryError:
        assert not allowed
    else:
        assert allowed
        steps = list(
            StatusChange.objects.filter(person=person).values_list("from_status", "to_status")
        )
        assert steps == [("", "applicant"), *zip(["applicant", *path[:-1]], path, strict=True)]


def test_every_status_change_needs_a_reason(make_person, actor, today):
    person = make_person()
    with pytest.raises(RegistryError, match="reason: is required"):
        change_status(
            actor=actor, person=person, to_status="suspended", effective_on=today, reason=" "
        )
