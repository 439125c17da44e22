"""The request and response bodies of the duties API (muster.api.duties)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from muster.api.schemas import ItemOut, SecondPerson
from muster.duties.models import ACTIVE_STATES


class DutyTypeOut(Schema):
    id: int
    code: str
    name: str
    description: str


class DutyTypeIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    description: str = Field("", max_length=500)


class PostOut(Schema):
    id: int
    code: str
    name: str
    unit: str = Field(alias="unit.code")
    duty_type: str = Field(alias="duty_type.code")
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    notes: str


class PostIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=40, description="unit code")
    duty_type: str = Field(max_length=40, description="duty type code")
    address: str = Field("", max_length=300)
    latitude: Decimal | None = Field(None, ge=-90, le=90, decimal_places=6)
    longitude: Decimal | None = Field(None, ge=-180, le=180, decimal_places=6)
    notes: str = Field("", max_length=500)


class RequirementIo(Schema):
    kind: str = Field(max_length=16, description="qualification or eligibility")
    code: str = Field(
        max_length=81, description="a qualification type, or a target like firearm/rifle"
    )
    klass: str = Field("", max_length=40, description="the qualification's class, when it matters")
    count: int | None = Field(None, ge=1, le=100, description="how many assignees (default all)")


class EquipmentIo(Schema):
    category: str = Field(max_length=40)
    count: int = Field(ge=1, le=100)


class ShiftOut(Schema):
    id: int
    post: str = Field(alias="post.code")
    unit: str = Field(alias="post.unit.code")
    duty_type: str = Field(alias="duty_type.code")
    starts_at: dt.datetime
    ends_at: dt.datetime
    headcount: int
    filled: int
    cancelled_at: dt.datetime | None
    cancel_reason: str
    notes: str
    requirements: list[RequirementIo]
    equipment: list[EquipmentIo]

    @staticmethod
    def resolve_filled(obj: Any) -> int:
        found = getattr(obj, "filled", None)
        if found is None:
            found = obj.assignments.filter(state__in=ACTIVE_STATES).count()
        return int(found)

    @staticmethod
    def resolve_requirements(obj: Any) -> list[Any]:
        return list(obj.requirements.all())

    @staticmethod
    def resolve_equipment(obj: Any) -> list[Any]:
        return list(obj.equipment.all())


class ShiftIn(Schema):
    post: str = Field(max_length=40, description="post code")
    starts_at: dt.datetime
    ends_at: dt.datetime
    headcount: int = Field(ge=1, le=100)
    days: int = Field(1, ge=1, le=14, description="the same shift on this many days in a row")
    requirements: list[RequirementIo] = Field(default_factory=list, max_length=10)
    equipment: list[EquipmentIo] = Field(default_factory=list, max_length=10)
    duty_type: str | None = Field(None, max_length=40, description="default: the post's")
    notes: str = Field("", max_length=300)


class NeedOut(Schema):
    label: str
    count: int
    met: int


class EquipmentStatusOut(Schema):
    category: str
    count: int
    issued: int


class EventOut(Schema):
    from_state: str
    to_state: str
    at: dt.datetime
    reason: str
    actor: str


class AssignmentOut(Schema):
    id: int
    shift_id: int
    person_id: int
    national_id: str = Field(alias="person.national_id")
    state: str
    suggested: bool
    assigned_by: str
    assigned_at: dt.datetime
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    reason: str


class AssignmentDetailOut(AssignmentOut):
    events: list[EventOut]
    items: list[str]

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        return list(obj.events.order_by("pk"))

    @staticmethod
    def resolve_items(obj: Any) -> list[str]:
        return [
            f"{i.item.model.code} {i.item.serial}" for i in obj.issues.select_related("item__model")
        ]


class ShiftDetailOut(ShiftOut):
    needs: list[NeedOut]
    equipment_issued: list[EquipmentStatusOut]
    assignments: list[AssignmentOut]

    @staticmethod
    def resolve_needs(obj: Any) -> list[Any]:
        return list(obj.detail.needs)

    @staticmethod
    def resolve_equipment_issued(obj: Any) -> list[Any]:
        return list(obj.detail.equipment)

    @staticmethod
    def resolve_assignments(obj: Any) -> list[Any]:
        return list(obj.seen_assignments)


class AssignIn(Schema):
    person_id: int
    reason: str = Field("", max_length=300)


class ReasonIn(Schema):
    reason: str = Field(max_length=300)


class NoteIn(Schema):
    reason: str = Field("", max_length=300)


class CorrectIn(Schema):
    to_state: str = Field(max_length=16, description="assigned or checked_in")
    reason: str = Field(max_length=300)


class ShiftIssueIn(SecondPerson):
    serials: list[str] = Field(min_length=1, max_length=20)
    model: str | None = Field(None, max_length=60, description="where two models share a serial")


class ShiftIssueOut(Schema):
    assignment_id: int
    due_at: dt.datetime
    items: list[ItemOut]


class AvailabilityOut(Schema):
    id: int
    person_id: int
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str
    actor: str
    withdrawn: bool

    @staticmethod
    def resolve_withdrawn(obj: Any) -> bool:
        return hasattr(obj, "withdrawal")


class AvailabilityIn(Schema):
    person_id: int | None = Field(None, description="default: your own record")
    kind: str = Field(max_length=16, description="available, unavailable or leave")
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str = Field("", max_length=300)
    cancel_assignments: bool = Field(
        False, description="take the volunteer off the shifts they are on in that time"
    )


class CellOut(Schema):
    shift_id: int
    post: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    headcount: int
    filled: int
    missing: int
    gap: bool
    cancelled: bool


class WeekOut(Schema):
    unit: str
    week: str
    monday: dt.date
    places: int
    filled: int
    gaps: int
    shifts: list[CellOut]


class ProposalOut(Schema):
    shift_id: int
    person_id: int
    national_id: str
    name: str
    hours_before: float
    helps: int


class GapReasonOut(Schema):
    code: str
    count: int
    example: str


class GapOut(Schema):
    shift_id: int
    missing: int
    candidates: int
    reasons: list[GapReasonOut]
    short: list[tuple[str, int]]


class RosterOut(Schema):
    unit: str
    week: str
    proposals: list[ProposalOut]
    gaps: list[GapOut]


class PairIn(Schema):
    shift_id: int
    person_id: int


class RosterIn(Schema):
    unit: str = Field(max_length=40)
    assignments: list[PairIn] = Field(min_length=1, max_length=2000)


class FitOut(Schema):
    person_id: int
    national_id: str
    name: str
    hours_this_week: float


class CandidatesOut(Schema):
    fitting: list[FitOut]
    refused: list[GapReasonOut]


class UnderstaffedOut(Schema):
    shift_id: int
    unit: str
    post: str
    starts_at: dt.datetime
    headcount: int
    filled: int
    missing: int
