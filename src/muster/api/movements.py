"""Items moving outside issue and return (R5): to maintenance and back, recovered after a
loss, disposed of for good, and received into a site by shipment.

Each handler checks the caller's roles (403) and scope (404), turns names into records and
calls one service (muster.armory.services.movements and .catalogue), which holds the rules
and runs in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from muster.access.scope import require
from muster.api.common import (
    actor,
    fresh_items,
    one_item,
    scope,
    second_person,
    site_by_code,
    visible_items,
)
from muster.api.schemas import MODEL, ItemOut, SecondPerson, responses
from muster.armory.models import Item, Shipment
from muster.armory.services.catalogue import NewItem, receive_items
from muster.armory.services.movements import (
    dispose_item,
    receive_from_maintenance,
    recover_item,
    send_to_maintenance,
)

router = Router(tags=["custody"])

SERIALS = Field(min_length=1, max_length=500, description="serial numbers")


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
    return fresh_items(moved)


@router.post(
    "/maintenance/receive",
    response=responses(200, list[ItemOut]),
    summary="Receive items back from maintenance",
    tags=["custody"],
)
def maintenance_receive(request: HttpRequest, payload: MaintenanceReceiveIn) -> list[Item]:
    """Take items back from maintenance into a site, with the condition they came back in."""
    require(scope(request), "custody.change", f"back from maintenance to {payload.site}")
    site = site_by_code(scope(request), payload.site)
    items = visible_items(scope(request), payload.serials, payload.model)
    moved = receive_from_maintenance(
        actor=actor(request), item_ids=[i.pk for i in items], site=site, condition=payload.condition
    )
    return fresh_items(moved)


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
    site = site_by_code(scope(request), payload.site)
    item = one_item(scope(request), payload.serial, payload.model)
    recover_item(actor=actor(request), item_id=item.pk, site=site, note=payload.note)
    return fresh_items([item])[0]


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
    item = one_item(scope(request), payload.serial, payload.model)
    dispose_item(actor=acting, second=second, item_id=item.pk, reason=payload.reason)
    return fresh_items([item])[0]


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
    site = site_by_code(scope(request), payload.site)
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
