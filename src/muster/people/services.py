"""Writes to the registry. Each service is one transaction that journals what it changed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.bulk import allocate_ids, insert_rows
from muster.core.errors import Problem, RegistryError
from muster.journal.services import Change, record_change, record_changes
from muster.people import rules
from muster.people.choices import UnitKind, UnitRole
from muster.people.models import Membership, Person, StatusChange, Unit
from muster.people.selectors import existing_national_ids

UNIT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
UPDATABLE_FIELDS = (
    "family_name",
    "given_name",
    "patronymic",
    "birth_date",
    "phone",
    "email",
    "joined_on",
    "prior_service_months",
    "combat_experience_months",
)


@dataclass(frozen=True)
class NewPerson:
    """Everything needed to register one volunteer."""

    national_id: str
    family_name: str
    given_name: str
    unit: Unit
    status: str
    joined_on: dt.date
    patronymic: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    email: str = ""
    unit_role: str = UnitRole.MEMBER
    prior_service_months: int = 0
    combat_experience_months: int = 0
    reason: str = "registered"
    record: str = field(default="")

    def label(self) -> str:
        return self.record or f"person {self.national_id}"


def _today() -> dt.date:
    return timezone.localdate()


@transaction.atomic
def create_unit(
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str,
    parent: Unit | None = None,
    jurisdiction: str = "",
) -> Unit:
    """Add a unit to the tree. Regions are roots and name their policy jurisdiction."""
    record = f"unit {code}"
    problems = []
    if not UNIT_CODE.match(code):
        problems.append(
            Problem(record, "code", "must be 1–40 letters, digits, '.', '_' or '-'", code)
        )
    if kind not in UnitKind.values:
        problems.append(
            Problem(record, "kind", f"must be one of {', '.join(UnitKind.values)}", kind)
        )
    if kind == UnitKind.REGION and parent is not None:
        problems.append(
            Problem(record, "parent", "a region is at the top of the tree", parent.code)
        )
    if kind != UnitKind.REGION and parent is None:
        problems.append(Problem(record, "parent", "every unit but a region needs a parent"))
    if kind == UnitKind.REGION and not jurisdiction:
        problems.append(
            Problem(record, "jurisdiction", "a region must name its policy jurisdiction")
        )
    if not name.strip():
        problems.append(Problem(record, "name", "is required"))
    if Unit.objects.filter(code=code).exists():
        problems.append(Problem(record, "code", "another unit already has this code", code))
    if problems:
        raise RegistryError(problems)
    unit = Unit.objects.create(
        code=code, name=name, kind=kind, parent=parent, jurisdiction=jurisdiction, path=""
    )
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    record_change(
        actor=actor,
        change=Change(
            "unit.created",
            "unit",
            unit.pk,
            {
                "code": code,
                "name": name,
                "kind": kind,
                "parent": parent.code if parent else None,
                "jurisdiction": jurisdiction,
            },
        ),
    )
    return unit


def _person_problems(new: NewPerson, today: dt.date) -> list[Problem]:
    found = rules.person_problems(
        national_id=new.national_id,
        family_name=new.family_name,
        given_name=new.given_name,
        birth_date=new.birth_date,
        joined_on=new.joined_on,
        status=new.status,
        email=new.email,
        prior_service_months=new.prior_service_months,
        combat_experience_months=new.combat_experience_months,
        today=today,
    )
    problems = [Problem(new.label(), f, rule, value) for f, rule, value in found]
    if new.unit_role not in UnitRole.values:
        problems.append(
            Problem(
                new.label(), "role", f"must be one of {', '.join(UnitRole.values)}", new.unit_role
            )
        )
    return problems


def _registered_data(new: NewPerson) -> dict[str, object]:
    return {
        "national_id": new.national_id,
        "family_name": new.family_name,
        "given_name": new.given_name,
        "patronymic": new.patronymic,
        "birth_date": new.birth_date,
        "phone": new.phone,
        "email": new.email,
        "unit": new.unit.code,
        "role": new.unit_role,
        "status": new.status,
        "joined_on": new.joined_on,
        "prior_service_months": new.prior_service_months,
        "combat_experience_months": new.combat_experience_months,
        "reason": new.reason,
    }


@transaction.atomic
def register_people(*, actor: Actor, people: Sequence[NewPerson]) -> list[Person]:
    """Register many volunteers at once, all or none: each gets a membership, an initial
    status change and a `person.registered` journal entry."""
    today = _today()
    problems = [p for new in people for p in _person_problems(new, today)]
    ids = [new.national_id for new in people]
    seen: set[str] = set()
    for new in people:
        if new.national_id in seen:
            problems.append(Problem(new.label(), "national_id", "appears twice", new.national_id))
        seen.add(new.national_id)
    taken = existing_national_ids(ids)
    for new in people:
        if new.national_id in taken:
            problems.append(
                Problem(
                    new.label(),
                    "national_id",
                    "a volunteer with this identifier exists",
                    new.national_id,
                )
            )
    if problems:
        raise RegistryError(problems)
    created = _insert_people(people, actor)
    record_changes(
        actor=actor,
        changes=(
            Change("person.registered", "person", person.pk, _registered_data(new))
            for person, new in zip(created, people, strict=True)
        ),
    )
    return created


def _insert_people(people: Sequence[NewPerson], actor: Actor) -> list[Person]:
    """Insert the people, their first membership and first status change, ids allocated
    first so that one prepared statement per table does it (see core.bulk)."""
    now = timezone.now()
    created = []
    for new, pk in zip(people, allocate_ids(Person, len(people)), strict=True):
        person = Person(
            pk=pk, national_id=new.national_id, family_name=new.family_name,
            given_name=new.given_name, patronymic=new.patronymic, birth_date=new.birth_date,
            phone=new.phone, email=new.email, unit=new.unit, unit_role=new.unit_role,
            status=new.status, joined_on=new.joined_on,
            prior_service_months=new.prior_service_months,
            combat_experience_months=new.combat_experience_months, registered_at=now,
        )  # fmt: skip
        person._state.adding = False
        created.append(person)
    try:
        insert_rows(
            Person,
            ("id", "national_id", "family_name", "given_name", "patronymic", "birth_date", "phone",
             "email", "unit_id", "unit_role", "status", "joined_on", "prior_service_months",
             "combat_experience_months", "registered_at"),
            (
                (p.pk, p.national_id, p.family_name, p.given_name, p.patronymic, p.birth_date,
                 p.phone, p.email, p.unit_id, p.unit_role, p.status, p.joined_on,
                 p.prior_service_months, p.combat_experience_months, now)
                for p in created
            ),
        )  # fmt: skip
    except IntegrityError as exc:  # a concurrent registration took an identifier
        raise RegistryError.single(
            "people", "national_id", f"identifier already registered ({exc})"
        ) from exc
    insert_rows(
        Membership,
        ("id", "person_id", "unit_id", "role", "since", "reason", "actor", "recorded_at"),
        (
            (pk, p.pk, new.unit.pk, new.unit_role, new.joined_on, new.reason, actor.label, now)
            for pk, p, new in zip(
                allocate_ids(Membership, len(people)), created, people, strict=True
            )
        ),
    )
    insert_rows(
        StatusChange,
        (
            "id",
            "person_id",
            "from_status",
            "to_status",
            "effective_on",
            "reason",
            "actor",
            "recorded_at",
        ),
        (
            (pk, p.pk, "", new.status, new.joined_on, new.reason, actor.label, now)
            for pk, p, new in zip(
                allocate_ids(StatusChange, len(people)), created, people, strict=True
            )
        ),
    )
    return created


def register_person(*, actor: Actor, person: NewPerson) -> Person:
    """Register one volunteer; see register_people."""
    return register_people(actor=actor, people=[person])[0]


@transaction.atomic
def move_person(
    *, actor: Actor, person: Person, unit: Unit, role: str, since: dt.date, reason: str
) -> Membership:
    """Place a volunteer in another unit (or another role) from `since` on."""
    record = f"person {person.national_id}"
    locked = Person.objects.select_for_update().get(pk=person.pk)
    problems = []
    if role not in UnitRole.values:
        problems.append(
            Problem(record, "role", f"must be one of {', '.join(UnitRole.values)}", role)
        )
    if locked.unit_id == unit.pk and locked.unit_role == role:
        problems.append(
            Problem(
                record, "unit", "the volunteer is already in this unit with this role", unit.code
            )
        )
    last = Membership.objects.filter(person=locked).order_by("-since", "-id").first()
    if last is not None and since < last.since:
        problems.append(
            Problem(
                record,
                "since",
                f"is before the current placement began ({last.since})",
                since.isoformat(),
            )
        )
    if not reason.strip():
        problems.append(Problem(record, "reason", "is required"))
    if problems:
        raise RegistryError(problems)
    membership = Membership.objects.create(
        person=locked, unit=unit, role=role, since=since, reason=reason, actor=actor.label
    )
    previous_unit = locked.unit.code
    locked.unit = unit
    locked.unit_role = role
    locked.save(update_fields=["unit", "unit_role"])
    record_change(
        actor=actor,
        change=Change(
            "person.moved",
            "person",
            locked.pk,
            {
                "from": previous_unit,
                "to": unit.code,
                "role": role,
                "since": since,
                "reason": reason,
            },
        ),
    )
    person.unit, person.unit_role = unit, role
    return membership


@transaction.atomic
def change_status(
    *, actor: Actor, person: Person, to_status: str, effective_on: dt.date, reason: str
) -> StatusChange:
    """Move a volunteer along the lifecycle (applicant → vetting → active ↔ suspended → discharged)."""
    record = f"person {person.national_id}"
    locked = Person.objects.select_for_update().get(pk=person.pk)
    problems = []
    why = rules.transition_problem(locked.status, to_status)
    if why:
        problems.append(Problem(record, "status", why, to_status))
    if not reason.strip():
        problems.append(Problem(record, "reason", "is required for every status change"))
    if effective_on > _today():
        problems.append(
            Problem(record, "effective_on", "cannot be in the future", effective_on.isoformat())
        )
    if problems:
        raise RegistryError(problems)
    change = StatusChange.objects.create(
        person=locked,
        from_status=locked.status,
        to_status=to_status,
        effective_on=effective_on,
        reason=reason,
        actor=actor.label,
    )
    record_change(
        actor=actor,
        change=Change(
            f"person.{_status_verb(to_status)}",
            "person",
            locked.pk,
            {
                "from": locked.status,
                "to": to_status,
                "effective_on": effective_on,
                "reason": reason,
            },
        ),
    )
    locked.status = to_status
    locked.save(update_fields=["status"])
    person.status = to_status
    return change


def _status_verb(status: str) -> str:
    return {
        "vetting": "entered_vetting",
        "active": "activated",
        "suspended": "suspended",
        "discharged": "discharged",
        "applicant": "returned_to_applicant",
    }[status]


@transaction.atomic
def update_person_details(
    *, actor: Actor, person: Person, changes: dict[str, object], reason: str
) -> dict[str, tuple[object, object]]:
    """Correct or update identity and contact fields; journals each field's old and new value.
    Returns the fields that really changed (empty: nothing written)."""
    record = f"person {person.national_id}"
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise RegistryError(
            [
                Problem(record, name, "cannot be changed this way (use move or status change)")
                for name in unknown
            ]
        )
    locked = Person.objects.select_for_update().get(pk=person.pk)
    diff = {
        name: (getattr(locked, name), value)
        for name, value in changes.items()
        if getattr(locked, name) != value
    }
    if not diff:
        return {}
    for name, (_, value) in diff.items():
        setattr(locked, name, value)
    found = rules.person_problems(
        national_id=locked.national_id,
        family_name=locked.family_name,
        given_name=locked.given_name,
        birth_date=locked.birth_date,
        joined_on=locked.joined_on,
        status=locked.status,
        email=locked.email,
        prior_service_months=locked.prior_service_months,
        combat_experience_months=locked.combat_experience_months,
        today=_today(),
    )
    if found:
        raise RegistryError([Problem(record, f, rule, value) for f, rule, value in found])
    locked.save(update_fields=list(diff))
    record_change(
        actor=actor,
        change=Change(
            "person.updated",
            "person",
            locked.pk,
            {
                "changes": {k: {"old": old, "new": new} for k, (old, new) in diff.items()},
                "reason": reason,
            },
        ),
    )
    for name, (_, value) in diff.items():
        setattr(person, name, value)
    return diff
