"""Reads over inventory counts: the count sheet a counter works from (nothing expected on it
when the count is blind) and the variance report of a closed count."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet

from muster.armory.models import CountRecord, InventoryCount, Item, LotBalance, Variance
from muster.core.errors import NotFound


def count_by_id(count_id: int) -> InventoryCount:
    found = (
        InventoryCount.objects.select_related("site", "category", "counter")
        .filter(pk=count_id)
        .first()
    )
    if found is None:
        raise NotFound.single(f"count {count_id}", "id", "no count has this number")
    return found


def variance_by_id(variance_id: int) -> Variance:
    found = Variance.objects.select_related("count__site").filter(pk=variance_id).first()
    if found is None:
        raise NotFound.single(f"variance {variance_id}", "id", "no variance has this number")
    return found


@dataclass(frozen=True)
class CountSheet:
    """What the counter may see: what they recorded so far and, only when the count is not
    blind, what the record expects (None when blind)."""

    count: InventoryCount
    serials: tuple[str, ...]
    lots: tuple[tuple[str, int], ...]
    expected_serials: tuple[str, ...] | None
    expected_lots: tuple[tuple[str, int], ...] | None


def _lot_name(model_code: str, lot_number: str) -> str:
    return f"{model_code}:{lot_number}"


def count_sheet(count: InventoryCount) -> CountSheet:
    """The sheet of a count; a blind count's sheet never carries the expected list."""
    records = CountRecord.objects.filter(count=count).order_by("pk")
    serials = tuple(
        dict.fromkeys(records.filter(lot__isnull=True).values_list("serial", flat=True))
    )
    lot_totals: dict[str, int] = defaultdict(int)
    for model_code, number, quantity in records.filter(lot__isnull=False).values_list(
        "lot__model__code", "lot__lot_number", "quantity"
    ):
        lot_totals[_lot_name(model_code, number)] += quantity or 0
    expected_serials = expected_lots = None
    if not count.blind:
        items = Item.objects.filter(site_id=count.site_id, place="site")
        balances = LotBalance.objects.filter(site_id=count.site_id, quantity__gt=0)
        if count.category_id is not None:
            items = items.filter(model__category_id=count.category_id)
            balances = balances.filter(lot__model__category_id=count.category_id)
        expected_serials = tuple(items.order_by("serial").values_list("serial", flat=True))
        expected_lots = tuple(
            (_lot_name(m, n), q)
            for m, n, q in balances.order_by("lot__model__code", "lot__lot_number").values_list(
                "lot__model__code", "lot__lot_number", "quantity"
            )
        )
    return CountSheet(
        count=count,
        serials=serials,
        lots=tuple(sorted(lot_totals.items())),
        expected_serials=expected_serials,
        expected_lots=expected_lots,
    )


def variance_report(count: InventoryCount) -> QuerySet[Variance]:
    """The variances of a count by kind (missing, mislocated, quantity, unexpected), with their
    resolutions; empty while the count is open."""
    return (
        Variance.objects.filter(count=count)
        .select_related("item__model", "lot__model")
        .order_by("kind", "serial", "lot_id", "pk")
    )
