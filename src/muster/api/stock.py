"""Stock operations beyond issue and return: maintenance, recovery and disposal, ammunition
lots, kits, emergency issues, receiving shipments, the catalogue and storage sites (R4, R5, R7,
R8).

Each handler checks the caller's roles (403) and scope (404), turns names into records and
calls one service, which holds the rules and runs in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import (
    Forbidden,
    Scope,
    items_in,
    people_in,
    require,
    sites_in,
    units_in,
    visible,
)
from muster.accounts.selectors import users_by_username
from muster.api.armory import ITEM_RELATED
from muster.api.common import actor, scope, second_person, visible_items
from muster.api.errors import Refused, decision_body, reason_body
from muster.api.schemas import (
    DecisionOut,
    IssueOut,
    ItemOut,
    ReasonOut,
    SecondPerson,
    responses,
)
from muster.armory.models import (
    Category,
    EquipmentModel,
    Item,
    Kit,
    Lot,
    LotBalance,
    Shipment,
    Site,
)
from muster.armory.selectors import lot_by_number
from muster.armory.services.ammunition import (
    expend_ammunition,
    issue_ammunition,
    receive_lot,
    return_ammunition,
)
from muster.armory.services.catalogue import NewItem, create_site, receive_items, register_model
from muster.armory.services.custody import IssueOutcome
from muster.armory.services.emergency import (
    emergency_issue,
    reconcile_emergency_issue,
    unreconciled_emergency_issues,
)
from muster.armory.services.kits import define_kit, issue_kit, return_kit
from muster.armory.services.movements import (
    dispose_item,
    receive_from_maintenance,
    recover_item,
    send_to_maintenance,
)
from muster.core.errors import NotFound
from muster.people.models import Person
from muster.policy.rules import Reason

router = Router(tags=["stock"])

SERIALS = Field(min_length=1, max_length=500, description="serial numbers")
MODEL = Field(None, max_length=60, description="model code, where two models share a serial")
QUANTITY = Field(ge=1, le=1_000_000_000, description="number of rounds")
LOT = Field(min_length=1, max_length=80, description="the lot number")
LOT_MODEL = Field(None, max_length=60, description="model code, where two models share a lot")
# Roles that take part in custody: the armorer's work, and the commander's confirmations and
# emergency orders (the policy says which of them may do what).
CUSTODY_ROLES = ("custody.change", "custody.confirm")


# Schemas --------------------------------------------------------------------------------------


class MaintenanceSendIn(Schema):
    serials: list[str] = SERIALS
    model: str | None = MODEL
    provider: str = Field(max_length=200, description="who maintains them")
    reason: str = Field(max_length=300, description="what is wrong, or what is due")


class MaintenanceReceiveIn(Schema):
    serials: list[str] = SERIALS
    model: str | None = MODEL
    site: str = Field(min_length=1, max_length=40, description="the site they come back into")
    condition: str = Field("serviceable", max_length=24)


class RecoverIn(Schema):
    serial: str = Field(min_length=1, max_length=80)
    model: str | None = MODEL
    site: str = Field(min_length=1, max_length=40, description="the site it is brought into")
    note: str = Field(max_length=300, description="where and how it was found")


class DisposeIn(SecondPerson):
    serial: str = Field(min_length=1, max_length=80)
    model: str | None = MODEL
    reason: str = Field(max_length=300, description="e.g. destroyed, certificate 2026/14")


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


class KitIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    serials: list[str] = Field(min_length=1, max_length=50, description="the items of the kit")
    model: str | None = MODEL


class KitOut(Schema):
    id: int
    code: str
    name: str
    items: list[ItemOut]

    @staticmethod
    def resolve_items(obj: Any) -> list[Item]:
        return list(
            Item.objects.select_related(*ITEM_RELATED)
            .filter(kit=obj)
            .order_by("model__code", "serial")
        )


class KitIssueIn(SecondPerson):
    person_id: int
    kind: str = Field("checkout", max_length=16, description="checkout (due back) or assignment")
    hours: int | None = Field(None, ge=1, le=24 * 366)


class KitReturnIn(SecondPerson):
    person_id: int
    serials: list[str] = Field(min_length=1, max_length=50, description="the items that came back")
    condition: str = Field("serviceable", max_length=24)


class KitReturnedOut(Schema):
    """What came back, and the shortage: items of the kit still on the holder's hand receipt."""

    kit: str
    person_id: int
    returned: list[ItemOut]
    shortage: list[ItemOut]


