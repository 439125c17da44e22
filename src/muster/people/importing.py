"""Importing volunteers from a roster: one row per volunteer, identified by national_id.

A new national_id registers the volunteer. A known one updates them: each non-empty cell that
differs from the record is applied (details, unit and role, status), an empty cell leaves the
field as it is, and a row that matches the record writes nothing. See docs/importing.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.errors import DomainError
from muster.core.importing import (
    CHUNK_ROWS,
    Counts,
    ProgressSink,
    Rejection,
    RowProblem,
    parse_cells,
    rejection_from,
)
from muster.core.labels import labels_in_every_language
from muster.core.tabular import (
    Cell,
    CellError,
    ChoiceCell,
    Column,
    Header,
    Row,
    TextCell,
    cell_text,
    parse_date,
    parse_int,
)
from muster.people import rules
from muster.people.choices import PersonStatus, UnitRole
from muster.people.models import Person, Unit
from muster.people.services import (
    UPDATABLE_FIELDS,
    NewPerson,
    change_status,
    move_person,
    register_people,
    update_person_details,
)

NATIONAL_ID_ALIASES = ("national_identifier", "national_number", "id_number", "personal_id")
PEOPLE_COLUMNS = (
    Column("national_id", required=True, aliases=NATIONAL_ID_ALIASES),
    Column("family_name", required=True, aliases=("surname", "last_name")),
    Column("given_name", required=True, aliases=("first_name", "forename")),
    Column("unit", required=True, aliases=("unit_code",)),
    Column("patronymic", aliases=("middle_name",)),
    Column("birth_date", aliases=("date_of_birth", "dob", "born_on", "birthday")),
    Column("joined_on", aliases=("joined", "join_date", "date_joined")),
    Column("status"),
    Column("role", aliases=("unit_role",)),
    Column("phone", aliases=("phone_number", "telephone", "mobile")),
    Column("email", aliases=("e_mail", "email_address")),
    Column("prior_service_months", aliases=("prior_service",)),
    Column("combat_experience_months", aliases=("combat_experience", "combat_months")),
)
TEXT_FIELDS = ("family_name", "given_name", "patronymic", "phone", "email")
DATE_FIELDS = ("birth_date", "joined_on")
INT_FIELDS = ("prior_service_months", "combat_experience_months")
NEEDED_FOR_NEW = ("family_name", "given_name", "unit")
CURRENT_FIELDS = ("id", "national_id", *UPDATABLE_FIELDS, "unit_id", "unit_role", "status")
UPDATE_BATCH = 500
OUTSIDE_PERSON = "is registered to a volunteer outside the units you may change"
NEW_DEFAULTS: dict[str, Any] = {
    "family_name": "",
    "given_name": "",
    "patronymic": "",
    "birth_date": None,
    "phone": "",
    "email": "",
    "status": PersonStatus.APPLICANT.value,
    "role": UnitRole.MEMBER.value,
    "prior_service_months": 0,
    "combat_experience_months": 0,
}


@dataclass(slots=True)
class PlannedUpdate:
    """What a row changes on a registered volunteer; None/empty means "leave as it is"."""

    row: Row
    person_id: int
    details: dict[str, object]
    unit: Unit | None
    role: str | None
    status: str | None


class UnitCodes:
    """Unit codes as written in rosters: exact, else case-insensitive when that is unambiguous."""

    def __init__(self) -> None:
        self.by_code: dict[str, Unit] = {}
        self.by_id: dict[int, Unit] = {}
        folded: dict[str, list[Unit]] = {}
        for unit in Unit.objects.all():
            self.by_code[unit.code] = unit
            self.by_id[unit.pk] = unit
            folded.setdefault(unit.code.casefold(), []).append(unit)
        self.folded = {code: units[0] for code, units in folded.items() if len(units) == 1}

    def find(self, code: str) -> Unit | None:
        return self.by_code.get(code) or self.folded.get(code.casefold())


class PeopleImport:
    """Checks roster rows against the registry and plans registrations and updates."""

    kind: str = "people"
    columns: tuple[Column, ...] = PEOPLE_COLUMNS

    def __init__(
        self,
        *,
        source: str,
        today: dt.date | None = None,
        allowed_units: frozenset[int] | None = None,
    ) -> None:
        """`allowed_units`: the ids of the units the importing user may change people in (a
        row naming another unit, or a volunteer registered in one, is refused); None: all."""
        self.source = source
        self.today = today or timezone.localdate()
        self.units = UnitCodes()
        self.allowed_units = allowed_units
        self.first_line: dict[str, int] = {}
        self.creates: list[NewPerson] = []
        self.updates: list[PlannedUpdate] = []
        self.unchanged = 0
        self.failed_updates = 0
        self.parsers: dict[str, Callable[[Cell], object]] = {
            **{name: TextCell(_max_length(name)) for name in TEXT_FIELDS},
            **dict.fromkeys(DATE_FIELDS, parse_date),
            **dict.fromkeys(INT_FIELDS, parse_int),
            "national_id": _national_id,
            "unit": self._unit,
            "status": ChoiceCell(labels_in_every_language(PersonStatus)),
            "role": ChoiceCell(labels_in_every_language(UnitRole)),
        }

    def counts(self) -> Counts:
        return Counts(len(self.creates), len(self.updates) - self.failed_updates, self.unchanged)

    def reason(self, row: Row) -> str:
        return f"import {self.source} line {row.line}"

    # Checking --------------------------------------------------------------------------------

    def check(self, rows: Sequence[Row], header: Header) -> list[Rejection]:
        parsed = [(row, *self._parse(row, header)) for row in rows]
        current = _current_people([v["national_id"] for _, v, _ in parsed if "national_id" in v])
        rejections = []
        for row, values, problems in parsed:
            nid = values.get("national_id")
            repeated = self._repeated(row, nid) if nid else []
            if nid and not repeated:
                existing = current.get(nid)
                if existing is None:
                    problems = self._plan_create(row, values, problems)
                elif not self._allowed(existing["unit_id"]):
                    problems = [*problems, RowProblem(row.line, "national_id", nid, OUTSIDE_PERSON)]
                else:
                    problems = self._plan_update(row, values, existing, problems)
            problems.extend(repeated)
            if problems:
                rejections.append(Rejection(row, tuple(_with_cells(problems, row, header))))
        return rejections

    def _parse(self, row: Row, header: Header) -> tuple[dict[str, Any], list[RowProblem]]:
        return parse_cells(row, header, self.parsers, ("national_id",))

    def _unit(self, cell: Cell) -> Unit:
        unit = self.units.find(cell_text(cell))
        if unit is None:
            raise CellError("no unit has this code")
        if not self._allowed(unit.pk):
            raise CellError(f"unit {unit.code} is outside the units you may change")
        return unit

    def _allowed(self, unit_id: int) -> bool:
        return self.allowed_units is None or unit_id in self.allowed_units

    def _repeated(self, row: Row, nid: str) -> list[RowProblem]:
        first = self.first_line.setdefault(nid, row.line)
        if first == row.line:
            return []
        rule = f"appears again in this file (first on line {first})"
        return [RowProblem(row.line, "national_id", nid, rule)]

    def _plan_create(
        self, row: Row, values: dict[str, Any], known: list[RowProblem]
    ) -> list[RowProblem]:
        """Plan a registration; `known` are the row's problems found so far."""
        problems = [
            *known,
            *(
                RowProblem(row.line, name, "", "is required for a new volunteer")
                for name in NEEDED_FOR_NEW
                if name not in values and not _reported(known, name)
            ),
        ]
        record = {**NEW_DEFAULTS, "joined_on": self.today, **values}
        problems.extend(self._rule_problems(row, record, problems))
        if problems:
            return problems
        self.creates.append(
            NewPerson(
                national_id=record["national_id"],
                family_name=record["family_name"],
                given_name=record["given_name"],
                unit=record["unit"],
                status=record["status"],
                joined_on=record["joined_on"],
                patronymic=record["patronymic"],
                birth_date=record["birth_date"],
                phone=record["phone"],
                email=record["email"],
                unit_role=record["role"],
                prior_service_months=record["prior_service_months"],
                combat_experience_months=record["combat_experience_months"],
                reason=self.reason(row),
                record=f"line {row.line}",
            )
        )
        return []

    def _plan_update(
        self, row: Row, values: dict[str, Any], current: dict[str, Any], known: list[RowProblem]
    ) -> list[RowProblem]:
        """Plan the changes a row makes to a registered volunteer (none: unchanged)."""
        details = {
            name: values[name]
            for name in UPDATABLE_FIELDS
            if name in values and values[name] != current[name]
        }
        unit = values.get("unit")
        role = values.get("role")
        moving = (unit is not None and unit.pk != current["unit_id"]) or (
            role is not None and role != current["unit_role"]
        )
        status = values.get("status")
        if status == current["status"]:
            status = None
        problems = list(known)
        if details:
            problems.extend(self._rule_problems(row, {**current, **details}, problems))
        if status is not None:
            why = rules.transition_problem(current["status"], status)
            if why:
                problems.append(RowProblem(row.line, "status", status, why))
        if problems:
            return problems
        if not details and not moving and status is None:
            self.unchanged += 1
            return []
        target = unit or self.units.by_id[current["unit_id"]]
        self.updates.append(
            PlannedUpdate(
                row=row,
                person_id=current["id"],
                details=details,
                unit=target if moving else None,
                role=(role or current["unit_role"]) if moving else None,
                status=status,
            )
        )
        return []

    def _rule_problems(
        self, row: Row, record: dict[str, Any], known: list[RowProblem]
    ) -> list[RowProblem]:
        """The registry's rules broken by `record`, leaving out columns already blamed; a bad
        birth date is not compared with the joining date (one mistake, one message)."""
        found = self._findings(row, record)
        if _reported(found, "birth_date"):
            without_birth = self._findings(row, {**record, "birth_date": None})
            found = [p for p in found if p.column == "birth_date"] + without_birth
        return [p for p in found if not _reported(known, p.column)]

    def _findings(self, row: Row, record: dict[str, Any]) -> list[RowProblem]:
        found = rules.person_problems(
            national_id=record["national_id"],
            family_name=record["family_name"],
            given_name=record["given_name"],
            birth_date=record["birth_date"],
            joined_on=record["joined_on"],
            status=record["status"],
            email=record["email"],
            prior_service_months=record["prior_service_months"],
            combat_experience_months=record["combat_experience_months"],
            today=self.today,
        )
        return [RowProblem(row.line, name, value, rule) for name, rule, value in found]

    # Writing ---------------------------------------------------------------------------------

    def apply(self, *, actor: Actor, progress: ProgressSink | None) -> list[Rejection]:
        """Register the new volunteers in batches, then update the known ones one by one
        (each in a savepoint, so a refused update takes back only its own writes)."""
        if progress:
            progress.start("writing", len(self.creates) + len(self.updates))
        for start in range(0, len(self.creates), CHUNK_ROWS):
            new_people = self.creates[start : start + CHUNK_ROWS]
            register_people(actor=actor, people=new_people)
            if progress:
                progress.advance(len(new_people))
        rejections = []
        for start in range(0, len(self.updates), UPDATE_BATCH):
            batch = self.updates[start : start + UPDATE_BATCH]
            people = Person.objects.in_bulk([u.person_id for u in batch])
            for update in batch:
                try:
                    with transaction.atomic():
                        self._update(actor, people[update.person_id], update)
                except DomainError as error:
                    rejections.append(rejection_from(update.row, error))
            if progress:
                progress.advance(len(batch))
        self.failed_updates = len(rejections)
        return rejections

    def _update(self, actor: Actor, person: Person, update: PlannedUpdate) -> None:
        reason = self.reason(update.row)
        if update.details:
            update_person_details(actor=actor, person=person, changes=update.details, reason=reason)
        if update.unit is not None and update.role is not None:
            move_person(
                actor=actor,
                person=person,
                unit=update.unit,
                role=update.role,
                since=self.today,
                reason=reason,
            )
        if update.status is not None:
            change_status(
                actor=actor,
                person=person,
                to_status=update.status,
                effective_on=self.today,
                reason=reason,
            )


def _max_length(name: str) -> int | None:
    return getattr(Person._meta.get_field(name), "max_length", None)


def _national_id(cell: Cell) -> str:
    text = rules.normalise_national_id(cell_text(cell))
    why = rules.national_id_problem(text)
    if why:
        raise CellError(why)
    return text


def _current_people(ids: list[str]) -> dict[str, dict[str, Any]]:
    """The registered volunteers among `ids`, as plain values (no model instances)."""
    rows = Person.objects.filter(national_id__in=set(ids)).values(*CURRENT_FIELDS)
    return {row["national_id"]: row for row in rows}


def _reported(problems: Sequence[RowProblem], column: str) -> bool:
    return any(p.column == column for p in problems)


def _with_cells(problems: list[RowProblem], row: Row, header: Header) -> list[RowProblem]:
    """Show each problem with the cell as it was written in the file, where there is one."""
    shown = []
    for problem in problems:
        position = header.index.get(problem.column)
        cell = "" if position is None else row.cells[position]
        value = cell_text(cell) if cell != "" else problem.value
        shown.append(RowProblem(problem.line, problem.column, value, problem.rule))
    return shown
