"""What every custody service needs: locking items, policy for a site, authorisation checks,
and the one place an item's custody changes and is journaled."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.utils import timezone

from muster.armory.models import Item, Site
from muster.armory.reference import reference_of, with_reference
from muster.armory.rules import RECEIVING_ROLES, move_problem
from muster.core import rows
from muster.core.actors import Actor
from muster.core.errors import CustodyError, Problem
from muster.core.reference import STAMP_SQL
from muster.journal.services import Change, RowUpdate, record_change_and_update
from muster.people.models import Person, Unit
from muster.policy.rules import PersonFacts
from muster.policy.schema import CategoryPolicy, PolicyDocument
from muster.vetting.selectors import facts_from, facts_query


def policy_for_site(site: Site) -> PolicyDocument:
    """The policy in force today where the site is (its unit's jurisdiction)."""
    reference = reference_of(site)
    _, jurisdiction = reference.region_and_jurisdiction(site.unit_id)
    return reference.policy_in_force(jurisdiction, timezone.localdate())


def region_for_site(site: Site) -> Unit:
    return reference_of(site).region_and_jurisdiction(site.unit_id)[0]


def category_policy(policy: PolicyDocument, category: str, record: str) -> CategoryPolicy:
    found = policy.categories.get(category)
    if found is None:
        raise CustodyError.single(
            record, "category", f"{policy.ref} does not cover the category {category!r}", category
        )
    return found


def lock_items(ids: Iterable[int]) -> list[Item]:
    """The items, locked for this transaction, in id order (a fixed order avoids deadlocks),
    with their model, category and sites from the custody reference (no joins: a row locked
    after waiting is read as the other transaction left it)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    (found,) = rows.batch([(lock_statement(len(wanted)), wanted)])  # BEGIN goes with it
    if not found:
        return []
    return with_reference(rows.instances(Item, [row[1:] for row in found]), stamp=found[0][0])


def lock_statement(count: int) -> str:
    """The statement lock_items runs for `count` ids: the reference stamp comes with the rows
    (one statement instead of two)."""
    sql = (
        f'SELECT {STAMP_SQL}, {rows.select_list(Item)} FROM "{Item._meta.db_table}" '
        f'WHERE "id" IN ({", ".join(["%s"] * count)}) ORDER BY "id"'
    )
    if connection.vendor != "sqlite":  # SQLite's BEGIN IMMEDIATE already excludes other writers
        sql += " FOR UPDATE"
    return sql


def lock_person_with_facts(person: Person) -> tuple[Person, PersonFacts]:
    """The person's row, locked for this transaction (their status cannot change under an
    issue that checked it), and their qualifications read after the lock is held."""
    locked, facts = rows.batch(
        [rows.select_statement(Person, '"id" = %s', [person.pk], lock=True), facts_query(person.pk)]
    )
    if not locked:
        raise CustodyError.single(f"person {person.national_id}", "person", "no such person")
    holder = rows.instances(Person, locked)[0]
    return holder, facts_from(holder, facts)


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
    return reference_of(site).is_custodian(actor.user_id, site.pk)


def may_authorise(actor: Actor, site: Site, roles: Iterable[str]) -> bool:
    """The actor holds one of `roles` over the site's unit, or is the site's custodian."""
    reference = reference_of(site)
    return bool(reference.roles_over(actor.user_id, site.unit_id) & set(roles)) or (
        reference.is_custodian(actor.user_id, site.pk)
    )


def receiver_problems(actor: Actor, site: Site, record: str) -> list[Problem]:
    """Why `actor` may not receive shipments into `site`: receiving is the armorer's (or
    quartermaster's) work over their sites, or the site custodian's."""
    if actor.user_id is None:
        return [Problem(record, "actor", "must be an authenticated user")]
    if may_authorise(actor, site, RECEIVING_ROLES):
        return []
    needs = ", ".join(RECEIVING_ROLES)
    return [
        Problem(
            record,
            "actor",
            f"{actor} may not receive into {site.code} "
            f"(needs the role {needs} over it, or custodian of the site)",
        )
    ]


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
    elif not may_authorise(actor, site, authorisers):
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
        elif not may_authorise(second, site, authorisers):
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
    seq, updated = record_change_and_update(
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
        update=RowUpdate(
            Item,
            where={"id": item.pk, "version": item.version},
            values=fields,
            seq_field="last_seq",
            increment=["version"],
        ),
    )
    if updated != 1:
        raise CustodyError.single(
            item_label(item), "version", "was changed by someone else meanwhile; try again"
        )
    for name, value in fields.items():
        setattr(item, name, value)
    item.version += 1
    item.last_seq = seq
    return seq
