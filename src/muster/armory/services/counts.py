"""Inventory counts (R7): a blind count by someone independent of the site, a variance report
computed from the record at close, and each variance closed by an authorised entry — the
record is corrected by new custody events, never edited."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from muster.accounts.models import User
from muster.accounts.selectors import roles_over
from muster.armory.count_selectors import variance_report
from muster.armory.models import (
    Category,
    CountRecord,
    InventoryCount,
    Item,
    Lot,
    LotBalance,
    Site,
    SiteCustodian,
    Variance,
)
from muster.armory.selectors import item_heads
from muster.armory.services.ammunition import _add, _take
from muster.armory.services.common import (
    apply_custody,
    category_policy,
    is_custodian,
    item_label,
    lock_items,
    policy_for_site,
    require_authority,
)
from muster.armory.services.custody import release_quota
from muster.armory.services.incidents import open_incident
from muster.armory.services.movements import report_missing
from muster.core.actors import Actor
from muster.core.errors import CustodyError, Problem
from muster.journal.services import (
    Change,
    heads_changes,
    parts_within,
    record_change,
    record_changes,
)
from muster.policy.schema import CategoryPolicy, PolicyDocument

RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "missing": ("found", "reported_lost"),
    "unexpected": ("correction",),
    "mislocated": ("correction",),
    "quantity": ("found", "reported_lost", "correction"),
}
# Beyond this many parameters SQLite refuses a query; PostgreSQL does not mind the batching.
_CHUNK = 900


def count_label(count: InventoryCount) -> str:
    return f"count {count.pk} at {count.site.code}"


def _scope(category: Category | None) -> str:
    return category.code if category else "the whole site"


def _authorisers(policy: PolicyDocument) -> list[str]:
    """Every role the policy lets authorise some category: who may order and close counts."""
    return sorted({role for rule in policy.categories.values() for role in rule.authorisers})


def _site_authority_problem(
    actor: Actor, site: Site, policy: PolicyDocument, record: str, doing: str
) -> Problem | None:
    roles = _authorisers(policy)
    if actor.user_id is not None and (
        roles_over(actor.user_id, site.unit) & set(roles) or is_custodian(actor, site)
    ):
        return None
    return Problem(
        record,
        "actor",
        f"{actor} may not {doing} at {site.code} "
        f"(needs one of: {', '.join(roles)}, or custodian of the site)",
    )


def _lock_count(count: InventoryCount) -> InventoryCount:
    return (
        InventoryCount.objects.select_for_update(of=("self",))
        .select_related("site__unit", "category", "counter")
        .get(pk=count.pk)
    )


@transaction.atomic
def start_count(
    *,
    actor: Actor,
    site: Site,
    counter: User,
    category: str | None,
    blind: bool | None = None,
) -> InventoryCount:
    """Open a count of a site (or one category there), assigned to an independent counter.

    Unless `counts.counter_may_be_custodian` allows it, the counter is neither a custodian of
    the site nor the counter of its previous count; a blind policy cannot be overridden; counts
    of overlapping scope are never open together."""
    locked = Site.objects.select_for_update().select_related("unit").get(pk=site.pk)
    record = f"count at {locked.code}"
    policy = policy_for_site(locked)
    problems: list[Problem] = []
    category_row = None
    if category is not None:
        category_row = Category.objects.filter(code=category).first()
        if category_row is None:
            problems.append(Problem(record, "category", "unknown category", category))
        elif category not in policy.categories:
            problems.append(
                Problem(record, "category", f"{policy.ref} does not cover {category}", category)
            )
    authority = _site_authority_problem(actor, locked, policy, record, "order a count")
    if authority:
        problems.append(authority)
    if not counter.is_active:
        problems.append(Problem(record, "counter", "is not an active user", counter.username))
    rule = policy.counts
    if not rule.counter_may_be_custodian:
        if SiteCustodian.objects.filter(site=locked, user=counter).exists():
            problems.append(
                Problem(
                    record,
                    "counter",
                    f"{counter.username} is a custodian of {locked.code}; "
                    f"{policy.ref} counts.counter_may_be_custodian is false",
                    counter.username,
                )
            )
        previous = InventoryCount.objects.filter(site=locked).order_by("-pk").first()
        if previous is not None and previous.counter_id == counter.pk:
            problems.append(
                Problem(
                    record,
                    "counter",
                    f"{counter.username} did the previous count of {locked.code} "
                    f"(count {previous.pk}); {policy.ref} counts.counter_may_be_custodian is "
                    "false, so another person counts this time",
                    counter.username,
                )
            )
    if rule.blind and blind is False:
        problems.append(
            Problem(
                record,
                "blind",
                f"{policy.ref} counts.blind is true: the counter may not see the expected list",
            )
        )
    overlapping = InventoryCount.objects.filter(site=locked, status="open")
    if category_row is not None:
        overlapping = overlapping.filter(Q(category__isnull=True) | Q(category=category_row))
    clash = overlapping.select_related("category").first()
    if clash is not None:
        problems.append(
            Problem(
                record,
                "category",
                f"count {clash.pk} of {_scope(clash.category)} at {locked.code} is still open; "
                "close it first",
                category or "",
            )
        )
    if problems:
        raise CustodyError(problems)
    count = InventoryCount.objects.create(
        site=locked,
        category=category_row,
        counter=counter,
        blind=rule.blind if blind is None else blind,
        started_by=actor.label,
    )
    record_change(
        actor=actor,
        change=Change(
            "count.started",
            "count",
            count.pk,
            {
                "site": locked.code,
                "category": category,
                "counter": counter.username,
                "blind": count.blind,
                "policy": policy.ref,
            },
        ),
    )
    return count


def _resolve_lot(spec: str, record: str) -> tuple[Lot | None, Problem | None]:
    """A lot by its number, or by MODEL:NUMBER where two models share a lot number."""
    found = list(Lot.objects.select_related("model__category").filter(lot_number=spec)[:2])
    if not found and ":" in spec:
        model, number = spec.split(":", 1)
        found = list(
            Lot.objects.select_related("model__category").filter(
                model__code=model, lot_number=number
            )[:2]
        )
    if not found:
        return None, Problem(record, "lot", "no lot has this number", spec)
    if len(found) > 1:
        return None, Problem(
            record, "lot", "several models have a lot with this number; write MODEL:LOT", spec
        )
    return found[0], None


@transaction.atomic
def record_count(
    *,
    actor: Actor,
    count: InventoryCount,
    serials: Sequence[str] = (),
    lots: Sequence[tuple[str, int]] = (),
) -> int:
    """Record what the counter saw: serial numbers, and lots with a quantity (a lot recorded
    twice adds up). Only the assigned counter records, only while the count is open; serials
    unknown to the record are kept, to be reported as unexpected. Returns the records written."""
    locked = _lock_count(count)
    record = count_label(locked)
    problems: list[Problem] = []
    if locked.status != "open":
        raise CustodyError.single(record, "status", "is closed; nothing more can be recorded")
    if actor.user_id is None or actor.user_id != locked.counter_id:
        raise CustodyError.single(
            record,
            "actor",
            f"only the assigned counter ({locked.counter.username}) may record in this count",
            actor.label,
        )
    if not serials and not lots:
        raise CustodyError.single(record, "records", "record at least one serial or lot")
    cleaned = []
    for serial in serials:
        text = serial.strip()
        if not text or len(text) > 80:
            problems.append(
                Problem(record, "serial", "must be 1 to 80 characters, not blank", serial)
            )
        cleaned.append(text)
    counted_lots: list[tuple[Lot, int]] = []
    for spec, quantity in lots:
        lot, problem = _resolve_lot(spec.strip(), record)
        if problem:
            problems.append(problem)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            problems.append(
                Problem(record, "quantity", "must be a whole number, zero or more", str(quantity))
            )
            continue
        if lot is None:
            continue
        if locked.category_id is not None and lot.model.category_id != locked.category_id:
            problems.append(
                Problem(
                    record,
                    "lot",
                    f"is {lot.model.category.code}; this count is of {_scope(locked.category)}",
                    spec,
                )
            )
            continue
        counted_lots.append((lot, quantity))
    if problems:
        raise CustodyError(problems)
    rows = [CountRecord(count=locked, serial=s, recorded_by=actor.label) for s in cleaned]
    rows += [
        CountRecord(count=locked, lot=lot, quantity=quantity, recorded_by=actor.label)
        for lot, quantity in counted_lots
    ]
    CountRecord.objects.bulk_create(rows, batch_size=2000)
    # Many serials go over several entries (64 KiB each): the lots and the first serials in
    # the first, each with its part number and the number of parts.
    parts = parts_within(cleaned)
    lots_seen = [[f"{lot.model.code}:{lot.lot_number}", q] for lot, q in counted_lots]
    record_changes(
        actor=actor,
        changes=[
            Change(
                "count.recorded",
                "count",
                locked.pk,
                {
                    "serials": part,
                    "lots": lots_seen if n == 1 else [],
                    "part": n,
                    "parts": len(parts),
                },
            )
            for n, part in enumerate(parts, start=1)
        ],
    )
    return len(rows)


@dataclass(frozen=True)
class _Seen:
    """An item found by a counted serial that the site's expected list did not contain."""

    pk: int
    place: str
    site_id: int | None
    site_code: str | None
    transit_code: str | None
    holder: str | None
    model_code: str


