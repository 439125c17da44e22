"""Items, custody (issue, return, transfer, loss), holdings and recalls (R5, R7, R11)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.reads import record_person_read
from muster.access.scope import items_in, require, sites_in, visible, visible_person
from muster.api.common import ITEM_RELATED, actor, scope, second_person, visible_items
from muster.api.errors import Refused, decision_body
from muster.api.schemas import (
    HistoryEventOut,
    HoldingsOut,
    IncidentOut,
    IssueIn,
    IssueOut,
    ItemOut,
    MissingIn,
    RecallOut,
    ReturnIn,
    TransferIn,
    TransferOut,
    TransferReceiveIn,
    responses,
)
from muster.armory.models import Incident, Item, Site, Transfer
from muster.armory.proofs import item_bundle
from muster.armory.selectors import holdings_of, item_history, recalls
from muster.armory.services.custody import Returned, issue_items, return_items
from muster.armory.services.movements import dispatch_transfer, receive_transfer, report_missing
from muster.core.errors import NotFound
from muster.people.models import Person

router = Router(tags=["armory"])


def _items(request: HttpRequest) -> QuerySet[Item]:
    return items_in(scope(request), Item.objects.select_related(*ITEM_RELATED))


def _person(request: HttpRequest, person_id: int) -> Person:
    return visible_person(scope(request), person_id, f"person {person_id}")


def _site(request: HttpRequest, code: str, *, anywhere: bool = False) -> Site:
    sites = Site.objects.all() if anywhere else sites_in(scope(request))
    found = sites.select_related("unit").filter(code=code).first()
    if found is None:
        raise NotFound.single(f"site {code}", "site", "no storage site has this code")
    return found


@router.get("/items", response=responses(200, list[ItemOut]), summary="Items, filtered")
@paginate(LimitOffsetPagination)
def list_items(
    request: HttpRequest,
    site: str | None = Query(None, max_length=40, description="site code (where it is now)"),
    home_site: str | None = Query(None, max_length=40),
    category: str | None = Query(None, max_length=40),
    place: str | None = Query(None, max_length=16),
    serial: str | None = Query(None, max_length=80),
    holder: int | None = Query(None, description="person id"),
) -> QuerySet[Item]:
    items = _items(request)
    if site:
        items = items.filter(site__code=site)
    if home_site:
        items = items.filter(home_site__code=home_site)
    if category:
        items = items.filter(model__category__code=category)
    if place:
        items = items.filter(place=place)
    if serial:
        items = items.filter(serial=serial)
    if holder is not None:
        items = items.filter(holder_id=holder)
    return items.order_by("model__code", "serial", "pk")


@router.get("/items/{item_id}", response=responses(200, ItemOut))
def item_detail(request: HttpRequest, item_id: int) -> Item:
    return visible(_items(request), item_id, f"item {item_id}")


@router.get("/items/{item_id}/history", response=responses(200, list[HistoryEventOut]))
def history(request: HttpRequest, item_id: int) -> list[Any]:
    """Every custody event of the item, oldest first, straight from the journal."""
    return item_history(visible(_items(request), item_id, f"item {item_id}"))


@router.get(
    "/items/{item_id}/proof",
    response={k: v for k, v in responses(200, str).items() if k != 200},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The proof bundle (muster_verify.proof format)",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        }
    },
)
def proof(request: HttpRequest, item_id: int) -> HttpResponse:
    """The offline proof bundle of the item's custody history, for `muster-verify bundle`."""
    item = visible(_items(request), item_id, f"item {item_id}")
    bundle = item_bundle(item)
    response = HttpResponse(bundle.text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="item-{item.pk}.bundle"'
    return response


@router.post("/custody/issue", response=responses(201, IssueOut, refusal=True), tags=["custody"])
def issue(request: HttpRequest, payload: IssueIn) -> Status[dict[str, Any]]:
    """Issue items to a volunteer; the second person confirms with their own password. A
    refusal by policy (not eligible, over quota) is 422 with the decision and its reasons."""
    require(scope(request), "custody.change", f"issue to {payload.person_id}")
    acting = actor(request)
    second = second_person(payload)
    person = _person(request, payload.person_id)
    items = visible_items(scope(request), payload.serials, payload.model)
    outcome = issue_items(
        actor=acting,
        second=second,
        person=person,
        item_ids=[i.pk for i in items],
        kind=payload.kind,
        hours=payload.hours,
        purpose=payload.purpose,
    )
    if not outcome.issued:
        raise Refused(
            f"nothing was issued to {person.national_id}: refused by policy "
            f"{outcome.decisions[0].policy if outcome.decisions else 'in force'}",
            outcome.decisions,
            outcome.refusals,
        )
    return Status(
        201,
        {
            "person_id": person.pk,
            "items": by_model_and_serial(outcome.items),
            "decisions": [decision_body(d) for d in outcome.decisions],
            "journal_seqs": list(outcome.journal_seqs),
        },
    )


@router.post("/custody/return", response=responses(200, list[ItemOut]), tags=["custody"])
def return_(request: HttpRequest, payload: ReturnIn) -> list[Item]:
    """Take items back from the volunteer who holds them, into their home site."""
    require(scope(request), "custody.change", f"return from {payload.person_id}")
    acting = actor(request)
    second = second_person(payload)
    person = _person(request, payload.person_id)
    items = visible_items(scope(request), payload.serials, payload.model)
    returned = return_items(
        actor=acting,
        second=second,
        person=person,
        returns=[Returned(i.pk, payload.condition, payload.note) for i in items],
    )
    return by_model_and_serial(returned)


def by_model_and_serial(items: Iterable[Item]) -> list[Item]:
    """Items as an operation left them (the services keep their instances current)."""
    return sorted(items, key=lambda i: (i.model.code, i.serial))


@router.post("/custody/missing", response=responses(201, IncidentOut), tags=["custody"])
def missing(request: HttpRequest, payload: MissingIn) -> Status[Incident]:
    """Report items lost or stolen: they leave every stock figure and an incident opens."""
    require(scope(request), "custody.change", "loss report")
    items = visible_items(scope(request), payload.serials, payload.model)
    incident = report_missing(
        actor=actor(request),
        item_ids=[i.pk for i in items],
        stolen=payload.stolen,
        summary=payload.summary,
    )
    return Status(201, incident)


def _transfer(request: HttpRequest, transfer_id: int) -> Transfer:
    sites = sites_in(scope(request)).values("pk")
    transfers = Transfer.objects.select_related("from_site", "to_site").filter(
        Q(to_site__in=sites) | Q(from_site__in=sites)
    )
    return visible(transfers, transfer_id, f"transfer {transfer_id}")


@router.post("/transfers", response=responses(201, TransferOut), tags=["custody"])
def dispatch(request: HttpRequest, payload: TransferIn) -> Status[Transfer]:
    """Send items from a site of the caller's to another site; in transit until received."""
    require(scope(request), "custody.change", f"transfer {payload.from_site}")
    from_site = _site(request, payload.from_site)
    to_site = _site(request, payload.to_site, anywhere=True)
    items = visible_items(scope(request), payload.serials, payload.model)
    transfer = dispatch_transfer(
        actor=actor(request), from_site=from_site, to_site=to_site, item_ids=[i.pk for i in items]
    )
    return Status(201, transfer)


@router.get("/transfers/{transfer_id}", response=responses(200, TransferOut), tags=["custody"])
def transfer_detail(request: HttpRequest, transfer_id: int) -> Transfer:
    return _transfer(request, transfer_id)


@router.post(
    "/transfers/{transfer_id}/receive", response=responses(200, TransferOut), tags=["custody"]
)
def receive(request: HttpRequest, transfer_id: int, payload: TransferReceiveIn) -> Transfer:
    """Record what arrived; what did not stays in transit, with a loss incident."""
    require(scope(request), "custody.change", f"transfer {transfer_id}")
    transfer = _transfer(request, transfer_id)
    return receive_transfer(actor=actor(request), transfer=transfer, serials=payload.serials)


@router.get("/people/{person_id}/holdings", response=responses(200, HoldingsOut), tags=["custody"])
def holdings(
    request: HttpRequest, person_id: int, why: str = Query("", max_length=200)
) -> dict[str, Any]:
    """What a volunteer holds now (their hand receipt): items and lot quantities."""
    person = _person(request, person_id)
    record_person_read(actor=actor(request), scope=scope(request), person=person, why=why)
    held = holdings_of(person)
    items = Item.objects.select_related(*ITEM_RELATED).filter(pk__in=[i.pk for i in held.items])
    return {
        "person_id": person.pk,
        "items": list(items.order_by("issued_at", "pk")),
        "lots": [
            {"model": b.lot.model.code, "lot": b.lot.lot_number, "quantity": b.quantity}
            for b in held.lots
        ],
    }


@router.get("/recalls", response=responses(200, list[RecallOut]), tags=["custody"])
@paginate(LimitOffsetPagination)
def list_recalls(request: HttpRequest) -> list[dict[str, Any]]:
    """Items that must come back now (overdue, or the holder may no longer hold them)."""
    mine = set(
        items_in(scope(request), Item.objects.filter(place="person")).values_list("pk", flat=True)
    )
    found = [r for r in recalls() if r.item.pk in mine]
    items = Item.objects.select_related(*ITEM_RELATED).in_bulk([r.item.pk for r in found])
    return [
        {"item": items[r.item.pk], "holder_id": r.item.holder_id, "reasons": list(r.reasons)}
        for r in found
    ]
