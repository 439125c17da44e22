"""Reads over the armory: hand receipts, item histories, recalls."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from muster.armory.models import Item, Lot, LotBalance, Site
from muster.armory.reference import read_items
from muster.core.errors import NotFound, Problem
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
    return items_by_serials([serial], model_code)[0]


def item_heads(items: QuerySet[Item] | None = None) -> Iterator[tuple[str, int | None]]:
    """(item id, seq of its last custody entry) of `items` (by default every item), for the
    journal's `*.heads` entries."""
    items = Item.objects.all() if items is None else items
    for pk, last in items.order_by().values_list("pk", "last_seq").iterator(chunk_size=10_000):
        yield str(pk), last


def items_by_serials(serials: Sequence[str], model_code: str | None = None) -> list[Item]:
    """The items with these serial numbers, in the order given, in one query, with their model
    and sites (armory.reference); every serial that is unknown, ambiguous (two models) or
    named twice is reported at once."""
    problems = []
    seen: set[str] = set()
    for serial in serials:
        if serial in seen:
            problems.append(Problem(f"item {serial}", "serial", "is named twice"))
        seen.add(serial)
    wanted = sorted(seen)
    found = read_items(f'"serial" IN ({", ".join(["%s"] * len(wanted))})', wanted) if wanted else []
    if model_code:
        found = [i for i in found if i.model.code == model_code]
    by_serial: dict[str, list[Item]] = {}
    for item in found:
        by_serial.setdefault(item.serial, []).append(item)
    for serial in dict.fromkeys(serials):
        matches = by_serial.get(serial, [])
        if not matches:
            rule = "no item has this serial number" + (
                f" (model {model_code})" if model_code else ""
            )
            problems.append(Problem(f"item {serial}", "serial", rule))
        elif len(matches) > 1:
            codes = ", ".join(sorted(i.model.code for i in matches))
            rule = f"several models have this serial ({codes}); name the model too"
            problems.append(Problem(f"item {serial}", "model", rule))
    if problems:
        raise NotFound(problems)
    return [by_serial[serial][0] for serial in dict.fromkeys(serials)]


def site_by_code(code: str) -> Site:
    site = Site.objects.select_related("unit").filter(code=code).first()
    if site is None:
        raise NotFound.single(f"site {code}", "code", "no storage site has this code")
    return site


def lot_by_number(number: str, model_code: str | None = None) -> Lot:
    """One lot by its number (and model, where two models share a lot number)."""
    found = Lot.objects.select_related("model__category").filter(lot_number=number)
    if model_code:
        found = found.filter(model__code=model_code)
    lots = list(found[:2])
    if not lots:
        raise NotFound.single(f"lot {number}", "lot", "no lot has this number")
    if len(lots) > 1:
        raise NotFound.single(
            f"lot {number}", "model", "several models have this lot number; name the model"
        )
    return lots[0]


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
