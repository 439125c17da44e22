"""Units, people, their qualifications and eligibility (R1, R2)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.reads import record_person_read
from muster.access.scope import people_in, require, require_at, units_in, visible
from muster.api.common import actor, person_by_id, scope, unit_by_code
from muster.api.schemas import (
    DecisionOut,
    MoveIn,
    PersonDetailOut,
    PersonIn,
    PersonOut,
    QualificationIn,
    QualificationOut,
    RevocationIn,
    StatusChangeOut,
    StatusIn,
    UnitOut,
    responses,
)
from muster.people.models import Person, StatusChange, Unit
from muster.people.services import NewPerson, change_status, move_person, register_person
from muster.vetting.models import Qualification
from muster.vetting.selectors import eligibility_of, qualifications_of
from muster.vetting.services import NewQualification, award_qualification, revoke_qualification

router = Router(tags=["people"])
AT = Query(None, description="evaluate on this date (default: today)")


def _read(request: HttpRequest, person: Person, why: str) -> None:
    record_person_read(actor=actor(request), scope=scope(request), person=person, why=why)


@router.get("/units", response=responses(200, list[UnitOut]), summary="The unit tree")
@paginate(LimitOffsetPagination)
def list_units(request: HttpRequest, kind: str | None = None) -> QuerySet[Unit]:
    """The units the caller sees, in tree order (each after its parent; `depth` 0 is a region)."""
    units = units_in(scope(request)).order_by("path")
    return units.filter(kind=kind) if kind else units


@router.get("/people", response=responses(200, list[PersonOut]), summary="Search the roster")
@paginate(LimitOffsetPagination)
def list_people(
    request: HttpRequest,
    q: str | None = Query(None, max_length=100, description="name or national id"),
    unit: str | None = Query(None, max_length=40, description="unit code (and its subtree)"),
    status: str | None = Query(None, max_length=16),
) -> QuerySet[Person]:
    people = people_in(scope(request), Person.objects.select_related("unit"))
    if q:
        for word in q.split():
            people = people.filter(
                Q(family_name__icontains=word)
                | Q(given_name__icontains=word)
                | Q(national_id__icontains=word)
            )
    if unit:
        people = people.filter(unit__path__startswith=unit_by_code(scope(request), unit).path)
    if status:
        people = people.filter(status=status)
    return people.order_by("family_name", "given_name", "national_id")


@router.post("/people", response=responses(201, PersonDetailOut), summary="Register a volunteer")
def register(request: HttpRequest, payload: PersonIn) -> Status[Person]:
    require(scope(request), "people.change", f"person {payload.national_id}")
    fields = payload.dict()
    fields["unit"] = unit_by_code(scope(request), payload.unit)
    require_at(
        scope(request), "people.change", fields["unit"].path, f"person {payload.national_id}"
    )
    person = register_person(actor=actor(request), person=NewPerson(**fields))
    return Status(201, Person.objects.select_related("unit").get(pk=person.pk))


@router.get("/people/{person_id}", response=responses(200, PersonDetailOut))
def person_detail(
    request: HttpRequest, person_id: int, why: str = Query("", max_length=200)
) -> Person:
    """One volunteer's record; the read is journaled unless it is their own (`why` says why)."""
    person = person_by_id(scope(request), person_id)
    _read(request, person, why)
    return person


@router.post("/people/{person_id}/move", response=responses(200, PersonDetailOut))
def move(request: HttpRequest, person_id: int, payload: MoveIn) -> Person:
    """Place a volunteer in another unit (both must be in the caller's scope)."""
    require(scope(request), "people.change", f"person {person_id}")
    person = person_by_id(scope(request), person_id)
    unit = unit_by_code(scope(request), payload.unit)
    for path in (person.unit.path, unit.path):
        require_at(scope(request), "people.change", path, f"person {person_id}")
    move_person(
        actor=actor(request),
        person=person,
        unit=unit,
        role=payload.role,
        since=payload.since,
        reason=payload.reason,
    )
    return Person.objects.select_related("unit").get(pk=person.pk)


