"""Allocation plans (R3): making one, approving it (which creates issue tasks, never an issue:
the armorer still issues through the normal flow, eligibility and two-person rule and quota
checked there), and withdrawing it. Each operation is one transaction with its journal entries,
whose kinds start with `plan.` (the dashboard counts them as changing no member).

Who may: the roles that manage the roster (`people.change`: HQ staff, regional administrators,
commanders), where their role reaches the plan's unit (the site's unit, or the region), as
access.scope.require_at decides. No better-fitting action exists in access.scope: the choice of
who gets a weapon is a decision about the unit's people, which is what `people.change` covers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from muster.access.scope import Scope, require_at
from muster.armory.models import Item, Site
from muster.core.actors import Actor
from muster.core.errors import DomainError, PolicyError, Problem
from muster.journal.services import Change, parts_within, record_changes
from muster.people.choices import UnitKind
from muster.people.models import Person, Unit
from muster.people.selectors import region_and_jurisdiction
from muster.planning.choices import LineOutcome, PlanState, TaskState
from muster.planning.models import AllocationPlan, IssueTask, PlanLine, TaskCancellation
from muster.planning.rules import Allocation, Line, allocate, rank_key
from muster.planning.selectors import (
    AllocationInputs,
    allocation_inputs,
    category_exists,
    issued_in_region,
    open_tasks,
    task_states,
)
from muster.policy.rules import evaluate
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import people_with_facts

ACTION = "people.change"
REASON_MAX = 300


class PlanningError(DomainError):
    """Allocation plans and issue tasks."""


@transaction.atomic
def make_plan(
    *,
    actor: Actor,
    scope: Scope,
    site: Site | None = None,
    region: Unit | None = None,
    category: str = "firearm",
    limit: int | None = None,
) -> AllocationPlan:
    """Propose who of a site's (or a region's) volunteers should be issued its available
    items of `category`, by the rule of planning.rules; a draft, with every line explained."""
    record = (
        f"plan for site {site.code}" if site else f"plan for region {getattr(region, 'code', '?')}"
    )
    problems = []
    if (site is None) == (region is None):
        problems.append(Problem(record, "site", "name a site or a region, not both"))
    if region is not None and region.kind != UnitKind.REGION:
        problems.append(Problem(record, "region", "is not a region", region.code))
    if limit is not None and limit < 1:
        problems.append(Problem(record, "limit", "must be at least 1", str(limit)))
    if not category_exists(category):
        problems.append(Problem(record, "category", "no such category in the catalogue", category))
    if problems:
        raise PlanningError(problems)
    unit = site.unit if site is not None else region
    assert unit is not None
    require_at(scope, ACTION, unit.path, record)
    home, jurisdiction = region_and_jurisdiction(unit)
    moment = timezone.localdate()
    policy = policy_in_force(jurisdiction, moment)
    if category not in policy.categories:
        raise PlanningError.single(
            record, "category", f"{policy.ref} does not cover the category", category
        )
    sites = (
        [site] if site is not None else list(Site.objects.filter(unit__path__startswith=unit.path))
    )
    inputs = allocation_inputs(
        policy=policy, region=home, unit=unit, sites=sites, category=category,
        moment=moment, limit=limit,
    )  # fmt: skip
    allocation = allocate(inputs.candidates, inputs.slots, inputs.seats)
    allocation.excluded["not_eligible"] = inputs.members - inputs.eligible
    plan = AllocationPlan.objects.create(
        site=site,
        region=home,
        unit=unit,
        category=category,
        moment=moment,
        policy=policy.ref,
        limit=limit,
        seats=inputs.seats,
        basis=_basis(inputs, allocation),
        created_by=actor.label,
    )
    lines = _ordered(allocation)
    site_of = dict(
        Item.objects.filter(pk__in=[ln.slot.key for ln in lines if ln.slot]).values_list(
            "pk", "site_id"
        )
    )
    PlanLine.objects.bulk_create(
        [
            PlanLine(
                plan=plan,
                position=position,
                outcome=line.outcome,
                person_id=line.candidate.key,
                battalion_id=inputs.groups[line.candidate.group],
                rank=line.rank,
                score=line.candidate.score,
                score_parts=line.candidate.score_text.split("; ")
                if line.candidate.score_text
                else [],
                targets=sorted(line.candidate.targets),
                step=line.step[:400],
                explanation=line.explanation,
                item_id=line.slot.key if line.slot else None,
                site_id=site_of[line.slot.key] if line.slot else None,
            )
            for position, line in enumerate(lines, start=1)
        ]
    )
    summary = [
        [n, line.outcome, line.candidate.national_id, line.candidate.group, line.candidate.score,
         line.slot.label if line.slot else None]
        for n, line in enumerate(lines, start=1)
    ]  # fmt: skip
    head = {
        "site": site.code if site else None,
        "region": home.code,
        "unit": unit.code,
        "category": category,
        "policy": policy.ref,
        "moment": moment,
        "limit": limit,
        "seats": inputs.seats,
        "chosen": len(allocation.chosen),
        "basis": {k: v for k, v in plan.basis.items() if k != "shares"},
    }
    _journal(actor, "plan.created", plan.pk, head, "lines", summary)
    return plan


def _ordered(allocation: Allocation) -> list[Line]:
    """Chosen lines in rank order (score first), then the non-choices by battalion and rank."""
    chosen = sorted(allocation.chosen, key=lambda ln: rank_key(ln.candidate))
    others = sorted(
        (ln for ln in allocation.lines if ln.outcome != LineOutcome.CHOSEN),
        key=lambda ln: (ln.candidate.group, ln.rank),
    )
    return [*chosen, *others]


def _basis(inputs: AllocationInputs, allocation: Allocation) -> dict[str, Any]:
    return {
        "sites": [s.code for s in inputs.sites],
        "available": len(inputs.slots),
        "reserved_items": inputs.reserved_items,
        "quota": inputs.quota,
        "issued": inputs.issued,
        "reserved": inputs.reserved,
        "headroom": inputs.headroom,
        "limit": inputs.limit,
        "seats": inputs.seats,
        "members": inputs.members,
        "eligible": inputs.eligible,
        "candidates": allocation.candidates,
        "excluded": allocation.excluded,
        "chosen": len(allocation.chosen),
        "shares": [
            {
                "round": s.round,
                "battalion": s.group,
                "candidates": s.candidates,
                "of": s.of_candidates,
                "seats_shared": s.seats_shared,
                "floor": s.floor,
                "remainder_seat": s.remainder_seat,
                "seats": s.seats,
                "explained": s.explained(),
            }
            for s in allocation.shares
        ],
    }


def _journal(
    actor: Actor, kind: str, plan_id: int, head: dict[str, Any], key: str, values: Sequence[Any]
) -> range:
    """One or more entries of `kind` (a long list goes over several, each with its part)."""
    parts = parts_within(list(values))
    return record_changes(
        actor=actor,
        changes=[
            Change(kind, "plan", plan_id, {**head, key: part, "part": n, "parts": len(parts)})
            for n, part in enumerate(parts, start=1)
        ],
    )


def _locked(plan_id: int) -> AllocationPlan:
    found = (
        AllocationPlan.objects.select_for_update(of=("self",))
        .select_related("site", "region", "unit")
        .filter(pk=plan_id)
        .first()
    )
    if found is None:
        raise PlanningError.single(f"plan {plan_id}", "id", "no such plan", str(plan_id))
    return found


@transaction.atomic
def approve_plan(*, actor: Actor, scope: Scope, plan_id: int) -> list[IssueTask]:
    """Approve a draft: one issue task per chosen line, after checking that every line still
    holds (the person still eligible and unarmed, the item still there, the quota's headroom
    still enough); otherwise nothing is written and every stale line is named."""
    plan = _locked(plan_id)
    record = f"plan {plan.pk}"
    require_at(scope, ACTION, plan.unit.path, record)
    if plan.state != PlanState.DRAFT:
        rule = f"is {plan.state}; only a draft plan is approved"
        raise PlanningError([Problem(record, "state", rule, plan.state)], code="conflict")
    chosen = list(
        plan.lines.filter(outcome=LineOutcome.CHOSEN)
        .select_related("person", "item__model__category", "site")
        .order_by("position")
    )
    if not chosen:
        raise PlanningError.single(
            record, "lines", "chooses no one: there is nothing to approve (withdraw it)"
        )
    problems = _stale(plan, chosen)
    if problems:
        raise PlanningError(problems, code="conflict")
    tasks = IssueTask.objects.bulk_create(
        [
            IssueTask(
                plan=plan,
                line=line,
                person=line.person,
                category=plan.category,
                item=line.item,
                site=line.site or plan.site,
                created_by=actor.label,
            )
            for line in chosen
        ]
    )
    summary = [
        [t.pk, t.person.national_id, t.item.serial if t.item else None, t.site.code] for t in tasks
    ]
    seqs = _journal(
        actor, "plan.approved", plan.pk, {"category": plan.category, "tasks_made": len(tasks)},
        "tasks", summary,
    )  # fmt: skip
    AllocationPlan.objects.filter(pk=plan.pk, state=PlanState.DRAFT).update(
        state=PlanState.APPROVED,
        approved_by=actor.label,
        approved_at=timezone.now(),
        approved_seq=seqs[0],
    )
    return tasks


def _stale(plan: AllocationPlan, chosen: list[PlanLine]) -> list[Problem]:
    """Why each chosen line no longer holds; the quota's headroom for them all."""
    problems: list[Problem] = []
    moment = timezone.localdate()
    _, jurisdiction = region_and_jurisdiction(plan.unit)
    policy = policy_in_force(jurisdiction, moment)
    ids = [line.person_id for line in chosen]
    facts = {row.pk: f for row, f in people_with_facts(Person.objects.filter(pk__in=ids))}
    armed = set(
        Item.objects.filter(
            place="person", model__category__code=plan.category, holder_id__in=ids
        ).values_list("holder_id", flat=True)
    )
    tasks = open_tasks(plan.category)
    tasked = {t.person_id for t in tasks}
    reserved = {t.item_id for t in tasks if t.item_id is not None}
    now = {
        row["pk"]: row
        for row in Item.objects.filter(pk__in=[ln.item_id for ln in chosen if ln.item_id]).values(
            "pk", "place", "site_id", "condition"
        )
    }
    for line in chosen:
        where = f"plan {plan.pk} line {line.position} ({line.person.national_id})"
        item = line.item
        target = item.model.target if item else plan.category
        try:
            decision = evaluate(facts[line.person_id], policy, target, moment)
        except PolicyError as error:
            problems.extend(Problem(where, "person", p.rule) for p in error.problems)
            continue
        if not decision.allowed:
            why = "; ".join(f"{r.rule}: {r.message}" for r in decision.refusals)
            problems.append(Problem(where, "person", f"is no longer eligible for {target}: {why}"))
        if line.person_id in armed:
            problems.append(Problem(where, "person", f"holds a {plan.category} already"))
        if line.person_id in tasked:
            problems.append(Problem(where, "person", f"has an open task for a {plan.category}"))
        if item is not None:
            problems.extend(_item_problems(where, line, now.get(item.pk), item.pk in reserved))
    rule = policy.categories.get(plan.category)
    if rule is not None and rule.quota is not None:
        used = issued_in_region(plan.region, plan.category)
        held = sum(1 for t in tasks if t.plan.region_id == plan.region_id)
        room = rule.quota.per_region - used - held
        if len(chosen) > room:
            problems.append(
                Problem(
                    f"plan {plan.pk}", "seats",
                    f"{policy.ref} categories.{plan.category}.quota.per_region: {used} issued and "
                    f"{held} in open tasks of {rule.quota.per_region} in {plan.region.code} leave "
                    f"room for {max(room, 0)}, not {len(chosen)}",
                )
            )  # fmt: skip
    if problems:
        problems.append(Problem(f"plan {plan.pk}", "state", "make a new plan from today's data"))
    return problems


