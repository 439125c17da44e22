"""Ammunition by lot (R5): received into a site, issued to a volunteer, returned and
expended with a reason; balances reconcile to the round.

Each handler checks the caller's roles (403) and scope (404), turns names into records and
calls one service (muster.armory.services.ammunition), which holds the rules and runs in one
transaction."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import people_in, require, sites_in
from muster.api.common import actor, person_by_id, scope, second_person, site_by_code
from muster.api.errors import Refused
from muster.api.schemas import SecondPerson, responses
from muster.armory.models import Lot, LotBalance, Site
from muster.armory.selectors import lot_by_number
from muster.armory.services.ammunition import (
    expend_ammunition,
    issue_ammunition,
    receive_lot,
    return_ammunition,
)
from muster.people.models import Person
from muster.policy.rules import Reason

router = Router(tags=["ammunition"])

QUANTITY = Field(ge=1, le=1_000_000_000, description="number of rounds")
LOT = Field(min_length=1, max_length=80, description="the lot number")
LOT_MODEL = Field(None, max_length=60, description="model code, where two models share a lot")


class LotReceiveIn(Schema):
    site: str = Field(min_length=1, max_length=40)
    model: str = Field(min_length=1, max_length=60, description="model code, e.g. AMM-556")
    lot: str = LOT
    quantity: int = QUANTITY
    reference: str = Field(max_length=80, description="the shipment's reference")


class LotOut(Schema):
    id: int
    model: str = Field(alias="model.code")
    lot: str = Field(alias="lot_number")
    received_total: int
    expended_total: int
    written_off_total: int


class AmmunitionIssueIn(SecondPerson):
    person_id: int
    site: str = Field(min_length=1, max_length=40, description="the site the rounds leave")
    lot: str = LOT
    model: str | None = LOT_MODEL
    quantity: int = QUANTITY
    purpose: str = Field("", max_length=300)


class AmmunitionReturnIn(Schema):
    person_id: int
    site: str = Field(min_length=1, max_length=40, description="the site the rounds enter")
    lot: str = LOT
    model: str | None = LOT_MODEL
    quantity: int = QUANTITY


class AmmunitionExpendIn(Schema):
    person_id: int
    lot: str = LOT
    model: str | None = LOT_MODEL
    quantity: int = QUANTITY
    reason: str = Field(max_length=300, description="e.g. range training 2026-05-02")


class AmmunitionMovedOut(Schema):
    """The rounds moved and the balances they left behind."""

    model: str
    lot: str
    quantity: int
    person_id: int
    person_balance: int
    site: str | None
    site_balance: int | None


class BalanceOut(Schema):
    model: str = Field(alias="lot.model.code")
    lot: str = Field(alias="lot.lot_number")
    site: str | None
    holder_id: int | None
    quantity: int

    @staticmethod
    def resolve_site(obj: Any) -> str | None:
        return obj.site.code if obj.site_id else None


def _balance(lot: Lot, *, site: Site | None = None, holder: Person | None = None) -> int:
    found = (
        LotBalance.objects.filter(lot=lot, site=site, holder=holder)
        .values_list("quantity", flat=True)
        .first()
    )
    return int(found or 0)


def _moved(lot: Lot, quantity: int, person: Person, site: Site | None) -> dict[str, Any]:
    return {
        "model": lot.model.code,
        "lot": lot.lot_number,
        "quantity": quantity,
        "person_id": person.pk,
        "person_balance": _balance(lot, holder=person),
        "site": site.code if site else None,
        "site_balance": _balance(lot, site=site) if site else None,
    }


@router.post(
    "/ammunition/receive",
    response=responses(201, LotOut),
    summary="Receive a lot of ammunition",
    tags=["ammunition"],
)
def ammunition_receive(request: HttpRequest, payload: LotReceiveIn) -> Status[Lot]:
    """Receive a quantity of a lot into a site (a new lot, or more of one already known)."""
    require(scope(request), "custody.change", f"lot {payload.lot}")
    site = site_by_code(scope(request), payload.site)
    lot = receive_lot(
        actor=actor(request),
        site=site,
        model_code=payload.model,
        lot_number=payload.lot,
        quantity=payload.quantity,
        reference=payload.reference,
    )
    return Status(201, Lot.objects.select_related("model").get(pk=lot.pk))


@router.post(
    "/ammunition/issue",
    response=responses(201, AmmunitionMovedOut, refusal=True),
    summary="Issue rounds to a volunteer",
    tags=["ammunition"],
)
def ammunition_issue(request: HttpRequest, payload: AmmunitionIssueIn) -> Status[dict[str, Any]]:
    """Issue rounds of a lot from a site to a volunteer, the second person confirming where the
    two-person rule applies. A refusal by policy is 422 with its reasons."""
    require(scope(request), "custody.change", f"lot {payload.lot}")
    acting = actor(request)
    second = second_person(payload)
    person = person_by_id(scope(request), payload.person_id)
    site = site_by_code(scope(request), payload.site)
    lot = lot_by_number(payload.lot, payload.model)
    issued, refusals = issue_ammunition(
        actor=acting,
        second=second,
        person=person,
        lot=lot,
        site=site,
        quantity=payload.quantity,
        purpose=payload.purpose,
    )
    if not issued:
        # The service answers a refusal as "rule: message" lines.
        reasons = [
            Reason(rule=rule, ok=False, message=message, code="")
            for rule, _, message in (line.partition(": ") for line in refusals)
        ]
        raise Refused(
            f"no rounds were issued to {person.national_id}: refused by policy", [], reasons
        )
    return Status(201, _moved(lot, payload.quantity, person, site))


@router.post(
    "/ammunition/return",
    response=responses(200, AmmunitionMovedOut),
    summary="Take unused rounds back",
    tags=["ammunition"],
)
def ammunition_return(request: HttpRequest, payload: AmmunitionReturnIn) -> dict[str, Any]:
    """Take unused rounds back from a volunteer into a site that may store them."""
    require(scope(request), "custody.change", f"lot {payload.lot}")
    person = person_by_id(scope(request), payload.person_id)
    site = site_by_code(scope(request), payload.site)
    lot = lot_by_number(payload.lot, payload.model)
    return_ammunition(
        actor=actor(request), person=person, lot=lot, site=site, quantity=payload.quantity
    )
    return _moved(lot, payload.quantity, person, site)


@router.post(
    "/ammunition/expend",
    response=responses(200, AmmunitionMovedOut),
    summary="Record rounds expended",
    tags=["ammunition"],
)
def ammunition_expend(request: HttpRequest, payload: AmmunitionExpendIn) -> dict[str, Any]:
    """Record rounds a volunteer fired, with the reason; they leave the lot for good."""
    require(scope(request), "custody.change", f"lot {payload.lot}")
    person = person_by_id(scope(request), payload.person_id)
    lot = lot_by_number(payload.lot, payload.model)
    expend_ammunition(
        actor=actor(request),
        person=person,
        lot=lot,
        quantity=payload.quantity,
        reason=payload.reason,
    )
    return _moved(lot, payload.quantity, person, None)


@router.get(
    "/ammunition/balances",
    response=responses(200, list[BalanceOut]),
    summary="Ammunition balances by lot",
    tags=["ammunition"],
)
@paginate(LimitOffsetPagination)
def ammunition_balances(
    request: HttpRequest,
    site: str | None = Query(None, max_length=40, description="site code"),
    holder: int | None = Query(None, description="person id"),
    model: str | None = Query(None, max_length=60, description="model code"),
    lot: str | None = Query(None, max_length=80, description="lot number"),
) -> QuerySet[LotBalance]:
    """How many rounds of each lot are at each site and with each volunteer the caller sees
    (balances above zero)."""
    the_scope = scope(request)
    balances = LotBalance.objects.select_related("lot__model", "site").filter(quantity__gt=0)
    if not the_scope.everything:
        balances = balances.filter(
            Q(site__in=sites_in(the_scope).values("pk"))
            | Q(holder__in=people_in(the_scope).values("pk"))
        )
    if site:
        balances = balances.filter(site__code=site)
    if holder is not None:
        balances = balances.filter(holder_id=holder)
    if model:
        balances = balances.filter(lot__model__code=model)
    if lot:
        balances = balances.filter(lot__lot_number=lot)
    # Sites first, then holders, on every database (NULLs sort differently in each).
    return balances.order_by(
        "lot__model__code",
        "lot__lot_number",
        F("site__code").asc(nulls_last=True),
        "holder_id",
        "pk",
    )