def _where(seen: _Seen) -> str:
    if seen.place == "site":
        return f"recorded at {seen.site_code}"
    if seen.place == "person":
        return f"recorded as issued to {seen.holder}"
    if seen.place == "in_transit":
        return f"recorded in transit from {seen.site_code} to {seen.transit_code}"
    return f"recorded as {seen.place}"


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _items_by_serial(serials: Iterable[str]) -> dict[str, list[_Seen]]:
    found: dict[str, list[_Seen]] = defaultdict(list)
    for chunk in _chunks(sorted(serials)):
        rows = Item.objects.filter(serial__in=chunk).values_list(
            "serial",
            "pk",
            "place",
            "site_id",
            "site__code",
            "transit_to__code",
            "holder__national_id",
            "model__code",
        )
        for serial, pk, place, site_id, site_code, transit_code, holder, model_code in rows:
            found[serial].append(
                _Seen(pk, place, site_id, site_code, transit_code, holder, model_code)
            )
    return found


def _serial_variances(count: InventoryCount) -> list[Variance]:
    """Missing, unexpected and mis-located items, by set operations over the record at close."""
    expected_rows = Item.objects.filter(site=count.site, place="site")
    if count.category_id is not None:
        expected_rows = expected_rows.filter(model__category_id=count.category_id)
    expected: dict[str, list[int]] = defaultdict(list)
    for pk, serial in expected_rows.values_list("pk", "serial").iterator(chunk_size=10_000):
        expected[serial].append(pk)
    counted = set(
        CountRecord.objects.filter(count=count, lot__isnull=True).values_list("serial", flat=True)
    )
    variances = [
        Variance(count=count, kind="missing", item_id=pk, serial=serial, expected=1, counted=0)
        for serial in sorted(expected.keys() - counted)
        for pk in expected[serial]
    ]
    others = counted - expected.keys()
    found = _items_by_serial(others)
    for serial in sorted(others):
        elsewhere = [
            s for s in found.get(serial, []) if s.place != "site" or s.site_id != count.site_id
        ]
        if len(elsewhere) < len(found.get(serial, [])):
            continue  # on record here, only outside the count's category: nothing to report
        if len(elsewhere) == 1:
            (seen,) = elsewhere
            variances.append(
                Variance(
                    count=count,
                    kind="mislocated",
                    item_id=seen.pk,
                    serial=serial,
                    counted=1,
                    detail=f"{seen.model_code} {_where(seen)}"[:300],
                )
            )
            continue
        detail = (
            f"matches {len(elsewhere)} items elsewhere: "
            + ", ".join(f"{s.model_code} {_where(s)}" for s in elsewhere)
            if elsewhere
            else "no item on record has this serial"
        )
        variances.append(
            Variance(count=count, kind="unexpected", serial=serial, counted=1, detail=detail[:300])
        )
    return variances