class EmergencyAssignmentIn(Schema):
    person_id: int
    serials: list[str] = Field(min_length=1, max_length=100)
    model: str | None = MODEL


class EmergencyIssueIn(Schema):
    assignments: list[EmergencyAssignmentIn] = Field(min_length=1, max_length=200)
    hours: int | None = Field(None, ge=1, le=24 * 366)


class EmergencyOutcomeOut(Schema):
    person_id: int
    issued: bool
    items: list[ItemOut]
    decisions: list[DecisionOut]
    reasons: list[ReasonOut]


class EmergencyIssueOut(Schema):
    outcomes: list[EmergencyOutcomeOut]


class ReconcileIn(SecondPerson):
    serial: str = Field(min_length=1, max_length=80)
    model: str | None = MODEL


class ReconciledOut(Schema):
    item: ItemOut
    decision: DecisionOut


class UnreconciledOut(Schema):
    item: ItemOut
    holder_id: int | None
    issued_at: dt.datetime
    deadline: dt.datetime
    policy: str


class NewItemIn(Schema):
    model: str = Field(min_length=1, max_length=60)
    serial: str = Field(min_length=1, max_length=80)
    registration: str = Field("", max_length=40, description="vehicles")
    condition: str = Field("serviceable", max_length=24)


class ExpectedLineIn(Schema):
    model: str = Field(min_length=1, max_length=60)
    serial: str = Field(min_length=1, max_length=80)


class ShipmentIn(Schema):
    site: str = Field(min_length=1, max_length=40)
    reference: str = Field(max_length=80)
    items: list[NewItemIn] = Field(min_length=1, max_length=5000)
    expected: list[ExpectedLineIn] | None = Field(
        None, max_length=5000, description="the packing list, to record what did not arrive"
    )


class ShipmentOut(Schema):
    id: int
    reference: str
    site: str = Field(alias="site.code")
    received_by: str
    received_at: dt.datetime
    expected_lines: int
    received_lines: int
    discrepancies: list[dict[str, Any]]


class CategoryOut(Schema):
    code: str
    name: str
    tracking: str


class ModelOut(Schema):
    id: int
    code: str
    name: str
    category: str = Field(alias="category.code")
    manufacturer: str
    legal_class: str
    weapon_class: str
    attributes: dict[str, Any]


class ModelIn(Schema):
    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=40)
    manufacturer: str = Field("", max_length=200)
    legal_class: str = Field("", max_length=40, description="e.g. civilian_rifle")
    weapon_class: str = Field("", max_length=40, description="the policy class, e.g. rifle")
    attributes: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="e.g. calibre, magazine_capacity"
    )


class SiteOut(Schema):
    id: int
    code: str
    name: str
    unit: str = Field(alias="unit.code")
    security_level: str
    certified_on: dt.date
    certification_expires: dt.date | None
    address: str
    capacities: dict[str, int]
    custodians: list[str]

    @staticmethod
    def resolve_capacities(obj: Any) -> dict[str, int]:
        return {c.category.code: c.max_items for c in obj.capacities.all()}

    @staticmethod
    def resolve_custodians(obj: Any) -> list[str]:
        return sorted(c.user.username for c in obj.custodians.all())


class SiteIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=40, description="unit code")
    security_level: str = Field(max_length=40, description="one of the policy's security_levels")
    certified_on: dt.date
    certification_expires: dt.date | None = None
    address: str = Field("", max_length=300)
    capacities: dict[str, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict, description="most items of a category it may hold: firearm → 50"
    )
    custodians: list[str] = Field(default_factory=list, max_length=50, description="usernames")


# Helpers --------------------------------------------------------------------------------------


def require_one_of(the_scope: Scope, actions: Sequence[str], what: str) -> None:
    """Refuse (403) unless the caller's roles give one of `actions`."""
    if any(the_scope.may(action) for action in actions):
        return
    held = ", ".join(sorted(the_scope.roles)) or "no role"
    wanted = " or ".join(a.replace(".", " ") for a in actions)
    raise Forbidden.single(what, "role", f"{held} may not {wanted}")


