"""What every custody service needs: locking items, policy for a site, authorisation checks,
and the one place an item's custody changes and is journaled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from muster.accounts.selectors import roles_over
from muster.armory.models import Item, Site, SiteCustodian
from muster.armory.rules import move_problem
from muster.core.actors import Actor
from muster.core.errors import CustodyError, Problem
from muster.journal.services import Change, record_change
from muster.people.models import Unit
from muster.people.selectors import region_and_jurisdiction
from muster.policy.schema import CategoryPolicy, PolicyDocument
from muster.policy.selectors import policy_in_force


def _site_context(site: Site) -> tuple[Unit, str]:
    """The site's region and policy jurisdiction, read once per site object (one query):
    every custody operation needs both, often for several items of one site."""
    cached: tuple[Unit, str] | None = getattr(site, "_muster_context", None)
    if cached is None:
        cached = region_and_jurisdiction(site.unit)
        site._muster_context = cached  # type: ignore[attr-defined]
    return cached


def policy_for_site(site: Site) -> PolicyDocument:
    return policy_in_force(_site_context(site)[1], timezone.localdate())


def region_for_site(site: Site) -> Unit:
    return _site_context(site)[0]


def category_policy(policy: PolicyDocument, category: str, record: str) -> CategoryPolicy:
    found = policy.categories.get(category)
    if found is None:
        raise CustodyError.single(
            record, "category", f"{policy.ref} does not cover the category {category!r}", category
        )
    return found


def lock_items(ids: Iterable[int]) -> list[Item]:
    """The items, locked for this transaction, in id order (a fixed order avoids deadlocks)."""
    wanted = sorted(set(ids))
    # Lock, then read with the related rows: on PostgreSQL a row changed by the transaction we
    # waited for comes back with the related rows of its old version (a returned item's site
    # as None, an issued item's holder as None), so the joins must come after the lock.
    if connection.vendor != "sqlite":  # SQLite's BEGIN IMMEDIATE already excludes other writers
        list(Item.objects.select_for_update().filter(pk__in=wanted).order_by("pk").values("pk"))
    return list(
        Item.objects.select_related(
            "model__category", "site__unit", "home_site__unit", "holder", "transit_to"
        )
        .filter(pk__in=wanted)
        .order_by("pk")
    )


def item_label(item: Item) -> str:
    return f"item {item.model.code} {item.serial}"


def require_place(items: Iterable[Item], operation: str) -> None:
    problems = []
    for item in items:
        why = move_problem(operation, item.place)
        if why:
            problems.append(Problem(item_label(item), "place", why, item.place))
    if problems:
        raise CustodyError(problems)


def is_custodian(actor: Actor, site: Site) -> bool:
    if actor.user_id is None:
        return False
    return SiteCustodian.objects.filter(site=site, user_id=actor.user_id).exists()


@dataclass(frozen=True)
class Authority:
    """Who acted and who confirmed, checked against the policy for one site and category."""

    actor: Actor
    second: Actor | None


def require_authority(
    *,
    actor: Actor,
    second: Actor | None,
    site: Site,
    rule: CategoryPolicy,
    category: str,
    two_person: bool,
    record: str,
) -> None:
    """The actor holds an authorising role over the site (or is its custodian); where the
    two-person rule applies, a different authorised person confirmed with their own credentials."""
    authorisers = set(rule.authorisers)
    problems = []
    if actor.user_id is None:
        problems.append(Problem(record, "actor", "must be an authenticated user"))
    elif not (roles_over(actor.user_id, site.unit) & authorisers or is_custodian(actor, site)):
        problems.append(
            Problem(
                record,
                "actor",
                f"{actor} may not authorise {category} at {site.code} "
                f"(needs one of: {', '.join(sorted(authorisers))}, or custodian of the site)",
            )
        )
    if two_person:
        if second is None or second.user_id is None:
            problems.append(
                Problem(
                    record,
                    "second_person",
                    f"the two-person rule applies to {category}: "
                    "a second authorised person must confirm with their own credentials",
                )
            )
        elif second.user_id == actor.user_id:
            problems.append(
                Problem(record, "second_person", "must be a different person from the actor")
            )
        elif not (
            roles_over(second.user_id, site.unit) & authorisers or is_custodian(second, site)
        ):
            problems.append(
                Problem(
                    record, "second_person", f"{second} may not authorise {category} at {site.code}"
                )
            )
    if problems:
        raise CustodyError(problems)


def authorise(
    *,
    actor: Actor,
    site: Site,
    category: str,
    record: str,
    second: Actor | None = None,
    two_person: bool = False,
) -> CategoryPolicy:
    """require_authority under the policy in force at `site` for `category`; returns the
    category's rules for the caller's other checks."""
    rule = category_policy(policy_for_site(site), category, record)
    require_authority(
        actor=actor, second=second, site=site, rule=rule, category=category,
        two_person=two_person, record=record,
    )  # fmt: skip
    return rule


def apply_custody(
    item: Item,
    *,
    actor: Actor,
    kind: str,
    data: dict[str, Any],
    second: Actor | None = None,
    **fields: Any,
) -> int:
    """Journal one custody event for `item` and move it, in the caller's transaction.

    The UPDATE is conditional on the version read under the lock, so even a writer that skipped
    the lock cannot make two changes from the same state. Returns the event's journal seq."""
    entry = record_change(
        actor=actor,
        change=Change(
            kind,
            "item",
            item.pk,
            {
                "serial": item.serial,
                "model": item.model.code,
                "prev": item.last_seq,
                **({"second_person": second.label} if second else {}),
                **data,
            },
        ),
    )
    updated = Item.objects.filter(pk=item.pk, version=item.version).update(
        version=F("version") + 1, last_seq=entry.seq, **fields
    )
    if updated != 1:
        raise CustodyError.single(
            item_label(item), "version", "was changed by someone else meanwhile; try again"
        )
    for name, value in fields.items():
        setattr(item, name, value)
    item.version += 1
    item.last_seq = entry.seq
    return entry.seq