def _item_problems(
    where: str, line: PlanLine, now: Mapping[str, Any] | None, reserved: bool
) -> list[Problem]:
    """Why the item a line proposes can no longer be issued from where the plan found it."""
    item = line.item
    assert item is not None
    problems = []
    if now is None or now["place"] != "site" or now["site_id"] != line.site_id:
        there = line.site.code if line.site else "its site"
        problems.append(
            Problem(where, "item", f"{item.serial} is no longer at {there}", item.serial)
        )
    elif now["condition"] != "serviceable":
        rule = f"{item.serial} is {now['condition']}"
        problems.append(Problem(where, "item", rule, item.serial))
    if reserved:
        rule = f"{item.serial} is proposed by another open task"
        problems.append(Problem(where, "item", rule, item.serial))
    return problems


@transaction.atomic
def withdraw_plan(*, actor: Actor, scope: Scope, plan_id: int, reason: str) -> list[IssueTask]:
    """Withdraw a draft or an approved plan, saying why; its open tasks are cancelled by a
    later entry each (done ones stay done). Returns the tasks cancelled."""
    plan = _locked(plan_id)
    record = f"plan {plan.pk}"
    reason = reason.strip()
    if not reason:
        raise PlanningError.single(record, "reason", "say why the plan is withdrawn")
    if len(reason) > REASON_MAX:
        raise PlanningError.single(record, "reason", f"is longer than {REASON_MAX} characters")
    require_at(scope, ACTION, plan.unit.path, record)
    if plan.state == PlanState.WITHDRAWN:
        problem = Problem(record, "state", "is withdrawn already", plan.state)
        raise PlanningError([problem], code="conflict")
    states = (
        task_states(plan.tasks.select_related("plan", "person"))
        if plan.state == PlanState.APPROVED
        else []
    )
    cancelled = [s.task for s in states if s.state == TaskState.OPEN]
    done = [s.task.pk for s in states if s.state == TaskState.DONE]
    TaskCancellation.objects.bulk_create(
        [TaskCancellation(task=t, reason=reason, actor=actor.label) for t in cancelled]
    )
    _journal(
        actor, "plan.withdrawn", plan.pk,
        {"reason": reason, "was": plan.state, "done": done}, "cancelled", [t.pk for t in cancelled],
    )  # fmt: skip
    AllocationPlan.objects.filter(pk=plan.pk, state=plan.state).update(
        state=PlanState.WITHDRAWN,
        withdrawn_by=actor.label,
        withdrawn_at=timezone.now(),
        withdraw_reason=reason,
    )
    return cancelled