def _site(request: HttpRequest, code: str) -> Site:
    found = sites_in(scope(request)).select_related("unit").filter(code=code).first()
    if found is None:
        raise NotFound.single(f"site {code}", "site", "no storage site has this code")
    return found


def _person(request: HttpRequest, person_id: int) -> Person:
    people = people_in(scope(request), Person.objects.select_related("unit"))
    return visible(people, person_id, f"person {person_id}")


def _fresh(items: Sequence[Item]) -> list[Item]:
    """The items as they are now, ready for ItemOut."""
    return list(
        Item.objects.select_related(*ITEM_RELATED)
        .filter(pk__in=[i.pk for i in items])
        .order_by("model__code", "serial")
    )


def _one_item(request: HttpRequest, serial: str, model: str | None) -> Item:
    (item,) = visible_items(scope(request), [serial], model)
    return item


def _balance(lot: Lot, *, site: Site | None = None, holder: Person | None = None) -> int:
    found = (
        LotBalance.objects.filter(lot=lot, site=site, holder=holder)
        .values_list("quantity", flat=True)
        .first()
    )
    return int(found or 0)


def _kit(request: HttpRequest, code: str) -> Kit:
    """A kit with an item the caller sees (else NotFound)."""
    mine = items_in(scope(request)).filter(kit__isnull=False).values("kit_id")
    found = Kit.objects.filter(code=code, pk__in=mine).first()
    if found is None:
        raise NotFound.single(f"kit {code}", "kit", "no kit has this code")
    return found


def _issued(person: Person, outcome: IssueOutcome) -> dict[str, Any]:
    return {
        "person_id": person.pk,
        "items": _fresh(outcome.items),
        "decisions": [decision_body(d) for d in outcome.decisions],
        "journal_seqs": list(outcome.journal_seqs),
    }


# Maintenance, recovery, disposal --------------------------------------------------------------


@router.post(
    "/maintenance/send",
    response=responses(200, list[ItemOut]),
    summary="Send items to maintenance",
    tags=["custody"],
)
def maintenance_send(request: HttpRequest, payload: MaintenanceSendIn) -> list[Item]:
    """Hand items at a site to a maintenance provider; they leave the site until received back."""
    require(scope(request), "custody.change", f"maintenance by {payload.provider}")
    items = visible_items(scope(request), payload.serials, payload.model)
    moved = send_to_maintenance(
        actor=actor(request),
        item_ids=[i.pk for i in items],
        provider=payload.provider,
        reason=payload.reason,
    )
    return _fresh(moved)


@router.post(
    "/maintenance/receive",
    response=responses(200, list[ItemOut]),
    summary="Receive items back from maintenance",
    tags=["custody"],
)
def maintenance_receive(request: HttpRequest, payload: MaintenanceReceiveIn) -> list[Item]:
    """Take items back from maintenance into a site, with the condition they came back in."""
    require(scope(request), "custody.change", f"back from maintenance to {payload.site}")
    site = _site(request, payload.site)
    items = visible_items(scope(request), payload.serials, payload.model)
    moved = receive_from_maintenance(
        actor=actor(request), item_ids=[i.pk for i in items], site=site, condition=payload.condition
    )
    return _fresh(moved)


@router.post(
    "/custody/recover",
    response=responses(200, ItemOut),
    summary="Recover a lost or stolen item",
    tags=["custody"],
)
def recover(request: HttpRequest, payload: RecoverIn) -> Item:
    """A lost, stolen or missing-in-transit item is found: it comes into a site, awaiting
    inspection."""
    require(scope(request), "custody.change", f"recovery of {payload.serial}")
    site = _site(request, payload.site)
    item = _one_item(request, payload.serial, payload.model)
    recover_item(actor=actor(request), item_id=item.pk, site=site, note=payload.note)
    return _fresh([item])[0]


@router.post(
    "/custody/dispose",
    response=responses(200, ItemOut),
    summary="Dispose of an item for good",
    tags=["custody"],
)
def dispose(request: HttpRequest, payload: DisposeIn) -> Item:
    """Dispose of an item (destroyed, decommissioned); a second authorised person confirms with
    their own credentials. The item's record and history stay."""
    require(scope(request), "custody.change", f"disposal of {payload.serial}")
    acting = actor(request)
    second = second_person(payload)
    item = _one_item(request, payload.serial, payload.model)
    dispose_item(actor=acting, second=second, item_id=item.pk, reason=payload.reason)
    return _fresh([item])[0]


