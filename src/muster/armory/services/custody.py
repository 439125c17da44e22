"""Issuing and returning serialized items (R5, R7): eligibility asked first, two-person rule,
quotas that hold under concurrency, and a refusal that is an answer, journaled too."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from muster.armory.models import Item, QuotaUsage
from muster.armory.reference import reference_of
from muster.armory.rules import due_at
from muster.armory.services.common import (
    apply_custody,
    category_policy,
    item_label,
    lock_items,
    lock_person_with_facts,
    policy_for_site,
    region_for_site,
    require_authority,
    require_place,
)
from muster.core import rows
from muster.core.actors import Actor
from muster.core.errors import CustodyError, Problem
from muster.journal.services import Change, record_change
from muster.people.models import Person
from muster.policy.rules import Decision, Reason, evaluate
from muster.policy.schema import CategoryPolicy, PolicyDocument


@dataclass(frozen=True)
class IssueOutcome:
    """What an issue request came to: issued, or refused by policy with every reason."""

    issued: bool
    items: tuple[Item, ...]
    decisions: tuple[Decision, ...]
    refusals: tuple[Reason, ...] = field(default=())
    journal_seqs: tuple[int, ...] = ()


@transaction.atomic
def issue_items(
    *,
    actor: Actor,
    second: Actor | None,
    person: Person,
    item_ids: Sequence[int],
    kind: str = "checkout",
    hours: int | None = None,
    purpose: str = "",
    emergency: bool = False,
    until: dt.datetime | None = None,
) -> IssueOutcome:
    """Issue items to a person as an assignment or a checkout; a checkout is due back after
    `hours`, or at `until` (e.g. the end of the shift it is issued for), within the policy's
    max_issue_hours either way.

    Bad input (unknown item, not at a site, unserviceable, wrong actor) raises CustodyError and
    writes nothing. A refusal by policy (eligibility, quota) is returned and journaled as
    `custody.issue_refused`; nothing else changes."""
    if not item_ids:
        raise CustodyError.single(
            f"issue to {person.national_id}", "items", "name at least one item"
        )
    if len(set(item_ids)) != len(item_ids):
        raise CustodyError.single(
            f"issue to {person.national_id}", "items", "an item is named twice"
        )
    items = lock_items(item_ids)
    missing = set(item_ids) - {i.pk for i in items}
    if missing:
        raise CustodyError.single(
            f"issue to {person.national_id}", "items", "no such item", sorted(missing)
        )
    require_place(items, "issue")
    holder, facts = lock_person_with_facts(person)
    now = timezone.now()
    today = timezone.localdate()
    problems: list[Problem] = []
    decisions: list[Decision] = []
    plans = []
    for item in items:
        label = item_label(item)
        site = item.site
        assert site is not None  # place is site
        policy = policy_for_site(site)
        category = item.model.category.code
        rule = category_policy(policy, category, label)
        if item.condition != "serviceable":
            problems.append(
                Problem(
                    label, "condition", f"is {item.condition}; only a serviceable item is issued"
                )
            )
        if kind not in {"assignment", "checkout"}:
            problems.append(Problem(label, "kind", "must be assignment or checkout", kind))
            continue
        if kind == "assignment" and not rule.assignment_allowed:
            problems.append(
                Problem(
                    label,
                    "kind",
                    f"{policy.ref} categories.{category}.assignment_allowed is false: "
                    "only a checkout is allowed",
                )
            )
        if until is None:
            due, why = due_at(now=now, kind=kind, hours=hours, max_issue_hours=rule.max_issue_hours)
        else:
            due, why = _due_until(now, kind, hours, until, rule.max_issue_hours)
        if why:
            problems.append(
                Problem(
                    label,
                    "hours",
                    f"{policy.ref} categories.{category}.max_issue_hours: {why}",
                    str(hours if until is None else until),
                )
            )
        two_person = rule.two_person_rule
        if emergency:
            emergency_rule = policy.emergency_issue
            if not emergency_rule.allowed or category not in emergency_rule.categories:
                problems.append(
                    Problem(
                        label,
                        "emergency",
                        f"{policy.ref} does not allow emergency issue of {category}",
                    )
                )
            two_person = False
        try:
            require_authority(
                actor=actor,
                second=second,
                site=site,
                rule=rule,
                category=category,
                two_person=two_person,
                record=label,
            )
        except CustodyError as error:
            problems.extend(error.problems)
        if emergency and not (
            reference_of(site).roles_over(actor.user_id, site.unit_id)
            & set(policy.emergency_issue.authorisers)
        ):
            problems.append(
                Problem(
                    label,
                    "actor",
                    f"{actor} may not order an emergency issue "
                    f"(needs one of: {', '.join(policy.emergency_issue.authorisers)})",
                )
            )
        decision = evaluate(facts, policy, item.model.target, today)
        decisions.append(decision)
        plans.append((item, policy, rule, category, due))
    if problems:
        raise CustodyError(problems)
    refusals = [r for d in decisions for r in d.reasons if not r.ok]
    if not refusals:
        refusals = _take_quota(plans, holder)
    if refusals:
        record_change(
            actor=actor,
            change=Change(
                "custody.issue_refused",
                "person",
                holder.pk,
                {
                    "items": [item_label(i) for i in items],
                    "kind": kind,
                    "policy": decisions[0].policy,
                    "reasons": [{"rule": r.rule, "message": r.message} for r in refusals],
                },
            ),
        )
        return IssueOutcome(False, tuple(items), tuple(decisions), tuple(refusals))
    seqs = []
    for (item, policy, _, _, due), decision in zip(plans, decisions, strict=True):
        seqs.append(
            apply_custody(
                item,
                actor=actor,
                second=second,
                kind="custody.issued",
                data={
                    "from_site": item.site.code if item.site else None,
                    "to_person": holder.national_id,
                    "issue_kind": kind,
                    "due_at": due,
                    "purpose": purpose,
                    "emergency": emergency,
                    "policy": policy.ref,
                    "decision": [r.rule for r in decision.reasons],
                },
                place="person",
                site=None,
                holder=holder,
                issue_kind=kind,
                issued_at=now,
                due_at=due,
                emergency=emergency,
            )
        )
    return IssueOutcome(True, tuple(items), tuple(decisions), (), tuple(seqs))


def _due_until(
    now: dt.datetime, kind: str, hours: int | None, until: dt.datetime, max_issue_hours: int | None
) -> tuple[dt.datetime | None, str | None]:
    """A checkout due back at `until` (the end of a shift), or why not."""
    if kind != "checkout" or hours is not None:
        return None, "a checkout until a given time takes no hours and is no assignment"
    if until <= now:
        return None, "the time it is due back has passed"
    if max_issue_hours is not None and until - now > dt.timedelta(hours=max_issue_hours):
        return None, f"the policy allows a checkout of at most {max_issue_hours} hours"
    return until, None


Plan = tuple[Item, PolicyDocument, CategoryPolicy, str, "dt.datetime | None"]


def _take_quota(plans: list[Plan], holder: Person) -> list[Reason]:
    """Count the issue against each category's regional quota, atomically in the database:
    the increment only happens while below the limit, so concurrent issues cannot overshoot."""
    wanted: Counter[tuple[int, int]] = Counter()
    limits: dict[tuple[int, int], tuple[int, str, str]] = {}
    for item, policy, rule, category, _ in plans:
        quota = rule.quota
        if quota is None or quota.per_region is None:
            continue
        assert item.site is not None
        key = (region_for_site(item.site).pk, item.model.category_id)
        wanted[key] += 1
        limits[key] = (
            quota.per_region,
            f"{policy.ref} categories.{category}.quota.per_region",
            category,
        )
    refusals: list[Reason] = []
    if len(wanted) <= 1:
        # One category: a refused increment changed nothing, so no savepoint is needed.
        _increment_quotas(wanted, limits, refusals)
        return refusals
    try:
        # A savepoint: when any category is over quota, no category's count moves.
        with transaction.atomic():
            _increment_quotas(wanted, limits, refusals)
            if refusals:
                raise _OverQuota
    except _OverQuota:
        pass
    return refusals


class _OverQuota(Exception):
    pass


_QUOTA = QuotaUsage._meta.db_table
# Counted only while below the limit, in one conditional UPDATE: the database decides.
_TAKE = (
    f'UPDATE "{_QUOTA}" SET issued = issued + %s '
    "WHERE region_id = %s AND category_id = %s AND issued <= %s"
)
_GIVE_BACK = (
    f'UPDATE "{_QUOTA}" SET issued = issued - 1 '
    "WHERE region_id = %s AND category_id = %s AND issued > 0"
)


def _increment_quotas(
    wanted: Counter[tuple[int, int]],
    limits: dict[tuple[int, int], tuple[int, str, str]],
    refusals: list[Reason],
) -> None:
    for (region_id, category_id), count in sorted(wanted.items()):
        limit, rule_path, category = limits[(region_id, category_id)]
        taken = _take(region_id, category_id, count, limit)
        if not taken:
            # Over the quota, or no row to count in yet: the region's first issue of the
            # category, or a first issue by another transaction that had not committed when
            # the UPDATE ran (an UPDATE does not see, nor wait for, a row being inserted).
            # Insert the row (a racing insert makes this wait, then do nothing) and try again.
            QuotaUsage.objects.bulk_create(
                [QuotaUsage(region_id=region_id, category_id=category_id)], ignore_conflicts=True
            )
            taken = _take(region_id, category_id, count, limit)
        if not taken:
            current = QuotaUsage.objects.get(region_id=region_id, category_id=category_id).issued
            refusals.append(
                Reason(
                    rule=rule_path,
                    ok=False,
                    code="quota",
                    message=f"{current} of {limit} {category} items are issued in the region; "
                    f"{count} more would exceed the quota",
                )
            )


def _take(region_id: int, category_id: int, count: int, limit: int) -> int:
    with rows.cursor() as cursor:
        cursor.execute(_TAKE, [count, region_id, category_id, limit - count])
        return int(cursor.rowcount)


def release_quota(item: Item) -> None:
    """Give back the quota slot an issued item held (if its category has a quota). Called
    before the change is journaled: every custody change takes the quota row before the
    journal's head row, so two changes never wait for each other's lock."""
    if item.issued_at is None or item.holder_id is None:
        return
    with rows.cursor() as cursor:
        cursor.execute(_GIVE_BACK, [region_for_site(item.home_site).pk, item.model.category_id])


@dataclass(frozen=True)
class Returned:
    item_id: int
    condition: str = "serviceable"
    note: str = ""


@transaction.atomic
def return_items(
    *,
    actor: Actor,
    second: Actor | None,
    person: Person,
    returns: Sequence[Returned],
) -> list[Item]:
    """Take items back from the person who holds them, into their home site, with the
    condition they came back in."""
    if not returns:
        raise CustodyError.single(
            f"return from {person.national_id}", "items", "name at least one item"
        )
    by_id = {r.item_id: r for r in returns}
    if len(by_id) != len(returns):
        raise CustodyError.single(
            f"return from {person.national_id}", "items", "an item is named twice"
        )
    items = lock_items(by_id)
    problems = []
    unknown = set(by_id) - {i.pk for i in items}
    if unknown:
        problems.append(
            Problem(
                f"return from {person.national_id}", "items", "no such item", str(sorted(unknown))
            )
        )
    for item in items:
        label = item_label(item)
        if item.place != "person":
            problems.append(
                Problem(
                    label,
                    "place",
                    f"is not issued to anyone (it is {item.place}); it cannot be returned",
                    item.place,
                )
            )
        elif item.holder_id != person.pk:
            holder = item.holder.national_id if item.holder else "?"
            problems.append(
                Problem(
                    label, "holder", f"is held by {holder}, not by {person.national_id}", holder
                )
            )
        if by_id[item.pk].condition not in {"serviceable", "unserviceable", "awaiting_inspection"}:
            problems.append(
                Problem(
                    label,
                    "condition",
                    "must be serviceable, unserviceable or awaiting_inspection",
                    by_id[item.pk].condition,
                )
            )
    if problems:
        raise CustodyError(problems)
    for item in items:
        policy = policy_for_site(item.home_site)
        category = item.model.category.code
        rule = category_policy(policy, category, item_label(item))
        require_authority(
            actor=actor,
            second=second,
            site=item.home_site,
            rule=rule,
            category=category,
            two_person=rule.two_person_rule,
            record=item_label(item),
        )
    now = timezone.now()
    for item in items:
        back = by_id[item.pk]
        release_quota(item)
        overdue = item.due_at is not None and item.due_at < now
        apply_custody(
            item,
            actor=actor,
            second=second,
            kind="custody.returned",
            data={
                "from_person": person.national_id,
                "to_site": item.home_site.code,
                "condition": back.condition,
                "note": back.note,
                "overdue": overdue,
            },
            place="site",
            site=item.home_site,
            holder=None,
            issue_kind="",
            issued_at=None,
            due_at=None,
            emergency=False,
            condition=back.condition,
        )
    return items
