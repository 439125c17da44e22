"""Items moving between places other than a person: transfers between sites, maintenance,
loss or theft and recovery, and disposal (R5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from muster.armory.models import Incident, Item, Site, Transfer
from muster.armory.services.catalogue import storage_problems
from muster.armory.services.common import (
    apply_custody,
    authorise,
    item_label,
    lock_items,
    require_place,
)
from muster.armory.services.custody import release_quota
from muster.core.actors import Actor
from muster.core.errors import CustodyError, Problem
from muster.journal.services import Change, record_change

CONDITIONS = ("serviceable", "unserviceable", "awaiting_inspection")


def _locked(item_ids: Sequence[int], record: str) -> list[Item]:
    if not item_ids:
        raise CustodyError.single(record, "items", "name at least one item")
    if len(set(item_ids)) != len(item_ids):
        raise CustodyError.single(record, "items", "an item is named twice")
    items = lock_items(item_ids)
    unknown = set(item_ids) - {i.pk for i in items}
    if unknown:
        raise CustodyError.single(record, "items", "no such item", str(sorted(unknown)))
    return items


@transaction.atomic
def dispatch_transfer(
    *, actor: Actor, from_site: Site, to_site: Site, item_ids: Sequence[int]
) -> Transfer:
    """Send items from one site to another: they are in transit until the other site receives them.
    The receiving site must meet the storage policy for every item."""
    record = f"transfer {from_site.code}→{to_site.code}"
    if from_site.pk == to_site.pk:
        raise CustodyError.single(record, "to_site", "is the site the items are at")
    items = _locked(item_ids, record)
    require_place(items, "dispatch")
    problems = [
        Problem(
            item_label(i),
            "site",
            f"is at {i.site.code if i.site else '?'}, not at {from_site.code}",
        )
        for i in items
        if i.site_id != from_site.pk
    ]
    problems.extend(
        storage_problems(to_site, Counter(i.model.category.code for i in items), record)
    )
    if problems:
        raise CustodyError(problems)
    for category in sorted({i.model.category.code for i in items}):
        authorise(actor=actor, site=from_site, category=category, record=record)
    transfer = Transfer.objects.create(
        from_site=from_site, to_site=to_site, dispatched_by=actor.label
    )
    transfer.items.set(items)
    for item in items:
        apply_custody(
            item,
            actor=actor,
            kind="custody.dispatched",
            data={"transfer": transfer.pk, "from_site": from_site.code, "to_site": to_site.code},
            place="in_transit",
            site=from_site,
            transit_to=to_site,
        )
    return transfer


@transaction.atomic
def receive_transfer(*, actor: Actor, transfer: Transfer, serials: Sequence[str]) -> Transfer:
    """Receive a transfer: what arrived is compared with what was dispatched. Items that did
    not arrive stay in transit and open a loss incident; unexpected serials are recorded."""
    record = f"transfer {transfer.pk}"
    locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if locked.received_at is not None:
        raise CustodyError.single(
            record, "received_at", f"was already received on {locked.received_at:%Y-%m-%d %H:%M}"
        )
    # Items of the transfer reported lost or recovered on the way are no longer in transit with
    # it, nor are items dispatched again since (they travel with a later transfer): not expected.
    dispatched = lock_items(locked.items.values_list("pk", flat=True))
    moved_on = set(
        Transfer.items.through.objects.filter(
            item_id__in=[i.pk for i in dispatched], transfer_id__gt=locked.pk
        ).values_list("item_id", flat=True)
    )
    items = [i for i in dispatched if i.place == "in_transit" and i.pk not in moved_on]
    arrived = set(serials)
    to_site = locked.to_site
    # Booking a transfer in closes it even when nothing is left in transit: authority is needed
    # for everything it carried.
    for category in sorted({i.model.category.code for i in dispatched}):
        authorise(actor=actor, site=to_site, category=category, record=record)
    discrepancies = []
    missing = []
    for item in items:
        if item.serial in arrived:
            apply_custody(
                item,
                actor=actor,
                kind="custody.arrived",
                data={"transfer": locked.pk, "to_site": to_site.code},
                place="site",
                site=to_site,
                transit_to=None,
                home_site=to_site,
            )
        else:
            missing.append(item)
            discrepancies.append(
                {"kind": "not_arrived", "serial": item.serial, "model": item.model.code}
            )
    for serial in sorted(arrived - {i.serial for i in items}):
        discrepancies.append({"kind": "not_dispatched", "serial": serial})
    if missing:
        incident = Incident.objects.create(
            kind="loss",
            summary=f"{len(missing)} item(s) of transfer {locked.pk} did not arrive at {to_site.code}",
            opened_by=actor.label,
        )
        incident.items.set(missing)
        record_change(
            actor=actor,
            change=Change(
                "incident.opened",
                "incident",
                incident.pk,
                {
                    "kind": "loss",
                    "summary": incident.summary,
                    "items": [item_label(i) for i in missing],
                },
            ),
        )
    locked.received_at = timezone.now()
    locked.received_by = actor.label
    locked.discrepancies = discrepancies
    locked.save(update_fields=["received_at", "received_by", "discrepancies"])
    record_change(
        actor=actor,
        change=Change(
            "transfer.received",
            "transfer",
            locked.pk,
            {
                "to_site": to_site.code,
                "arrived": sorted(arrived & {i.serial for i in items}),
                "discrepancies": discrepancies,
            },
        ),
    )
    return locked


@transaction.atomic
def send_to_maintenance(
    *, actor: Actor, item_ids: Sequence[int], provider: str, reason: str
) -> list[Item]:
    """Hand items from a site to a maintenance provider."""
    record = f"maintenance by {provider or '?'}"
    items = _locked(item_ids, record)
    require_place(items, "to_maintenance")
    if not provider.strip() or not reason.strip():
        raise CustodyError.single(
            record, "provider" if not provider.strip() else "reason", "is required"
        )
    for item in items:
        site = item.site
        assert site is not None
        authorise(
            actor=actor, site=site, category=item.model.category.code, record=item_label(item)
        )
        apply_custody(
            item,
            actor=actor,
            kind="custody.sent_to_maintenance",
            data={"from_site": site.code, "provider": provider, "reason": reason},
            place="maintenance",
            site=None,
        )
    return items


@transaction.atomic
def receive_from_maintenance(
    *, actor: Actor, item_ids: Sequence[int], site: Site, condition: str
) -> list[Item]:
    """Take items back from maintenance into a site, with the condition they came back in."""
    record = f"back from maintenance to {site.code}"
    items = _locked(item_ids, record)
    require_place(items, "from_maintenance")
    problems = []
    if condition not in CONDITIONS:
        problems.append(
            Problem(record, "condition", f"must be one of {', '.join(CONDITIONS)}", condition)
        )
    problems.extend(storage_problems(site, Counter(i.model.category.code for i in items), record))
    if problems:
        raise CustodyError(problems)
    for item in items:
        authorise(
            actor=actor, site=site, category=item.model.category.code, record=item_label(item)
        )
        apply_custody(
            item,
            actor=actor,
            kind="custody.returned_from_maintenance",
            data={"to_site": site.code, "condition": condition},
            place="site",
            site=site,
            home_site=site,
            condition=condition,
        )
    return items


@transaction.atomic
def report_missing(
    *, actor: Actor, item_ids: Sequence[int], stolen: bool, summary: str
) -> Incident:
    """Report items lost or stolen: they leave every stock figure and an incident is opened."""
    kind = "theft" if stolen else "loss"
    record = f"{kind} report"
    if not summary.strip():
        raise CustodyError.single(record, "summary", "say what happened")
    items = _locked(item_ids, record)
    require_place(items, "report_missing")
    for item in items:  # someone answerable for the item's home site reports it
        authorise(
            actor=actor,
            site=item.home_site,
            category=item.model.category.code,
            record=item_label(item),
        )
    holders = [i.holder for i in items if i.holder is not None]
    incident = Incident.objects.create(kind=kind, summary=summary, opened_by=actor.label)
    incident.items.set(items)
    incident.people.set(holders)
    record_change(
        actor=actor,
        change=Change(
            "incident.opened",
            "incident",
            incident.pk,
            {
                "kind": kind,
                "summary": summary,
                "items": [item_label(i) for i in items],
                "people": [p.national_id for p in holders],
            },
        ),
    )
    for item in items:
        release_quota(item)  # when it was issued
        apply_custody(
            item,
            actor=actor,
            kind=f"custody.reported_{'stolen' if stolen else 'lost'}",
            data={
                "incident": incident.pk,
                "was": item.place,
                "holder": item.holder.national_id if item.holder else None,
                "site": item.site.code if item.site else None,
            },
            place="stolen" if stolen else "lost",
            site=None,
            holder=None,
            transit_to=None,
            issue_kind="",
            issued_at=None,
            due_at=None,
            emergency=False,
        )
    return incident


@transaction.atomic
def recover_item(*, actor: Actor, item_id: int, site: Site, note: str) -> Item:
    """A lost, stolen or missing-in-transit item is found: it comes into a site awaiting inspection."""
    (item,) = _locked([item_id], "recovery")
    require_place([item], "recover")
    problems = storage_problems(site, Counter([item.model.category.code]), item_label(item))
    if not note.strip():
        problems.append(Problem(item_label(item), "note", "say where and how it was found"))
    if problems:
        raise CustodyError(problems)
    authorise(actor=actor, site=site, category=item.model.category.code, record=item_label(item))
    apply_custody(
        item,
        actor=actor,
        kind="custody.recovered",
        data={"was": item.place, "to_site": site.code, "note": note},
        place="site",
        site=site,
        home_site=site,
        transit_to=None,
        condition="awaiting_inspection",
    )
    return item


@transaction.atomic
def dispose_item(*, actor: Actor, second: Actor | None, item_id: int, reason: str) -> Item:
    """Dispose of an item for good (destroyed, decommissioned); a second authorised person confirms.
    The item's record and history stay."""
    (item,) = _locked([item_id], "disposal")
    require_place([item], "dispose")
    if not reason.strip():
        raise CustodyError.single(item_label(item), "reason", "a disposal needs a reason")
    site = item.site or item.home_site
    authorise(
        actor=actor,
        site=site,
        category=item.model.category.code,
        record=item_label(item),
        second=second,
        two_person=True,
    )
    apply_custody(
        item,
        actor=actor,
        second=second,
        kind="custody.disposed",
        data={"was": item.place, "site": site.code, "reason": reason},
        place="disposed",
        site=None,
        transit_to=None,
    )
    return item