# Ammunition -----------------------------------------------------------------------------------


@router.post(
    "/ammunition/receive",
    response=responses(201, LotOut),
    summary="Receive a lot of ammunition",
    tags=["ammunition"],
)
def ammunition_receive(request: HttpRequest, payload: LotReceiveIn) -> Status[Lot]:
    """Receive a quantity of a lot into a site (a new lot, or more of one already known)."""
    require(scope(request), "custody.change", f"lot {payload.lot}")
    site = _site(request, payload.site)
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
    person = _person(request, payload.person_id)
    site = _site(request, payload.site)
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
    person = _person(request, payload.person_id)
    site = _site(request, payload.site)
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
    person = _person(request, payload.person_id)
    lot = lot_by_number(payload.lot, payload.model)
    expend_ammunition(
        actor=actor(request),
        person=person,
        lot=lot,
        quantity=payload.quantity,
        reason=payload.reason,
    )
    return _moved(lot, payload.quantity, person, None)


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


# Kits -----------------------------------------------------------------------------------------


@router.get("/kits", response=responses(200, list[KitOut]), summary="Kits", tags=["kits"])
@paginate(LimitOffsetPagination)
def list_kits(
    request: HttpRequest,
    code: str | None = Query(None, max_length=40),
    site: str | None = Query(None, max_length=40, description="home site of its items"),
) -> QuerySet[Kit]:
    """The kits whose items the caller sees, each with its items and where they are."""
    items = items_in(scope(request)).filter(kit__isnull=False)
    if site:
        items = items.filter(home_site__code=site)
    kits = Kit.objects.filter(pk__in=items.values("kit_id"))
    if code:
        kits = kits.filter(code=code)
    return kits.order_by("code")


@router.post("/kits", response=responses(201, KitOut), summary="Define a kit", tags=["kits"])
def define(request: HttpRequest, payload: KitIn) -> Status[Kit]:
    """Group two or more items at one site into a kit, issued and returned together."""
    require(scope(request), "custody.change", f"kit {payload.code}")
    items = visible_items(scope(request), payload.serials, payload.model)
    kit = define_kit(
        actor=actor(request), code=payload.code, name=payload.name, item_ids=[i.pk for i in items]
    )
    return Status(201, kit)


@router.post(
    "/kits/{code}/issue",
    response=responses(201, IssueOut, refusal=True),
    summary="Issue a kit",
    tags=["kits"],
)
def kit_issue(request: HttpRequest, code: str, payload: KitIssueIn) -> Status[dict[str, Any]]:
    """Issue every item of the kit to one volunteer, all or none; a refusal by policy is 422."""
    require(scope(request), "custody.change", f"kit {code}")
    acting = actor(request)
    second = second_person(payload)
    person = _person(request, payload.person_id)
    kit = _kit(request, code)
    outcome = issue_kit(
        actor=acting, second=second, person=person, kit=kit, kind=payload.kind, hours=payload.hours
    )
    if not outcome.issued:
        raise Refused(
            f"kit {kit.code} was not issued to {person.national_id}: refused by policy",
            outcome.decisions,
            outcome.refusals,
        )
    return Status(201, _issued(person, outcome))


@router.post(
    "/kits/{code}/return",
    response=responses(200, KitReturnedOut),
    summary="Return a kit, with its shortage",
    tags=["kits"],
)
def kit_return(request: HttpRequest, code: str, payload: KitReturnIn) -> dict[str, Any]:
    """Take back the kit's items that came back; the rest is the shortage, which stays on the
    holder's hand receipt."""
    require(scope(request), "custody.change", f"kit {code}")
    acting = actor(request)
    second = second_person(payload)
    person = _person(request, payload.person_id)
    kit = _kit(request, code)
    shortage = return_kit(
        actor=acting,
        second=second,
        person=person,
        kit=kit,
        returned_serials=payload.serials,
        condition=payload.condition,
    )
    returned = Item.objects.filter(kit=kit, serial__in=payload.serials)
    return {
        "kit": kit.code,
        "person_id": person.pk,
        "returned": _fresh(list(returned)),
        "shortage": _fresh(shortage),
    }


