"""Qualification records: awarded, expired by default validity, revoked — never overwritten."""

from __future__ import annotations

import datetime as dt

import pytest

from muster.core.errors import VettingError
from muster.journal.models import JournalEntry
from muster.vetting.models import Qualification
from muster.vetting.services import (
    NewQualification,
    TypeDefinition,
    award_qualification,
    define_qualification_types,
    revoke_qualification,
)


@pytest.fixture
def types(db, actor):
    define_qualification_types(
        actor=actor,
        definitions=[
            TypeDefinition("firearms_training", "Firearms training", ("rifle", "pistol"), 12),
            TypeDefinition("first_aid", "First aid", (), None),
        ],
    )


def test_expiry_defaults_to_the_types_validity(types, make_person, actor):
    person = make_person()
    q = award_qualification(
        actor=actor,
        award=NewQualification(
            person=person,
            type_code="firearms_training",
            klass="rifle",
            obtained_on=dt.date(2024, 1, 31),
            examiner="Maj. Hrytsenko",
        ),
    )
    assert q.expires_on == dt.date(2025, 1, 31)
    assert (
        JournalEntry.objects.filter(kind="qualification.awarded", subject_id=str(person.pk)).count()
        == 1
    )


def test_a_class_must_be_one_the_type_declares(types, make_person, actor):
    with pytest.raises(VettingError, match="class: must be one of rifle, pistol"):
        award_qualification(
            actor=actor,
            award=NewQualification(
                person=make_person(),
                type_code="firearms_training",
                klass="cannon",
                obtained_on=dt.date(2024, 1, 1),
            ),
        )


def test_the_same_qualification_cannot_be_recorded_twice(types, make_person, actor):
    person = make_person()
    award = NewQualification(person=person, type_code="first_aid", obtained_on=dt.date(2024, 5, 1))
    award_qualification(actor=actor, award=award)
    with pytest.raises(VettingError, match="already recorded"):
        award_qualification(actor=actor, award=award)


def test_revocation_keeps_the_record_and_cannot_happen_twice(types, make_person, actor, today):
    person = make_person()
    q = award_qualification(
        actor=actor,
        award=NewQualification(
            person=person, type_code="first_aid", obtained_on=dt.date(2024, 5, 1)
        ),
    )
    revoke_qualification(
        actor=actor, qualification=q, revoked_on=today, reason="certificate forged"
    )
    stored = Qualification.objects.select_related("revocation").get(pk=q.pk)
    assert stored.obtained_on == dt.date(2024, 5, 1)
    assert stored.revocation.reason == "certificate forged"
    with pytest.raises(VettingError, match="already revoked"):
        revoke_qualification(actor=actor, qualification=q, revoked_on=today, reason="again")


def test_a_qualification_type_cannot_lose_a_class_in_use(types, actor):
    with pytest.raises(VettingError, match="classes cannot be removed"):
        define_qualification_types(
            actor=actor,
            definitions=[TypeDefinition("firearms_training", "Firearms training", ("rifle",), 12)],
        )
