"""The API's request and response bodies (pydantic, through ninja's Schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

# Errors ---------------------------------------------------------------------------------------


class ProblemOut(Schema):
    record: str
    field: str
    rule: str
    value: str


class ErrorOut(Schema):
    """Every error: a stable code, a message, the first field at fault and every problem."""

    code: str = Field(examples=["invalid", "forbidden", "not_found"])
    message: str
    field: str
    problems: list[ProblemOut]


class ReasonOut(Schema):
    rule: str
    ok: bool
    code: str
    message: str


class DecisionOut(Schema):
    target: str
    allowed: bool
    policy: str
    moment: dt.date
    reasons: list[ReasonOut]


class RefusalOut(ErrorOut):
    """A refusal by policy (code `refused`): nothing changed but the journaled refusal."""

    decision: DecisionOut | None
    decisions: list[DecisionOut]
    reasons: list[ReasonOut]


ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def responses(status: int, schema: Any, *, refusal: bool = False) -> dict[int, Any]:
    """The documented responses of an operation: its success and every error it may give."""
    found: dict[int, Any] = {status: schema, **ERRORS, 409: ErrorOut}
    if refusal:
        found[422] = RefusalOut
    return found


# Registry -------------------------------------------------------------------------------------


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    depth: int
    jurisdiction: str

    @staticmethod
    def resolve_depth(obj: Any) -> int:
        return int(obj.path.count("/")) - 2


class PersonOut(Schema):
    id: int
    national_id: str
    family_name: str
    given_name: str
    patronymic: str
    unit_id: int
    unit: str = Field(alias="unit.code")
    unit_role: str
    status: str


class MembershipOut(Schema):
    unit: str = Field(alias="unit.code")
    role: str
    since: dt.date
    reason: str


class PersonDetailOut(PersonOut):
    birth_date: dt.date | None
    phone: str
    email: str
    joined_on: dt.date
    prior_service_months: int
    combat_experience_months: int
    memberships: list[MembershipOut]

    @staticmethod
    def resolve_memberships(obj: Any) -> list[Any]:
        return list(obj.memberships.select_related("unit").order_by("since", "id"))


class PersonIn(Schema):
    national_id: str = Field(min_length=1, max_length=32)
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    patronymic: str = Field("", max_length=100)
    unit: str = Field(description="unit code", min_length=1, max_length=40)
    status: str = Field("applicant", max_length=16)
    joined_on: dt.date
    birth_date: dt.date | None = None
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=200)
    unit_role: str = Field("member", max_length=20)
    prior_service_months: int = Field(0, ge=0, le=1200)
    combat_experience_months: int = Field(0, ge=0, le=1200)


class MoveIn(Schema):
    unit: str = Field(description="unit code", min_length=1, max_length=40)
    role: str = Field("member", max_length=20)
    since: dt.date
    reason: str = Field(max_length=300)


class StatusIn(Schema):
    reason: str = Field(max_length=300)
    effective_on: dt.date | None = Field(None, description="default: today")


class StatusChangeOut(Schema):
    person_id: int
    from_status: str
    to_status: str
    effective_on: dt.date
    reason: str


# Vetting --------------------------------------------------------------------------------------


class QualificationOut(Schema):
    id: int
    person_id: int
    type: str = Field(alias="qualification_type.code")
    klass: str
    obtained_on: dt.date
    expires_on: dt.date | None
    examiner: str
    evidence_ref: str
    revoked_on: dt.date | None
    revocation_reason: str

    @staticmethod
    def resolve_revoked_on(obj: Any) -> dt.date | None:
        revocation = getattr(obj, "revocation", None) if _has_revocation(obj) else None
        return revocation.revoked_on if revocation else None

    @staticmethod
    def resolve_revocation_reason(obj: Any) -> str:
        return str(obj.revocation.reason) if _has_revocation(obj) else ""


def _has_revocation(obj: Any) -> bool:
    try:
        return obj.revocation is not None
    except Exception:  # RelatedObjectDoesNotExist: not revoked
        return False


class QualificationIn(Schema):
    type: str = Field(min_length=1, max_length=40)
    klass: str = Field("", max_length=40)
    obtained_on: dt.date
    expires_on: dt.date | None = None
    examiner: str = Field("", max_length=200)
    evidence_ref: str = Field("", max_length=200)


class RevocationIn(Schema):
    reason: str = Field(max_length=300)
    revoked_on: dt.date | None = Field(None, description="default: today")


# Armory ---------------------------------------------------------------------------------------


class ItemOut(Schema):
    id: int
    model: str = Field(alias="model.code")
    category: str = Field(alias="model.category.code")
    serial: str
    registration: str
    place: str
    site: str | None
    home_site: str = Field(alias="home_site.code")
    transit_to: str | None
    holder_id: int | None
    condition: str
    issue_kind: str
    issued_at: dt.datetime | None
    due_at: dt.datetime | None
    emergency: bool

    @staticmethod
    def resolve_site(obj: Any) -> str | None:
        return obj.site.code if obj.site_id else None

    @staticmethod
    def resolve_transit_to(obj: Any) -> str | None:
        return obj.transit_to.code if obj.transit_to_id else None


class HistoryEventOut(Schema):
    seq: int
    at: dt.datetime
    actor: str
    kind: str
    data: dict[str, Any]


# The model of a serial number, where two models share it.
MODEL = Field(None, max_length=60, description="model code, where two models share a serial")


class SecondPerson(Schema):
    second_username: str | None = Field(
        None, max_length=150, description="the second person (two-person rule)"
    )
    second_password: str | None = Field(
        None, max_length=200, description="the second person's own password"
    )
    second_token: str | None = Field(
        None,
        max_length=200,
        description="instead of a username and password: the second person's own API token",
    )


class IssueIn(SecondPerson):
    person_id: int
    serials: list[str] = Field(min_length=1, max_length=100)
    model: str | None = Field(None, max_length=60, description="where two models share a serial")
    kind: str = Field("checkout", description="checkout (due back) or assignment")
    hours: int | None = Field(None, ge=1, le=24 * 366)
    purpose: str = Field("", max_length=300)


class IssueOut(Schema):
    person_id: int
    items: list[ItemOut]
    decisions: list[DecisionOut]
    journal_seqs: list[int]


class ReturnIn(SecondPerson):
    person_id: int
    serials: list[str] = Field(min_length=1, max_length=100)
    model: str | None = Field(None, max_length=60)
    condition: str = Field("serviceable", max_length=24)
    note: str = Field("", max_length=300)


class MissingIn(Schema):
    serials: list[str] = Field(min_length=1, max_length=100)
    model: str | None = Field(None, max_length=60)
    stolen: bool = False
    summary: str = Field(max_length=500)


class IncidentOut(Schema):
    id: int
    kind: str
    status: str
    summary: str
    opened_by: str
    opened_at: dt.datetime
    items: list[int]
    people: list[int]

    @staticmethod
    def resolve_items(obj: Any) -> list[int]:
        return sorted(obj.items.values_list("pk", flat=True))

    @staticmethod
    def resolve_people(obj: Any) -> list[int]:
        return sorted(obj.people.values_list("pk", flat=True))


class TransferIn(Schema):
    from_site: str = Field(min_length=1, max_length=40)
    to_site: str = Field(min_length=1, max_length=40)
    serials: list[str] = Field(min_length=1, max_length=500)
    model: str | None = Field(None, max_length=60)


class TransferReceiveIn(Schema):
    serials: list[str] = Field(default_factory=list, max_length=500)


class TransferOut(Schema):
    id: int
    from_site: str = Field(alias="from_site.code")
    to_site: str = Field(alias="to_site.code")
    dispatched_by: str
    dispatched_at: dt.datetime
    received_by: str
    received_at: dt.datetime | None
    items: list[int]
    discrepancies: list[dict[str, Any]]

    @staticmethod
    def resolve_items(obj: Any) -> list[int]:
        return sorted(obj.items.values_list("pk", flat=True))


class LotHeldOut(Schema):
    model: str
    lot: str
    quantity: int


class HoldingsOut(Schema):
    person_id: int
    items: list[ItemOut]
    lots: list[LotHeldOut]


class RecallOut(Schema):
    item: ItemOut
    holder_id: int | None
    reasons: list[str]


# Counts ---------------------------------------------------------------------------------------


class CountIn(Schema):
    site: str = Field(min_length=1, max_length=40)
    counter: str = Field(description="username of the counter", min_length=1, max_length=150)
    category: str | None = Field(None, max_length=40)
    blind: bool | None = None


class CountOut(Schema):
    id: int
    site: str = Field(alias="site.code")
    category: str | None
    counter: str = Field(alias="counter.username")
    blind: bool
    status: str
    started_by: str
    started_at: dt.datetime
    closed_by: str
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_category(obj: Any) -> str | None:
        return obj.category.code if obj.category_id else None


class LotCountIn(Schema):
    lot: str = Field(min_length=1, max_length=120, description="lot number, or MODEL:NUMBER")
    quantity: int = Field(ge=0)


class CountRecordIn(Schema):
    serials: list[str] = Field(default_factory=list, max_length=10_000)
    lots: list[LotCountIn] = Field(default_factory=list, max_length=1_000)


class CountRecordedOut(Schema):
    count_id: int
    recorded: int


class VarianceOut(Schema):
    id: int
    kind: str
    item_id: int | None
    lot_id: int | None
    serial: str
    expected: int
    counted: int
    detail: str
    resolution: str


class CountClosedOut(Schema):
    count: CountOut
    variances: list[VarianceOut]