def _lot_variances(count: InventoryCount) -> list[Variance]:
    """Lots whose counted quantity differs from the site's balance (an uncounted lot counts 0)."""
    balances = LotBalance.objects.filter(site=count.site)
    if count.category_id is not None:
        balances = balances.filter(lot__model__category_id=count.category_id)
    expected = dict(balances.values_list("lot_id", "quantity"))
    counted = dict(
        CountRecord.objects.filter(count=count, lot__isnull=False)
        .values("lot_id")
        .annotate(total=Sum("quantity"))
        .values_list("lot_id", "total")
    )
    return [
        Variance(
            count=count,
            kind="quantity",
            lot_id=lot_id,
            expected=expected.get(lot_id, 0),
            counted=counted.get(lot_id, 0),
            detail=f"{counted.get(lot_id, 0) - expected.get(lot_id, 0):+d}",
        )
        for lot_id in sorted(expected.keys() | counted.keys())
        if expected.get(lot_id, 0) != counted.get(lot_id, 0)
    ]


def _variance_order(variance: Variance) -> tuple[str, str, int]:
    return (variance.kind, variance.serial, variance.lot_id or 0)


@transaction.atomic
def close_count(*, actor: Actor, count: InventoryCount) -> list[Variance]:
    """Close a count and compute its variances against the record as it stands now.

    A count closes once (a second close is refused and writes nothing); the counter or someone
    who may authorise at the site closes it. Returns the variances, in report order."""
    locked = _lock_count(count)
    record = count_label(locked)
    if locked.status != "open":
        closed_at = timezone.localtime(locked.closed_at) if locked.closed_at else None
        raise CustodyError.single(
            record,
            "status",
            f"was already closed by {locked.closed_by}"
            + (f" at {closed_at:%Y-%m-%d %H:%M}" if closed_at else "")
            + "; nothing was changed",
        )
    policy = policy_for_site(locked.site)
    if actor.user_id is None or actor.user_id != locked.counter_id:
        problem = _site_authority_problem(actor, locked.site, policy, record, "close a count")
        if problem:
            raise CustodyError([problem])
    variances = _serial_variances(locked) + _lot_variances(locked)
    variances.sort(key=_variance_order)
    Variance.objects.bulk_create(variances, batch_size=2000)
    locked.status = "closed"
    locked.closed_by = actor.label
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_by", "closed_at"])
    lot_codes = dict(
        Lot.objects.filter(pk__in={v.lot_id for v in variances if v.lot_id}).values_list(
            "pk", "lot_number"
        )
    )
    by_kind: dict[str, int] = defaultdict(int)
    for variance in variances:
        by_kind[variance.kind] += 1
    every_line = [
        [v.kind, v.serial or lot_codes.get(v.lot_id or 0, ""), v.expected, v.counted]
        for v in variances
    ]
    # A journal entry holds at most 64 KiB: the lines go in parts, the first with the summary,
    # the rest as `count.lines` entries right after it.
    parts = parts_within(every_line)
    record_changes(
        actor=actor,
        changes=[
            Change(
                "count.closed",
                "count",
                locked.pk,
                {
                    "site": locked.site.code,
                    "category": locked.category.code if locked.category else None,
                    "variances": dict(sorted(by_kind.items())),
                    "parts": len(parts),
                    "lines": parts[0],
                },
            ),
            *(
                Change("count.lines", "count", locked.pk, {"part": n, "lines": part})
                for n, part in enumerate(parts[1:], start=2)
            ),
        ],
    )
    # Read after the entries above took the journal's head: no chain moves until commit.
    record_changes(
        actor=actor,
        changes=heads_changes("count.heads", "count", locked.pk, item_heads(_accountable(locked))),
    )
    return list(variance_report(locked))


