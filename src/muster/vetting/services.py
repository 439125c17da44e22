"""Writes to the vetting record: qualification types, awards and revocations.

Qualification rows are never changed: a mistake or a lapse of trust is a revocation, and a
renewed qualification is a new record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.bulk import allocate_ids, insert_rows
from muster.core.errors import Problem, VettingError
from muster.journal.services import Change, record_changes
from muster.people.models import Person
from muster.vetting import rules
from muster.vetting.models import Qualification, QualificationRevocation, QualificationType


@dataclass(frozen=True)
class TypeDefinition:
    code: str
    name: str
    classes: tuple[str, ...] = ()
    default_validity_months: int | None = None


@dataclass(frozen=True)
class NewQualification:
    person: Person
    type_code: str
    obtained_on: dt.date
    klass: str = ""
    expires_on: dt.date | None = None
    examiner: str = ""
    evidence_ref: str = ""
    record: str = ""

    def label(self) -> str:
        return self.record or f"qualification {self.type_code} of {self.person.national_id}"


@transaction.atomic
def define_qualification_types(*, actor: Actor, definitions: Iterable[TypeDefinition]) -> int:
    """Create or update qualification types (they are data, declared by policy).
    Returns how many were created or changed; unchanged types write nothing."""
    existing = {t.code: t for t in QualificationType.objects.all()}
    changes = []
    for definition in definitions:
        wanted = {
            "name": definition.name,
            "classes": list(definition.classes),
            "default_validity_months": definition.default_validity_months,
        }
        current = existing.get(definition.code)
        if current is None:
            current = QualificationType.objects.create(code=definition.code, **wanted)
            changes.append(
                Change("qualification_type.defined", "qualification_type", definition.code, wanted)
            )
            continue
        before = {k: getattr(current, k) for k in wanted}
        if before != wanted:
            # Classes may be added, never taken away: records that use them must stay valid.
            dropped = set(current.classes) - set(definition.classes)
            if dropped:
                raise VettingError.single(
                    f"qualification type {definition.code}",
                    "classes",
                    f"classes cannot be removed once declared ({', '.join(sorted(dropped))})",
                )
            for key, value in wanted.items():
                setattr(current, key, value)
            current.save()
            changes.append(
                Change(
                    "qualification_type.redefined",
                    "qualification_type",
                    definition.code,
                    {"before": before, "after": wanted},
                )
            )
    record_changes(actor=actor, changes=changes)
    return len(changes)


def _award_problems(
    new: NewQualification, qtype: QualificationType | None, today: dt.date
) -> list[Problem]:
    if qtype is None:
        return [Problem(new.label(), "qualification", "unknown qualification type", new.type_code)]
    return [
        Problem(new.label(), field, rule, value)
        for field, rule, value in rules.qualification_problems(
            type_classes=tuple(qtype.classes),
            klass=new.klass,
            obtained_on=new.obtained_on,
            expires_on=new.expires_on,
            today=today,
        )
    ]


@transaction.atomic
def award_qualifications(
    *, actor: Actor, awards: Sequence[NewQualification]
) -> list[Qualification]:
    """Record many qualifications at once, all or none, each journaled as `qualification.awarded`.
    An expiry left empty is computed from the type's default validity."""
    types = {t.code: t for t in QualificationType.objects.all()}
    today = timezone.localdate()
    problems = [p for new in awards for p in _award_problems(new, types.get(new.type_code), today)]
    if problems:
        raise VettingError(problems)
    rows = []
    for new in awards:
        qtype = types[new.type_code]
        expires_on = new.expires_on or rules.default_expiry(
            new.obtained_on, qtype.default_validity_months
        )
        q = Qualification(
            person_id=new.person.pk,
            qualification_type_id=qtype.pk,
            klass=new.klass,
            obtained_on=new.obtained_on,
            expires_on=expires_on,
            examiner=new.examiner,
            evidence_ref=new.evidence_ref,
            actor=actor.label,
        )
        # Set by id and cache the related rows directly: the relation setters cost more than
        # the whole insert on a 400,000-record import, and reading q.person must not query.
        q._state.fields_cache["person"] = new.person
        q._state.fields_cache["qualification_type"] = qtype
        rows.append(q)
    _refuse_duplicates(rows, awards)
    created = _insert_qualifications(rows)
    record_changes(
        actor=actor,
        changes=(
            Change(
                "qualification.awarded",
                "person",
                q.person_id,
                {
                    "qualification": q.pk,
                    "type": new.type_code,
                    "class": q.klass,
                    "obtained_on": q.obtained_on,
                    "expires_on": q.expires_on,
                    "examiner": q.examiner,
                    "evidence": q.evidence_ref,
                },
            )
            for q, new in zip(created, awards, strict=True)
        ),
    )
    return created