def _change_status(
    request: HttpRequest, person_id: int, payload: StatusIn, to_status: str
) -> StatusChange:
    require(scope(request), "people.suspend", f"person {person_id}")
    person = person_by_id(scope(request), person_id)
    require_at(scope(request), "people.suspend", person.unit.path, f"person {person_id}")
    return change_status(
        actor=actor(request),
        person=person,
        to_status=to_status,
        effective_on=payload.effective_on or timezone.localdate(),
        reason=payload.reason,
    )


@router.post("/people/{person_id}/suspend", response=responses(200, StatusChangeOut))
def suspend(request: HttpRequest, person_id: int, payload: StatusIn) -> StatusChange:
    return _change_status(request, person_id, payload, "suspended")


@router.post("/people/{person_id}/reinstate", response=responses(200, StatusChangeOut))
def reinstate(request: HttpRequest, person_id: int, payload: StatusIn) -> StatusChange:
    return _change_status(request, person_id, payload, "active")


@router.get(
    "/people/{person_id}/qualifications",
    response=responses(200, list[QualificationOut]),
    tags=["vetting"],
)
@paginate(LimitOffsetPagination)
def list_qualifications(
    request: HttpRequest, person_id: int, why: str = Query("", max_length=200)
) -> QuerySet[Qualification]:
    """A volunteer's qualification history, newest first, revocations included."""
    person = person_by_id(scope(request), person_id)
    _read(request, person, why)
    return qualifications_of(person)


@router.post(
    "/people/{person_id}/qualifications",
    response=responses(201, QualificationOut),
    tags=["vetting"],
)
def award(request: HttpRequest, person_id: int, payload: QualificationIn) -> Status[Qualification]:
    require(scope(request), "vetting.change", f"person {person_id}")
    person = person_by_id(scope(request), person_id)
    require_at(scope(request), "vetting.change", person.unit.path, f"person {person_id}")
    created = award_qualification(
        actor=actor(request),
        award=NewQualification(
            person=person,
            type_code=payload.type,
            obtained_on=payload.obtained_on,
            klass=payload.klass,
            expires_on=payload.expires_on,
            examiner=payload.examiner,
            evidence_ref=payload.evidence_ref,
        ),
    )
    return Status(201, qualifications_of(person).get(pk=created.pk))


@router.post(
    "/qualifications/{qualification_id}/revoke",
    response=responses(200, QualificationOut),
    tags=["vetting"],
)
def revoke(request: HttpRequest, qualification_id: int, payload: RevocationIn) -> Qualification:
    require(scope(request), "vetting.change", f"qualification {qualification_id}")
    qualifications = Qualification.objects.filter(
        person__in=people_in(scope(request)).values("pk")
    ).select_related("qualification_type", "person__unit")
    qualification = visible(qualifications, qualification_id, f"qualification {qualification_id}")
    require_at(
        scope(request),
        "vetting.change",
        qualification.person.unit.path,
        f"qualification {qualification_id}",
    )
    revoke_qualification(
        actor=actor(request),
        qualification=qualification,
        revoked_on=payload.revoked_on or timezone.localdate(),
        reason=payload.reason,
    )
    return qualifications_of(qualification.person).get(pk=qualification.pk)


@router.get(
    "/people/{person_id}/eligibility",
    response=responses(200, list[DecisionOut]),
    tags=["vetting"],
)
def eligibility(
    request: HttpRequest,
    person_id: int,
    category: str | None = Query(None, max_length=40),
    at: dt.date | None = AT,
    why: str = Query("", max_length=200),
) -> list[DecisionOut]:
    """For each equipment category (or one): may this person be issued it, and why — computed
    from the policy in force, never stored."""
    person = person_by_id(scope(request), person_id)
    _read(request, person, why)
    decisions = eligibility_of(person, at or timezone.localdate(), category)
    return [
        DecisionOut(
            target=d.target,
            allowed=d.allowed,
            policy=d.policy,
            moment=d.moment,
            reasons=[
                {"rule": r.rule, "ok": r.ok, "code": r.code, "message": r.message}  # type: ignore[misc]
                for r in d.reasons
            ],
        )
        for d in decisions
    ]