def _accountable(count: InventoryCount) -> QuerySet[Item]:
    """The items a count answers for: those the site is home to, and those at it, of the
    count's category. Its `count.heads` entries commit to each one's last entry."""
    items = Item.objects.filter(Q(home_site=count.site_id) | Q(site=count.site_id))
    if count.category_id is not None:
        items = items.filter(model__category_id=count.category_id)
    return items


def _variance_label(variance: Variance) -> str:
    what = variance.serial or (
        f"lot {variance.lot.lot_number}" if variance.lot else f"#{variance.pk}"
    )
    return f"variance {variance.pk} ({variance.kind} {what}) of count {variance.count_id}"


def _rule_for(
    variance: Variance, policy: PolicyDocument, record: str
) -> tuple[str, CategoryPolicy]:
    """The category whose authorisers (and two-person rule) govern this variance."""
    if variance.item is not None:
        code = variance.item.model.category.code
    elif variance.lot is not None:
        code = variance.lot.model.category.code
    elif variance.count.category is not None:
        code = variance.count.category.code
    else:
        return "count variances", CategoryPolicy(authorisers=_authorisers(policy))  # type: ignore[arg-type]
    return code, category_policy(policy, code, record)


@transaction.atomic
def resolve_variance(
    *,
    actor: Actor,
    second: Actor | None,
    variance: Variance,
    resolution: str,
    note: str,
) -> Variance:
    """Close one variance by an authorised entry (found, reported lost, correction).

    The record changes only through journaled events — a loss report, a `custody.corrected`
    move, a lot adjustment — never by editing; a variance is resolved once."""
    locked = (
        Variance.objects.select_for_update(of=("self",))
        .select_related(
            "count__site__unit", "count__category", "item__model__category", "lot__model__category"
        )
        .get(pk=variance.pk)
    )
    record = _variance_label(locked)
    if locked.resolution:
        raise CustodyError.single(
            record,
            "resolution",
            f"was already resolved as {locked.resolution} by {locked.resolved_by}; "
            "a new finding needs a new count",
            locked.resolution,
        )
    allowed = RESOLUTIONS[locked.kind]
    problems = []
    if resolution not in allowed:
        problems.append(
            Problem(
                record,
                "resolution",
                f"a {locked.kind} variance is resolved as {' or '.join(allowed)}",
                resolution,
            )
        )
    if not note.strip() or len(note) > 300:
        problems.append(
            Problem(record, "note", "say what was found or done (at most 300 characters)")
        )
    if problems:
        raise CustodyError(problems)
    site = locked.count.site
    policy = policy_for_site(site)
    category, rule = _rule_for(locked, policy, record)
    require_authority(
        actor=actor,
        second=second,
        site=site,
        rule=rule,
        category=category,
        two_person=rule.two_person_rule,
        record=record,
    )
    data: dict[str, object] = {
        "count": locked.count_id,
        "site": site.code,
        "kind": locked.kind,
        "serial": locked.serial,
        "lot": locked.lot.lot_number if locked.lot else None,
        "expected": locked.expected,
        "counted": locked.counted,
        "resolution": resolution,
        "note": note,
        **({"second_person": second.label} if second else {}),
    }
    if locked.item is not None:
        data.update(_resolve_item(actor, second, locked, resolution, note, record))
    elif locked.lot is not None:
        data.update(_resolve_lot_variance(actor, second, locked, resolution, note, record))
    locked.resolution = resolution
    locked.resolved_by = actor.label
    locked.resolved_at = timezone.now()
    locked.resolution_note = note
    locked.save(update_fields=["resolution", "resolved_by", "resolved_at", "resolution_note"])
    record_change(actor=actor, change=Change("variance.resolved", "variance", locked.pk, data))
    return locked


