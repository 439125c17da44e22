"""Emergency issues (R7): where policy allows it, an authorised commander issues in bulk
without the per-item two-person step; each issue stays flagged until a second person
reconciles it, and those past the policy's limit are an alert.

Each handler checks the caller's roles (403) and scope (404), turns names into records and
calls one service (muster.armory.services.emergency), which holds the rules and runs in one
transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import items_in, require_one_of
from muster.api.common import (
    ITEM_RELATED,
    actor,
    fresh_items,
    one_item,
    person_by_id,
    scope,
    second_person,
    visible_items,
)
from muster.api.errors import Refused, decision_body, reason_body
from muster.api.schemas import MODEL, DecisionOut, ItemOut, ReasonOut, SecondPerson, responses
from muster.armory.models import Item
from muster.armory.services.emergency import (
    emergency_issue,
    reconcile_emergency_issue,
    unreconciled_emergency_issues,
)

router = Router(tags=["custody"])

# Roles that take part in custody: the armorer's work, and the commander's confirmations and
# emergency orders (the policy says which of them may do what).
CUSTODY_ROLES = ("custody.change", "custody.confirm")


class EmergencyAssignmentIn(Schema):
    person_id: int
    serials: list[str] = Field(min_length=1, max_length=100)
    model: str | None = MODEL


class EmergencyIssueIn(Schema):
    assignments: list[EmergencyAssignmentIn] = Field(min_length=1, max_length=200)
    hours: int | None = Field(None, ge=1, le=24 * 366)


class EmergencyOutcomeOut(Schema):
    person_id: int
    issued: bool
    items: list[ItemOut]
    decisions: list[DecisionOut]
    reasons: list[ReasonOut]


class EmergencyIssueOut(Schema):
    outcomes: list[EmergencyOutcomeOut]


class ReconcileIn(SecondPerson):
    serial: str = Field(min_length=1, max_length=80)
    model: str | None = MODEL


class ReconciledOut(Schema):
    item: ItemOut
    decision: DecisionOut


class UnreconciledOut(Schema):
    item: ItemOut
    holder_id: int | None
    issued_at: dt.datetime
    deadline: dt.datetime
    policy: str


@router.post(
    "/emergency-issues",
    response=responses(201, EmergencyIssueOut, refusal=True),
    summary="Emergency issue to several volunteers",
    tags=["custody"],
)
def emergency(request: HttpRequest, payload: EmergencyIssueIn) -> Status[dict[str, Any]]:
    """Where policy allows it, an authorised commander issues in bulk without the per-item
    two-person step; each issue stays flagged until reconciled. Each volunteer gets their own
    decision; when every one is refused the answer is 422."""
    require_one_of(scope(request), CUSTODY_ROLES, "emergency issue")
    acting = actor(request)
    assignments = [
        (
            person_by_id(scope(request), a.person_id),
            [i.pk for i in visible_items(scope(request), a.serials, a.model)],
        )
        for a in payload.assignments
    ]
    outcomes = emergency_issue(actor=acting, assignments=assignments, hours=payload.hours)
    if not any(o.issued for o in outcomes):
        raise Refused(
            "nothing was issued: refused by policy",
            [d for o in outcomes for d in o.decisions],
            [r for o in outcomes for r in o.refusals],
        )
    return Status(
        201,
        {
            "outcomes": [
                {
                    "person_id": person.pk,
                    "issued": outcome.issued,
                    "items": fresh_items(outcome.items),
                    "decisions": [decision_body(d) for d in outcome.decisions],
                    "reasons": [reason_body(r) for r in outcome.refusals],
                }
                for (person, _), outcome in zip(assignments, outcomes, strict=True)
            ]
        },
    )


@router.post(
    "/emergency-issues/reconcile",
    response=responses(200, ReconciledOut, refusal=True),
    summary="Reconcile an emergency issue",
    tags=["custody"],
)
def reconcile(request: HttpRequest, payload: ReconcileIn) -> dict[str, Any]:
    """A second authorised person, not the one who ordered the issue, confirms it after the
    fact; the holder's eligibility is checked now and a refusal (422) leaves the flag."""
    require_one_of(scope(request), CUSTODY_ROLES, f"reconciliation of {payload.serial}")
    acting = actor(request)
    second = second_person(payload)
    item = one_item(scope(request), payload.serial, payload.model)
    outcome = reconcile_emergency_issue(actor=acting, second=second, item=item)
    if not outcome.reconciled:
        raise Refused(
            f"the emergency issue of {item.serial} stays unreconciled: refused by policy",
            [outcome.decision],
            outcome.decision.refusals,
        )
    return {"item": fresh_items([item])[0], "decision": decision_body(outcome.decision)}


@router.get(
    "/emergency-issues/unreconciled",
    response=responses(200, list[UnreconciledOut]),
    summary="Emergency issues past their reconciliation limit",
    tags=["custody"],
)
@paginate(LimitOffsetPagination)
def unreconciled(
    request: HttpRequest,
    site: str | None = Query(None, max_length=40, description="home site code"),
) -> list[dict[str, Any]]:
    """Emergency issues still not reconciled after the policy's limit: an alert, oldest first."""
    found = unreconciled_emergency_issues()
    mine = items_in(scope(request), Item.objects.filter(pk__in=[u.item.pk for u in found]))
    if site:
        mine = mine.filter(home_site__code=site)
    items = Item.objects.select_related(*ITEM_RELATED).in_bulk(
        list(mine.values_list("pk", flat=True))
    )
    return [
        {
            "item": items[u.item.pk],
            "holder_id": u.item.holder_id,
            "issued_at": u.issued_at,
            "deadline": u.deadline,
            "policy": u.policy,
        }
        for u in found
        if u.item.pk in items
    ]