def _insert_qualifications(rows: list[Qualification]) -> list[Qualification]:
    """Insert with ids allocated first (one prepared statement; see core.bulk)."""
    now = timezone.now()
    for q, pk in zip(rows, allocate_ids(Qualification, len(rows)), strict=True):
        q.pk, q.recorded_at = pk, now
        q._state.adding = False
    insert_rows(
        Qualification,
        ("id", "person_id", "qualification_type_id", "klass", "obtained_on", "expires_on",
         "examiner", "evidence_ref", "actor", "recorded_at"),
        (
            (q.pk, q.person_id, q.qualification_type_id, q.klass, q.obtained_on, q.expires_on,
             q.examiner, q.evidence_ref, q.actor, q.recorded_at)
            for q in rows
        ),
    )  # fmt: skip
    return rows


def _refuse_duplicates(rows: list[Qualification], awards: Sequence[NewQualification]) -> None:
    """The natural key (person, type, class, obtained) is unique: say which row repeats it."""
    keys = [(q.person.pk, q.qualification_type.pk, q.klass, q.obtained_on) for q in rows]
    problems = []
    seen: set[tuple[object, ...]] = set()
    for key, new in zip(keys, awards, strict=True):
        if key in seen:
            problems.append(
                Problem(new.label(), "obtained_on", "the same qualification appears twice")
            )
        seen.add(key)
    person_ids = {k[0] for k in keys}
    existing: set[tuple[object, ...]] = set()
    ids = sorted(person_ids)
    for start in range(0, len(ids), 2000):
        existing.update(
            Qualification.objects.filter(person_id__in=ids[start : start + 2000]).values_list(
                "person_id", "qualification_type_id", "klass", "obtained_on"
            )
        )
    for key, new in zip(keys, awards, strict=True):
        if key in existing:
            problems.append(
                Problem(
                    new.label(),
                    "obtained_on",
                    "this qualification is already recorded",
                    new.obtained_on.isoformat(),
                )
            )
    if problems:
        raise VettingError(problems)


def award_qualification(*, actor: Actor, award: NewQualification) -> Qualification:
    """Record one qualification; see award_qualifications."""
    return award_qualifications(actor=actor, awards=[award])[0]


@dataclass(frozen=True)
class Revocation:
    """One qualification to revoke from `revoked_on` on, and why."""

    qualification: Qualification
    revoked_on: dt.date
    reason: str
    record: str = ""

    def label(self) -> str:
        q = self.qualification
        return self.record or f"qualification {q.pk} of person {q.person.national_id}"


@transaction.atomic
def revoke_qualifications(
    *, actor: Actor, revocations: Sequence[Revocation]
) -> list[QualificationRevocation]:
    """Revoke many qualifications at once, all or none, each journaled as
    `qualification.revoked`; the records themselves stay as they were."""
    ids = [r.qualification.pk for r in revocations]
    revoked: set[int] = set()
    for start in range(0, len(ids), 2000):
        revoked.update(
            QualificationRevocation.objects.select_for_update()
            .filter(qualification_id__in=ids[start : start + 2000])
            .values_list("qualification_id", flat=True)
        )
    today = timezone.localdate()
    problems = []
    for r in revocations:
        if r.qualification.pk in revoked:
            problems.append(Problem(r.label(), "revoked_on", "is already revoked"))
        revoked.add(r.qualification.pk)
        if not r.reason.strip():
            problems.append(Problem(r.label(), "reason", "a revocation needs a reason"))
        if r.revoked_on < r.qualification.obtained_on:
            problems.append(
                Problem(
                    r.label(),
                    "revoked_on",
                    "is before the qualification was obtained",
                    r.revoked_on.isoformat(),
                )
            )
        if r.revoked_on > today:
            problems.append(
                Problem(
                    r.label(), "revoked_on", "cannot be in the future", r.revoked_on.isoformat()
                )
            )
    if problems:
        raise VettingError(problems)
    created = QualificationRevocation.objects.bulk_create(
        [
            QualificationRevocation(
                qualification=r.qualification,
                revoked_on=r.revoked_on,
                reason=r.reason,
                actor=actor.label,
            )
            for r in revocations
        ],
        batch_size=2000,
    )
    record_changes(
        actor=actor,
        changes=(
            Change(
                "qualification.revoked",
                "person",
                r.qualification.person_id,
                {
                    "qualification": r.qualification.pk,
                    "type": r.qualification.qualification_type.code,
                    "class": r.qualification.klass,
                    "revoked_on": r.revoked_on,
                    "reason": r.reason,
                },
            )
            for r in revocations
        ),
    )
    return created


def revoke_qualification(
    *, actor: Actor, qualification: Qualification, revoked_on: dt.date, reason: str
) -> QualificationRevocation:
    """Revoke one qualification; see revoke_qualifications."""
    return revoke_qualifications(
        actor=actor, revocations=[Revocation(qualification, revoked_on, reason)]
    )[0]