def _resolve_item(
    actor: Actor, second: Actor | None, variance: Variance, resolution: str, note: str, record: str
) -> dict[str, object]:
    """Act on the item of a missing or mis-located variance; returns what to journal. A
    correction puts the record where the item was counted, without a storage check: it is there."""
    assert variance.item is not None
    site = variance.count.site
    (item,) = lock_items([variance.item.pk])
    at_site = item.place == "site" and item.site_id == site.pk
    if resolution == "found":
        return {"item": item_label(item), "record_now": item.place}
    if resolution == "reported_lost":
        if not at_site:
            raise CustodyError.single(
                record,
                "item",
                f"{item_label(item)} has moved since the count (it is {item.place}); "
                f"it is no longer missing from {site.code}",
                item.place,
            )
        incident = report_missing(
            actor=actor,
            item_ids=[item.pk],
            stolen=False,
            summary=f"missing at count {variance.count_id} of {site.code}: {note}"[:500],
        )
        return {"item": item_label(item), "incident": incident.pk}
    if at_site:
        return {"item": item_label(item), "record_now": "already at the site"}
    if item.place == "disposed":
        raise CustodyError.single(
            record,
            "item",
            f"{item_label(item)} is recorded as disposed; a count cannot bring it back",
            item.place,
        )
    was = {
        "was": item.place,
        "site": item.site.code if item.site else None,
        "holder": item.holder.national_id if item.holder else None,
    }
    release_quota(item)  # when it was issued
    seq = apply_custody(
        item,
        actor=actor,
        second=second,
        kind="custody.corrected",
        data={
            **was,
            "to_site": site.code,
            "count": variance.count_id,
            "variance": variance.pk,
            "note": note,
        },
        place="site",
        site=site,
        home_site=site,
        holder=None,
        transit_to=None,
        issue_kind="",
        issued_at=None,
        due_at=None,
        emergency=False,
    )
    return {"item": item_label(item), "custody_event": seq, **was}


