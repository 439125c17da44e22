"""Emergency issue (R7): where policy allows it, an authorised commander issues in bulk without
the per-item two-person step; every such issue stays flagged until a second authorised person
reconciles it, and past the policy's limit it is an alert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from muster.armory.models import Item
from muster.armory.services.common import (
    apply_custody,
    category_policy,
    item_label,
    lock_items,
    policy_for_site,
    require_authority,
)
from muster.armory.services.custody import IssueOutcome, issue_items
from muster.core.actors import Actor
from muster.core.errors import CustodyError, Problem
from muster.journal.models import JournalEntry
from muster.journal.services import Change, record_change
from muster.people.models import Person
from muster.people.selectors import jurisdiction_of
from muster.policy.rules import Decision, evaluate
from muster.policy.schema import PolicyDocument
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import person_facts


@transaction.atomic
def emergency_issue(
    *,
    actor: Actor,
    assignments: Sequence[tuple[Person, Sequence[int]]],
    hours: int | None = None,
) -> list[IssueOutcome]:
    """Issue items to several people at once as flagged emergency checkouts, in one transaction.

    Each person's items get their eligibility decisions as usual (a refusal is answered and
    journaled); bad input for any person — an actor the policy does not let order an emergency
    issue, a category it excludes — refuses the whole order and writes nothing."""
    record = "emergency issue"
    if not assignments:
        raise CustodyError.single(record, "assignments", "name at least one person and item")
    problems = []
    people = [p.pk for p, _ in assignments]
    if len(set(people)) != len(people):
        problems.append(Problem(record, "assignments", "a person is named twice"))
    item_ids = [i for _, ids in assignments for i in ids]
    if len(set(item_ids)) != len(item_ids):
        problems.append(Problem(record, "assignments", "an item is named twice"))
    if problems:
        raise CustodyError(problems)
    return [
        issue_items(
            actor=actor,
            second=None,
            person=person,
            item_ids=ids,
            kind="checkout",
            hours=hours,
            purpose="emergency issue",
            emergency=True,
        )
        for person, ids in assignments
    ]


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of reconciling an emergency issue: done, or refused by policy with reasons."""

    reconciled: bool
    item: Item
    decision: Decision


@transaction.atomic
def reconcile_emergency_issue(*, actor: Actor, second: Actor | None, item: Item) -> Reconciliation:
    """A second authorised person — not the one who ordered the issue — confirms an emergency
    issue after the fact; the holder's eligibility is checked now, and if it holds the flag is
    cleared (`custody.emergency_reconciled`), else the refusal is journaled and the flag stays."""
    (locked,) = lock_items([item.pk])
    record = item_label(locked)
    if locked.place != "person" or not locked.emergency:
        raise CustodyError.single(
            record, "emergency", "is not an emergency issue awaiting reconciliation", locked.place
        )
    holder = locked.holder
    assert holder is not None
    site = locked.home_site
    policy = policy_for_site(site)
    category = locked.model.category.code
    require_authority(
        actor=actor,
        second=second,
        site=site,
        rule=category_policy(policy, category, record),
        category=category,
        two_person=True,
        record=record,
    )
    assert second is not None
    issuer = (
        JournalEntry.objects.filter(seq=locked.last_seq or -1)
        .values_list("actor", flat=True)
        .first()
    )
    if issuer == second.label:
        raise CustodyError.single(
            record,
            "second_person",
            f"must be someone other than {issuer}, who ordered the emergency issue",
            second.label,
        )
    decision = evaluate(person_facts(holder), policy, locked.model.target, timezone.localdate())
    if not decision.allowed:
        record_change(
            actor=actor,
            change=Change(
                "custody.emergency_reconcile_refused",
                "item",
                locked.pk,
                {
                    "serial": locked.serial,
                    "model": locked.model.code,
                    "holder": holder.national_id,
                    "second_person": second.label,
                    "policy": decision.policy,
                    "reasons": [{"rule": r.rule, "message": r.message} for r in decision.refusals],
                },
            ),
        )
        return Reconciliation(False, locked, decision)
    apply_custody(
        locked,
        actor=actor,
        second=second,
        kind="custody.emergency_reconciled",
        data={
            "holder": holder.national_id,
            "issued_by": issuer,
            "policy": policy.ref,
            "decision": [r.rule for r in decision.reasons],
        },
        emergency=False,
    )
    return Reconciliation(True, locked, decision)


@dataclass(frozen=True)
class Unreconciled:
    """An emergency issue not reconciled within the policy's limit: an alert."""

    item: Item
    issued_at: dt.datetime
    deadline: dt.datetime
    policy: str


def unreconciled_emergency_issues(now: dt.datetime | None = None) -> list[Unreconciled]:
    """Emergency issues still flagged after `emergency_issue.reconcile_within_hours` of the
    policy in force at their home site (at once, if that policy no longer sets a limit)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    policies: dict[int, PolicyDocument] = {}
    found = []
    flagged = (
        Item.objects.filter(place="person", emergency=True)
        .select_related("model__category", "holder", "home_site__unit")
        .order_by("issued_at", "pk")
    )
    for item in flagged:
        if item.home_site_id not in policies:
            policies[item.home_site_id] = policy_in_force(
                jurisdiction_of(item.home_site.unit), today
            )
        policy = policies[item.home_site_id]
        assert item.issued_at is not None
        hours = policy.emergency_issue.reconcile_within_hours or 0
        deadline = item.issued_at + dt.timedelta(hours=hours)
        if deadline < now:
            found.append(Unreconciled(item, item.issued_at, deadline, policy.ref))
    return found