# Emergency issue ------------------------------------------------------------------------------


@router.post(
    "/emergency-issues",
    response=responses(201, EmergencyIssueOut, refusal=True),
    summary="Emergency issue to several volunteers",
    tags=["custody"],
)
def emergency(request: HttpRequest, payload: EmergencyIssueIn) -> Status[dict[str, Any]]:
    """Where policy allows it, an authorised commander issues in bulk without the per-item
    two-person step; each issue stays flagged until reconciled. Each volunteer gets their own
    decision; when every one is refused the answer is 422."""
    require_one_of(scope(request), CUSTODY_ROLES, "emergency issue")
    acting = actor(request)
    assignments = [
        (
            _person(request, a.person_id),
            [i.pk for i in visible_items(scope(request), a.serials, a.model)],
        )
        for a in payload.assignments
    ]
    outcomes = emergency_issue(actor=acting, assignments=assignments, hours=payload.hours)
    if not any(o.issued for o in outcomes):
        raise Refused(
            "nothing was issued: refused by policy",
            [d for o in outcomes for d in o.decisions],
            [r for o in outcomes for r in o.refusals],
        )
    return Status(
        201,
        {
            "outcomes": [
                {
                    "person_id": person.pk,
                    "issued": outcome.issued,
                    "items": _fresh(outcome.items),
                    "decisions": [decision_body(d) for d in outcome.decisions],
                    "reasons": [reason_body(r) for r in outcome.refusals],
                }
                for (person, _), outcome in zip(assignments, outcomes, strict=True)
            ]
        },
    )


@router.post(
    "/emergency-issues/reconcile",
    response=responses(200, ReconciledOut, refusal=True),
    summary="Reconcile an emergency issue",
    tags=["custody"],
)
def reconcile(request: HttpRequest, payload: ReconcileIn) -> dict[str, Any]:
    """A second authorised person, not the one who ordered the issue, confirms it after the
    fact; the holder's eligibility is checked now and a refusal (422) leaves the flag."""
    require_one_of(scope(request), CUSTODY_ROLES, f"reconciliation of {payload.serial}")
    acting = actor(request)
    second = second_person(payload)
    item = _one_item(request, payload.serial, payload.model)
    outcome = reconcile_emergency_issue(actor=acting, second=second, item=item)
    if not outcome.reconciled:
        raise Refused(
            f"the emergency issue of {item.serial} stays unreconciled: refused by policy",
            [outcome.decision],
            outcome.decision.refusals,
        )
    return {"item": _fresh([item])[0], "decision": decision_body(outcome.decision)}


@router.get(
    "/emergency-issues/unreconciled",
    response=responses(200, list[UnreconciledOut]),
    summary="Emergency issues past their reconciliation limit",
    tags=["custody"],
)
@paginate(LimitOffsetPagination)
def unreconciled(
    request: HttpRequest,
    site: str | None = Query(None, max_length=40, description="home site code"),
) -> list[dict[str, Any]]:
    """Emergency issues still not reconciled after the policy's limit: an alert, oldest first."""
    found = unreconciled_emergency_issues()
    mine = items_in(scope(request), Item.objects.filter(pk__in=[u.item.pk for u in found]))
    if site:
        mine = mine.filter(home_site__code=site)
    items = Item.objects.select_related(*ITEM_RELATED).in_bulk(
        list(mine.values_list("pk", flat=True))
    )
    return [
        {
            "item": items[u.item.pk],
            "holder_id": u.item.holder_id,
            "issued_at": u.issued_at,
            "deadline": u.deadline,
            "policy": u.policy,
        }
        for u in found
        if u.item.pk in items
    ]


# Shipments ------------------------------------------------------------------------------------


@router.post(
    "/shipments",
    response=responses(201, ShipmentOut),
    summary="Receive a shipment of serialized items",
    tags=["custody"],
)
def receive_shipment(request: HttpRequest, payload: ShipmentIn) -> Status[Shipment]:
    """Receive serialized items into a site against a shipment reference, all or nothing. Lines
    of the packing list (`expected`) that did not arrive, and items that arrived unannounced,
    are recorded as discrepancies."""
    require(scope(request), "custody.change", f"shipment {payload.reference}")
    site = _site(request, payload.site)
    shipment = receive_items(
        actor=actor(request),
        site=site,
        reference=payload.reference,
        items=[NewItem(i.model, i.serial, i.registration, i.condition) for i in payload.items],
        expected=(
            None if payload.expected is None else [(e.model, e.serial) for e in payload.expected]
        ),
    )
    return Status(201, shipment)