def _resolve_lot_variance(
    actor: Actor, second: Actor | None, variance: Variance, resolution: str, note: str, record: str
) -> dict[str, object]:
    """Act on a lot's quantity variance: a shortfall written off (reported lost, opening an
    incident) or the balance corrected by the difference; `found` leaves the record as it was."""
    assert variance.lot is not None
    lot = Lot.objects.select_for_update().select_related("model").get(pk=variance.lot.pk)
    site = variance.count.site
    delta = variance.counted - variance.expected
    if resolution == "found":
        return {"lot_change": 0}
    if resolution == "reported_lost" and delta >= 0:
        raise CustodyError.single(
            record,
            "resolution",
            "only a shortfall can be reported lost; this lot was counted over its balance",
            resolution,
        )
    if delta < 0:
        _take(lot, site=site, quantity=-delta, record=record)
        Lot.objects.filter(pk=lot.pk).update(written_off_total=F("written_off_total") - delta)
    else:
        _add(lot, site=site, quantity=delta)
        Lot.objects.filter(pk=lot.pk).update(received_total=F("received_total") + delta)
    extra: dict[str, object] = {}
    if resolution == "reported_lost":
        incident = open_incident(
            actor=actor,
            kind="loss",
            summary=f"{-delta} of lot {lot.lot_number} missing at count {variance.count_id} "
            f"of {site.code}: {note}"[:500],
        )
        extra["incident"] = incident.pk
    record_change(
        actor=actor,
        change=Change(
            "lot.reported_lost" if resolution == "reported_lost" else "lot.corrected",
            "lot",
            lot.pk,
            {
                "lot": lot.lot_number,
                "model": lot.model.code,
                "site": site.code,
                "change": delta,
                "count": variance.count_id,
                "variance": variance.pk,
                "note": note,
                **({"second_person": second.label} if second else {}),
                **extra,
            },
        ),
    )
    return {"lot_change": delta, **extra}
