"""Kits (R5): items at one site grouped to be issued and returned together; what does not
come back is the shortage, which stays on the holder's hand receipt.

Each handler checks the caller's roles (403) and scope (404), turns names into records and
calls one service (muster.armory.services.kits), which holds the rules and runs in one
transaction."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import items_in, require
from muster.api.common import (
    ITEM_RELATED,
    actor,
    fresh_items,
    person_by_id,
    scope,
    second_person,
    visible_items,
)
from muster.api.errors import Refused, decision_body
from muster.api.schemas import MODEL, IssueOut, ItemOut, SecondPerson, responses
from muster.armory.models import Item, Kit
from muster.armory.services.custody import IssueOutcome
from muster.armory.services.kits import define_kit, issue_kit, return_kit
from muster.core.errors import NotFound
from muster.people.models import Person

router = Router(tags=["kits"])


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
        "items": fresh_items(outcome.items),
        "decisions": [decision_body(d) for d in outcome.decisions],
        "journal_seqs": list(outcome.journal_seqs),
    }


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
    person = person_by_id(scope(request), payload.person_id)
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
    person = person_by_id(scope(request), payload.person_id)
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
        "returned": fresh_items(list(returned)),
        "shortage": fresh_items(shortage),
    }