# Catalogue and sites --------------------------------------------------------------------------


@router.get(
    "/categories",
    response=responses(200, list[CategoryOut]),
    summary="Equipment categories",
    tags=["catalogue"],
)
@paginate(LimitOffsetPagination)
def list_categories(
    request: HttpRequest,
    tracking: str | None = Query(None, max_length=16, description="serialized or quantity"),
) -> QuerySet[Category]:
    """The equipment categories; their codes are the ones the policy uses."""
    categories = Category.objects.all()
    if tracking:
        categories = categories.filter(tracking=tracking)
    return categories.order_by("code")


@router.get(
    "/models",
    response=responses(200, list[ModelOut]),
    summary="Equipment models",
    tags=["catalogue"],
)
@paginate(LimitOffsetPagination)
def list_models(
    request: HttpRequest,
    category: str | None = Query(None, max_length=40),
    q: str | None = Query(None, max_length=100, description="code, name or manufacturer"),
) -> QuerySet[EquipmentModel]:
    """The models in the catalogue, with their legal class and attributes."""
    models = EquipmentModel.objects.select_related("category")
    if category:
        models = models.filter(category__code=category)
    if q:
        models = models.filter(
            Q(code__icontains=q) | Q(name__icontains=q) | Q(manufacturer__icontains=q)
        )
    return models.order_by("code")


@router.post(
    "/models", response=responses(201, ModelOut), summary="Register a model", tags=["catalogue"]
)
def register(request: HttpRequest, payload: ModelIn) -> Status[EquipmentModel]:
    """Add a model to the catalogue; the legal limits of every policy in force are checked (a
    civilian-class rifle with a 30-round magazine is refused, citing the rule)."""
    require(scope(request), "policy.change", f"model {payload.code}")
    model = register_model(
        actor=actor(request),
        code=payload.code,
        name=payload.name,
        category=payload.category,
        manufacturer=payload.manufacturer,
        legal_class=payload.legal_class,
        weapon_class=payload.weapon_class,
        attributes=dict(payload.attributes),
    )
    return Status(201, EquipmentModel.objects.select_related("category").get(pk=model.pk))


def _sites(request: HttpRequest) -> QuerySet[Site]:
    return (
        sites_in(scope(request))
        .select_related("unit")
        .prefetch_related("capacities__category", "custodians__user")
    )


@router.get(
    "/sites", response=responses(200, list[SiteOut]), summary="Storage sites", tags=["sites"]
)
@paginate(LimitOffsetPagination)
def list_sites(
    request: HttpRequest,
    unit: str | None = Query(None, max_length=40, description="unit code (and its subtree)"),
    security_level: str | None = Query(None, max_length=40),
) -> QuerySet[Site]:
    """The storage sites the caller sees, with capacity per category and custodians."""
    sites = _sites(request)
    if unit:
        found = units_in(scope(request)).filter(code=unit).first()
        sites = sites.filter(unit__path__startswith=found.path) if found else sites.none()
    if security_level:
        sites = sites.filter(security_level=security_level)
    return sites.order_by("code")


@router.post(
    "/sites", response=responses(201, SiteOut), summary="Create a storage site", tags=["sites"]
)
def create(request: HttpRequest, payload: SiteIn) -> Status[Site]:
    """A storage site of a unit in the caller's scope, with its certified security level,
    capacity per category and custodians."""
    require(scope(request), "sites.change", f"site {payload.code}")
    unit = units_in(scope(request)).filter(code=payload.unit).first()
    if unit is None:
        raise NotFound.single(f"unit {payload.unit}", "unit", "no unit has this code")
    site = create_site(
        actor=actor(request),
        code=payload.code,
        name=payload.name,
        unit=unit,
        security_level=payload.security_level,
        certified_on=payload.certified_on,
        certification_expires=payload.certification_expires,
        address=payload.address,
        capacities=dict(payload.capacities),
        custodians=users_by_username(payload.custodians),
    )
    return Status(201, _sites(request).get(pk=site.pk))
