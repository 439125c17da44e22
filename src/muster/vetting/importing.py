"""Importing qualification records: one row per qualification a volunteer holds or held.

A qualification is identified by (volunteer, type, class, date obtained). A row that names a
new one records it; a row that names a recorded one leaves it as it is, or revokes it when
`revoked_on` is given. Recorded qualifications are never changed. See docs/importing.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.importing import (
    CHUNK_ROWS,
    Counts,
    ProgressSink,
    Rejection,
    RowProblem,
    parse_cells,
)
from muster.core.tabular import (
    Cell,
    CellError,
    Column,
    Header,
    Row,
    TextCell,
    cell_text,
    parse_date,
)
from muster.people.importing import NATIONAL_ID_ALIASES
from muster.people.models import Person
from muster.people.rules import normalise_national_id
from muster.vetting import rules
from muster.vetting.models import Qualification, QualificationRevocation, QualificationType
from muster.vetting.services import (
    NewQualification,
    Revocation,
    award_qualifications,
    revoke_qualifications,
)

QUALIFICATION_COLUMNS = (
    Column("national_id", required=True, aliases=NATIONAL_ID_ALIASES),
    Column("qualification", required=True, aliases=("type", "qualification_type", "type_code")),
    Column("class", aliases=("weapon_class", "category", "klass")),
    Column("obtained_on", required=True, aliases=("obtained", "date_obtained")),
    Column("expires_on", aliases=("expires", "expiry", "valid_until")),
    Column("examiner"),
    Column("evidence", aliases=("evidence_ref",)),
    Column("revoked_on", aliases=("revoked",)),
    Column("revocation_reason", aliases=("revoked_because",)),
)
DATE_COLUMNS = ("obtained_on", "expires_on", "revoked_on")
REQUIRED = ("national_id", "qualification", "obtained_on")
TEXT_LIMITS = {
    column: getattr(model._meta.get_field(name), "max_length", None)
    for column, model, name in (
        ("class", Qualification, "klass"),
        ("examiner", Qualification, "examiner"),
        ("evidence", Qualification, "evidence_ref"),
        ("revocation_reason", QualificationRevocation, "reason"),
    )
}
RECORDED = ("expires_on", "examiner", "evidence")
NEVER_CHANGED = "a recorded qualification is never changed; revoke it and record a new one"
UNKNOWN_PERSON = "no volunteer has this identifier"
UNSEEN_PERSON = "no volunteer in the units you may vet has this identifier"

Key = tuple[int, int, str, dt.date]


@dataclass(slots=True)
class PlannedAward:
    """A qualification a row records, kept as plain values until it is written."""

    line: int
    person_id: int
    national_id: str
    type_code: str
    klass: str
    obtained_on: dt.date
    expires_on: dt.date | None
    examiner: str
    evidence: str
    revocation: PlannedRevocation | None = None


@dataclass(slots=True)
class PlannedRevocation:
    """A revocation a row records, of a recorded qualification or of one it awards."""

    line: int
    revoked_on: dt.date
    reason: str
    qualification_id: int | None = None  # None: the qualification is awarded by this import

    def of(self, qualification: Qualification) -> Revocation:
        return Revocation(qualification, self.revoked_on, self.reason, f"line {self.line}")


@dataclass(slots=True)
class Recorded:
    """A recorded qualification as plain values, to compare a row with."""

    id: int
    expires_on: dt.date | None
    examiner: str
    evidence: str
    revoked_on: dt.date | None


class QualificationsImport:
    """Checks qualification rows against the registry and plans awards and revocations."""

    kind: str = "qualifications"
    columns: tuple[Column, ...] = QUALIFICATION_COLUMNS

    def __init__(
        self,
        *,
        source: str,
        today: dt.date | None = None,
        people: QuerySet[Person] | None = None,
    ) -> None:
        """`people`: the volunteers the importing user may vet (a row naming anyone else is
        refused as unknown, so that their existence is not revealed); None: everyone."""
        self.source = source
        self.today = today or timezone.localdate()
        self.registry = Person.objects.all() if people is None else people
        self.unknown_rule = UNKNOWN_PERSON if people is None else UNSEEN_PERSON
        self.types = {t.code: t for t in QualificationType.objects.all()}
        self.folded_types = {code.casefold(): t for code, t in self.types.items()}
        self.people: dict[str, int | None] = {}
        self.first_line: dict[Key, int] = {}
        self.awards: list[PlannedAward] = []
        self.revocations: list[PlannedRevocation] = []
        self.unchanged = 0
        self.parsers: dict[str, Callable[[Cell], object]] = {
            **{name: TextCell(limit) for name, limit in TEXT_LIMITS.items()},
            **dict.fromkeys(DATE_COLUMNS, parse_date),
            "national_id": _national_id,
            "qualification": self._type,
        }

    def counts(self) -> Counts:
        return Counts(len(self.awards), len(self.revocations), self.unchanged)

    # Checking --------------------------------------------------------------------------------

    def check(self, rows: Sequence[Row], header: Header) -> list[Rejection]:
        parsed = [(row, *self._parse(row, header)) for row in rows]
        self._load_people({v["national_id"] for _, v, _ in parsed if "national_id" in v})
        recorded = _recorded({self.people.get(v.get("national_id", "")) for _, v, _ in parsed})
        rejections = []
        for row, values, problems in parsed:
            nid = values.get("national_id")
            if nid is not None and self.people[nid] is None:
                problems.append(self._unknown_person(row, nid))
            if not problems:
                problems = self._plan(row, values, recorded)
            if problems:
                rejections.append(Rejection(row, tuple(problems)))
        return rejections

    def _parse(self, row: Row, header: Header) -> tuple[dict[str, Any], list[RowProblem]]:
        return parse_cells(row, header, self.parsers, REQUIRED)

    def _unknown_person(self, row: Row, national_id: str) -> RowProblem:
        return RowProblem(row.line, "national_id", national_id, self.unknown_rule)

    def _type(self, cell: Cell) -> QualificationType:
        text = cell_text(cell)
        qtype = self.types.get(text) or self.folded_types.get(text.casefold())
        if qtype is None:
            known = ", ".join(self.types) or "none (define qualification types first)"
            raise CellError(f"unknown qualification type; known types: {known}")
        return qtype

    def _load_people(self, ids: set[str]) -> None:
        missing = [nid for nid in ids if nid not in self.people]
        if not missing:
            return
        found = dict(self.registry.filter(national_id__in=missing).values_list("national_id", "id"))
        for nid in missing:
            self.people[nid] = found.get(nid)

    def _plan(
        self, row: Row, values: dict[str, Any], recorded: dict[Key, Recorded]
    ) -> list[RowProblem]:
        person_id = self.people[values["national_id"]]
        if person_id is None:  # refused by `check` already; this keeps the type exact
            return [self._unknown_person(row, values["national_id"])]
        qtype: QualificationType = values["qualification"]
        klass = _canonical_class(values.get("class", ""), tuple(qtype.classes))
        obtained_on: dt.date = values["obtained_on"]
        key = (person_id, qtype.pk, klass, obtained_on)
        first = self.first_line.setdefault(key, row.line)
        if first != row.line:
            rule = f"the same qualification appears again in this file (first on line {first})"
            return [RowProblem(row.line, "obtained_on", cell_text(obtained_on), rule)]
        problems = self._revocation_problems(row, values)
        existing = recorded.get(key)
        if existing is not None:
            return problems or self._plan_existing(row, values, existing)
        problems.extend(
            RowProblem(row.line, name, value, rule)
            for name, rule, value in rules.qualification_problems(
                type_classes=tuple(qtype.classes),
                klass=klass,
                obtained_on=obtained_on,
                expires_on=values.get("expires_on"),
                today=self.today,
            )
        )
        if problems:
            return problems
        award = PlannedAward(
            line=row.line,
            person_id=person_id,
            national_id=values["national_id"],
            type_code=qtype.code,
            klass=klass,
            obtained_on=obtained_on,
            expires_on=values.get("expires_on"),
            examiner=values.get("examiner", ""),
            evidence=values.get("evidence", ""),
        )
        if "revoked_on" in values:
            award.revocation = PlannedRevocation(
                row.line, values["revoked_on"], values["revocation_reason"]
            )
        self.awards.append(award)
        return []

    def _revocation_problems(self, row: Row, values: dict[str, Any]) -> list[RowProblem]:
        revoked_on = values.get("revoked_on")
        if revoked_on is None:
            if "revocation_reason" in values:
                return [
                    RowProblem(row.line, "revoked_on", "", "is required with a revocation reason")
                ]
            return []
        problems = []
        if "revocation_reason" not in values:
            problems.append(
                RowProblem(row.line, "revocation_reason", "", "a revocation needs a reason")
            )
        if revoked_on < values["obtained_on"]:
            rule = "is before the qualification was obtained"
            problems.append(RowProblem(row.line, "revoked_on", cell_text(revoked_on), rule))
        if revoked_on > self.today:
            problems.append(
                RowProblem(row.line, "revoked_on", cell_text(revoked_on), "cannot be in the future")
            )
        return problems

    def _plan_existing(
        self, row: Row, values: dict[str, Any], existing: Recorded
    ) -> list[RowProblem]:
        problems = []
        for name in RECORDED:
            wanted = values.get(name)
            held = getattr(existing, name)
            if wanted is not None and wanted != held:
                rule = f"differs from the recorded {cell_text(held) or '(empty)'}; {NEVER_CHANGED}"
                problems.append(RowProblem(row.line, name, cell_text(wanted), rule))
        revoked_on = values.get("revoked_on")
        if revoked_on is not None and existing.revoked_on not in (None, revoked_on):
            rule = f"the qualification was already revoked on {existing.revoked_on}"
            problems.append(RowProblem(row.line, "revoked_on", cell_text(revoked_on), rule))
        if problems:
            return problems
        if revoked_on is None or existing.revoked_on is not None:
            self.unchanged += 1
        else:
            reason = values["revocation_reason"]
            self.revocations.append(PlannedRevocation(row.line, revoked_on, reason, existing.id))
        return []

    # Writing ---------------------------------------------------------------------------------

    def apply(self, *, actor: Actor, progress: ProgressSink | None) -> list[Rejection]:
        """Award in batches, then revoke in batches (records awarded just now included).
        Every row was checked first, so a refusal here (a concurrent change) refuses all."""
        if progress:
            progress.start("writing", len(self.awards) + len(self.revocations))
        revocations: list[Revocation] = []
        for start in range(0, len(self.awards), CHUNK_ROWS):
            batch = self.awards[start : start + CHUNK_ROWS]
            created = award_qualifications(actor=actor, awards=_new_qualifications(batch))
            revocations.extend(
                a.revocation.of(q) for a, q in zip(batch, created, strict=True) if a.revocation
            )
            if progress:
                progress.advance(len(batch))
        ids = [r.qualification_id for r in self.revocations if r.qualification_id is not None]
        held = Qualification.objects.select_related("person", "qualification_type").in_bulk(ids)
        revocations.extend(
            r.of(held[r.qualification_id]) for r in self.revocations if r.qualification_id
        )
        for start in range(0, len(revocations), CHUNK_ROWS):
            revoke_qualifications(actor=actor, revocations=revocations[start : start + CHUNK_ROWS])
        if progress:
            progress.advance(len(self.revocations))
        return []


def _new_qualifications(batch: Sequence[PlannedAward]) -> list[NewQualification]:
    """The service's input; a volunteer is passed as an unsaved stand-in carrying only the key
    and identifier, so that 100,000 records need no 100,000 model loads."""
    people: dict[int, Person] = {}
    awards = []
    for a in batch:
        person = people.get(a.person_id)
        if person is None:
            person = people[a.person_id] = Person(id=a.person_id, national_id=a.national_id)
        awards.append(
            NewQualification(
                person=person,
                type_code=a.type_code,
                obtained_on=a.obtained_on,
                klass=a.klass,
                expires_on=a.expires_on,
                examiner=a.examiner,
                evidence_ref=a.evidence,
                record=f"line {a.line}",
            )
        )
    return awards


def _national_id(cell: Cell) -> str:
    return normalise_national_id(cell_text(cell))


def _canonical_class(klass: str, classes: tuple[str, ...]) -> str:
    """Classes as the type declares them, whatever case the file uses."""
    for declared in classes:
        if declared.casefold() == klass.casefold():
            return declared
    return klass


def _recorded(person_ids: set[int | None]) -> dict[Key, Recorded]:
    """Recorded qualifications of these volunteers, by identity, as plain values."""
    ids = [pid for pid in person_ids if pid is not None]
    rows = Qualification.objects.filter(person_id__in=ids).values_list(
        "id",
        "person_id",
        "qualification_type_id",
        "klass",
        "obtained_on",
        "expires_on",
        "examiner",
        "evidence_ref",
        "revocation__revoked_on",
    )
    return {
        (person, qtype, klass, obtained): Recorded(qid, expires, examiner, evidence, revoked)
        for qid, person, qtype, klass, obtained, expires, examiner, evidence, revoked in rows
    }
