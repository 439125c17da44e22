"""Kits: specific serialized items issued and returned together (a rifle with its optic and
magazines). An incomplete return takes back what came back and lists the shortage; the short
items stay with the holder, on their hand receipt."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from muster.armory.models import Item, Kit
from muster.armory.services.common import (
    category_policy,
    item_label,
    lock_items,
    policy_for_site,
    require_authority,
)
from muster.armory.services.custody import IssueOutcome, Returned, issue_items, return_items
from muster.core.actors import Actor
from muster.core.errors import CustodyError, Problem
from muster.journal.services import Change, record_change
from muster.people.models import Person


@transaction.atomic
def define_kit(*, actor: Actor, code: str, name: str, item_ids: Sequence[int]) -> Kit:
    """Group two or more items at one site into a kit; an item belongs to one kit at most."""
    record = f"kit {code}"
    problems = []
    if not code.strip() or len(code) > 40:
        problems.append(Problem(record, "code", "must be 1 to 40 characters", code))
    elif Kit.objects.filter(code=code).exists():
        problems.append(Problem(record, "code", "another kit has this code", code))
    if not name.strip():
        problems.append(Problem(record, "name", "is required"))
    if len(set(item_ids)) < 2:
        problems.append(Problem(record, "items", "a kit is two or more different items"))
    if len(set(item_ids)) != len(item_ids):
        problems.append(Problem(record, "items", "an item is named twice"))
    items = lock_items(item_ids)
    unknown = set(item_ids) - {i.pk for i in items}
    if unknown:
        problems.append(Problem(record, "items", "no such item", str(sorted(unknown))))
    serials: set[str] = set()
    for item in items:
        if item.place != "site":
            problems.append(
                Problem(item_label(item), "place", "must be at a storage site", item.place)
            )
        if item.kit_id is not None:
            problems.append(
                Problem(item_label(item), "kit", "is already in another kit", str(item.kit_id))
            )
        if item.serial in serials:
            problems.append(
                Problem(item_label(item), "serial", "another item of the kit has this serial")
            )
        serials.add(item.serial)
    sites = {i.site for i in items if i.site is not None}
    if len(sites) > 1:
        problems.append(
            Problem(
                record,
                "items",
                "must all be at one site; they are at " + ", ".join(sorted(s.code for s in sites)),
            )
        )
    if problems:
        raise CustodyError(problems)
    (site,) = sites
    policy = policy_for_site(site)
    for category in sorted({i.model.category.code for i in items}):
        require_authority(
            actor=actor,
            second=None,
            site=site,
            rule=category_policy(policy, category, record),
            category=category,
            two_person=False,
            record=record,
        )
    kit = Kit.objects.create(code=code, name=name)
    Item.objects.filter(pk__in=[i.pk for i in items]).update(kit=kit)
    record_change(
        actor=actor,
        change=Change(
            "kit.defined",
            "kit",
            code,
            {"name": name, "site": site.code, "items": [item_label(i) for i in items]},
        ),
    )
    return kit


def _kit_item_ids(kit: Kit) -> list[int]:
    ids = list(Item.objects.filter(kit=kit).order_by("pk").values_list("pk", flat=True))
    if not ids:
        raise CustodyError.single(f"kit {kit.code}", "items", "the kit has no items")
    return ids


@transaction.atomic
def issue_kit(
    *,
    actor: Actor,
    second: Actor | None,
    person: Person,
    kit: Kit,
    kind: str = "checkout",
    hours: int | None = None,
) -> IssueOutcome:
    """Issue every item of the kit to one person in one transaction: each item gets its own
    eligibility decision, and either all are issued or none is."""
    outcome = issue_items(
        actor=actor,
        second=second,
        person=person,
        item_ids=_kit_item_ids(kit),
        kind=kind,
        hours=hours,
        purpose=f"kit {kit.code}",
    )
    if outcome.issued:
        record_change(
            actor=actor,
            change=Change(
                "kit.issued",
                "kit",
                kit.code,
                {"to_person": person.national_id, "items": [item_label(i) for i in outcome.items]},
            ),
        )
    return outcome


@transaction.atomic
def return_kit(
    *,
    actor: Actor,
    second: Actor | None,
    person: Person,
    kit: Kit,
    returned_serials: Sequence[str],
    condition: str = "serviceable",
) -> list[Item]:
    """Take back the kit's items that came back; returns the shortage — items of the kit the
    person still holds, which stay on their hand receipt (journaled `kit.returned_incomplete`)."""
    record = f"kit {kit.code}"
    items = lock_items(_kit_item_ids(kit))
    held = [i for i in items if i.place == "person" and i.holder_id == person.pk]
    if not held:
        raise CustodyError.single(
            record, "person", f"{person.national_id} holds no item of this kit", person.national_id
        )
    by_serial = {i.serial: i for i in held}
    in_kit = {i.serial for i in items}
    problems = []
    for serial in sorted(set(returned_serials)):
        if serial not in in_kit:
            problems.append(Problem(record, "serial", "is not an item of this kit", serial))
        elif serial not in by_serial:
            problems.append(
                Problem(record, "serial", f"is not held by {person.national_id}", serial)
            )
    back = [i for i in held if i.serial in set(returned_serials)]
    if not back and not problems:
        problems.append(
            Problem(
                record,
                "serials",
                "name at least one returned item; if none came back, report them missing",
            )
        )
    if problems:
        raise CustodyError(problems)
    return_items(
        actor=actor,
        second=second,
        person=person,
        returns=[Returned(i.pk, condition) for i in back],
    )
    shortage = [i for i in held if i.serial not in set(returned_serials)]
    record_change(
        actor=actor,
        change=Change(
            "kit.returned_incomplete" if shortage else "kit.returned",
            "kit",
            kit.code,
            {
                "from_person": person.national_id,
                "returned": [item_label(i) for i in back],
                "shortage": [item_label(i) for i in shortage],
            },
        ),
    )
    return shortage
