"""Reads over the armory: hand receipts, item histories, recalls."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from muster.armory.models import Item, LotBalance
from muster.core.errors import NotFound
from muster.journal.models import JournalEntry
from muster.people.models import Person
from muster.policy.rules import evaluate
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import people_with_facts


def items_by_serial(serial: str) -> QuerySet[Item]:
    return Item.objects.filter(serial=serial).select_related(
        "model__category", "site", "holder", "home_site"
    )


def item_by_serial(serial: str, model_code: str | None = None) -> Item:
    """One item by serial (and model, where two models share a serial)."""
    found = items_by_serial(serial)
    if model_code:
        found = found.filter(model__code=model_code)
    items = list(found[:2])
    if not items:
        raise NotFound.single(f"item {serial}", "serial", "no item has this serial number")
    if len(items) > 1:
        raise NotFound.single(
            f"item {serial}", "model", "several models have this serial; name the model too"
        )
    return items[0]


@dataclass(frozen=True)
class HistoryEvent:
    seq: int
    at: dt.datetime
    actor: str
    kind: str
    data: dict[str, Any]


def item_history(item: Item) -> list[HistoryEvent]:
    """Every custody event of an item, oldest first, straight from the journal."""
    rows = JournalEntry.objects.filter(subject_type="item", subject_id=str(item.pk)).order_by("seq")
    return [
        HistoryEvent(
            seq=e.seq, at=e.recorded_at, actor=e.actor, kind=e.kind, data=json.loads(e.body)["data"]
        )
        for e in rows
    ]


@dataclass(frozen=True)
class Holdings:
    person: Person
    items: list[Item]
    lots: list[LotBalance]


def holdings_of(person: Person) -> Holdings:
    """What a person holds now: serialized items and lot quantities (the hand receipt)."""
    items = list(
        Item.objects.filter(holder=person)
        .select_related("model__category", "home_site")
        .order_by("issued_at", "pk")
    )
    lots = list(
        LotBalance.objects.filter(holder=person, quantity__gt=0).select_related("lot__model")
    )
    return Holdings(person=person, items=items, lots=lots)


@dataclass(frozen=True)
class Recall:
    item: Item
    reasons: tuple[str, ...]


def recalls(moment: dt.datetime | None = None) -> list[Recall]:
    """Items that must come back now: overdue checkouts, and items whose holder may no longer
    hold them (suspended, discharged, a qualification expired or revoked). One pass over the
    holders' records, however many items are out."""
    moment = moment or timezone.now()
    today = timezone.localdate(moment)
    held = list(
        Item.objects.filter(place="person")
        .select_related("model__category", "holder__unit", "home_site")
        .order_by("holder_id", "pk")
    )
    holders = Person.objects.filter(pk__in={item.holder_id for item in held})
    facts = {row.pk: (row, f) for row, f in people_with_facts(holders)}
    policies: dict[str, Any] = {}
    found = []
    for item in held:
        reasons = []
        if item.due_at is not None and item.due_at < moment:
            reasons.append(f"overdue since {timezone.localtime(item.due_at):%Y-%m-%d %H:%M}")
        row, person_facts_ = facts[item.holder_id]  # type: ignore[index]
        if row.jurisdiction not in policies:
            policies[row.jurisdiction] = policy_in_force(row.jurisdiction, today)
        decision = evaluate(person_facts_, policies[row.jurisdiction], item.model.target, today)
        reasons.extend(f"{r.rule}: {r.message}" for r in decision.refusals)
        if reasons:
            found.append(Recall(item=item, reasons=tuple(reasons)))
    return found
