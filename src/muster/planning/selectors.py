"""Reads for allocation plans: the plans and tasks a user may see, whether each task is done,
and what a new plan is worked out from (candidates, available items, the quota's headroom).

When is a task done? When the person has been issued an item of the task's category through
the normal issue flow after the plan was approved: a `custody.issued` entry of the journal,
later than the plan's `plan.approved` entry, naming the person (`to_person`) and a model of the
category. It is worked out each time a task is read, from the journal, so the armory's issue
flow knows nothing of plans and a task cannot drift from what happened; an issue of another
item of the category than the one proposed does the task too, and a later return does not undo
it. Reading costs one pass over the issue entries since the oldest open task's approval (the
journal's kind index), with each body's JSON parsed. A task is cancelled by a later entry of its
own (a TaskCancellation, when its plan is withdrawn); it is open otherwise.

Who sees a plan: whoever sees its unit (the site's unit, or the region; access.scope.units_in),
who then sees every volunteer the plan names; a task is seen with its plan.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from muster.access.scope import Scope, units_in
from muster.armory.models import Category, EquipmentModel, Item, QuotaUsage, Site
from muster.core.errors import NotFound
from muster.journal.models import JournalEntry
from muster.people.choices import PersonStatus, UnitKind
from muster.people.models import Person, Unit
from muster.planning.choices import PlanState, TaskState
from muster.planning.models import AllocationPlan, IssueTask, TaskCancellation
from muster.planning.rules import Candidate, Slot
from muster.policy.schema import PolicyDocument
from muster.vetting.selectors import ranked_eligible


def plans_in(scope: Scope) -> QuerySet[AllocationPlan]:
    """The plans whose unit `scope` sees."""
    plans = AllocationPlan.objects.select_related("site", "region", "unit")
    if scope.everything:
        return plans
    return plans.filter(unit_id__in=units_in(scope).values("pk"))


def visible_plan(scope: Scope, pk: int) -> AllocationPlan:
    found = plans_in(scope).filter(pk=pk).first()
    if found is None:
        raise NotFound.single(f"plan {pk}", "id", "no such plan", str(pk))
    return found


def tasks_in(scope: Scope) -> QuerySet[IssueTask]:
    """The issue tasks of the plans `scope` sees."""
    return IssueTask.objects.filter(plan__in=plans_in(scope).values("pk")).select_related(
        "plan", "person__unit", "item__model", "site", "line"
    )


@dataclass(frozen=True)
class TaskStatus:
    """A task as it stands: open, done (by which issue) or cancelled (why)."""

    task: IssueTask
    state: str
    done_seq: int | None = None
    done_at: dt.datetime | None = None
    done_serial: str = ""
    cancelled_reason: str = ""


def task_states(tasks: Iterable[IssueTask]) -> list[TaskStatus]:
    """Each task's state, in the order given (see the module docstring)."""
    tasks = list(tasks)
    cancelled = {
        c.task_id: c for c in TaskCancellation.objects.filter(task_id__in=[t.pk for t in tasks])
    }
    done = _issued_since_approval([t for t in tasks if t.pk not in cancelled])
    found = []
    for task in tasks:
        if task.pk in cancelled:
            found.append(
                TaskStatus(task, TaskState.CANCELLED, cancelled_reason=cancelled[task.pk].reason)
            )
        elif task.pk in done:
            seq, at, serial = done[task.pk]
            found.append(TaskStatus(task, TaskState.DONE, seq, at, serial))
        else:
            found.append(TaskStatus(task, TaskState.OPEN))
    return found


def _issued_since_approval(
    tasks: Sequence[IssueTask],
) -> dict[int, tuple[int, dt.datetime, str]]:
    """task id → (seq, time, serial) of the first issue to its person of an item of its
    category after its plan's approval."""
    if not tasks:
        return {}
    wanted: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for task in tasks:
        approved = task.plan.approved_seq
        if approved is not None:
            wanted[(task.person.national_id, task.category)].append((approved, task.pk))
    if not wanted:
        return {}
    since = min(seq for pairs in wanted.values() for seq, _ in pairs)
    category_of = dict(EquipmentModel.objects.values_list("code", "category__code"))
    done: dict[int, tuple[int, dt.datetime, str]] = {}
    entries = (
        JournalEntry.objects.filter(kind="custody.issued", seq__gt=since)
        .order_by("seq")
        .values_list("seq", "recorded_at", "body")
    )
    for seq, at, body in entries.iterator(chunk_size=2000):
        data = json.loads(body)["data"]
        key = (str(data.get("to_person", "")), category_of.get(str(data.get("model", "")), ""))
        for approved, task_id in wanted.get(key, ()):
            if seq > approved and task_id not in done:
                done[task_id] = (seq, at, str(data.get("serial", "")))
    return done


def open_tasks(category: str, *, region: Unit | None = None) -> list[IssueTask]:
    """The open tasks of a category (of one region's plans), of approved plans."""
    tasks = IssueTask.objects.filter(
        category=category, plan__state=PlanState.APPROVED, cancellation__isnull=True
    ).select_related("plan", "person")
    if region is not None:
        tasks = tasks.filter(plan__region=region)
    return [s.task for s in task_states(tasks) if s.state == TaskState.OPEN]


@dataclass
class AllocationInputs:
    """What a plan is worked out from, and the numbers it shows."""

    policy: PolicyDocument
    region: Unit
    unit: Unit
    sites: list[Site]
    candidates: list[Candidate]
    slots: list[Slot]
    groups: dict[str, int]  # battalion (or region) code → unit id
    members: int  # not discharged, in the unit's subtree
    eligible: int
    quota: int | None
    issued: int
    reserved: int  # seats held by open tasks of approved plans in the region
    reserved_items: int
    limit: int | None

    @property
    def headroom(self) -> int | None:
        return None if self.quota is None else max(0, self.quota - self.issued - self.reserved)

    @property
    def seats(self) -> int:
        bounds = [len(self.slots)]
        if self.headroom is not None:
            bounds.append(self.headroom)
        if self.limit is not None:
            bounds.append(self.limit)
        return max(0, min(bounds))


def allocation_inputs(
    *,
    policy: PolicyDocument,
    region: Unit,
    unit: Unit,
    sites: Sequence[Site],
    category: str,
    moment: dt.date,
    limit: int | None,
) -> AllocationInputs:
    """Candidates (the volunteers of `unit`'s subtree the engine allows a target of the
    category, with their scores, and whether they are armed or tasked already) and the
    serviceable items of the category at `sites` not proposed by an open task."""
    subtree = Unit.objects.filter(path__startswith=unit.path)
    people = Person.objects.filter(unit_id__in=subtree.values("pk"))
    ranked = ranked_eligible(category=category, moment=moment, people=people)
    ids = [r.person.pk for r in ranked]
    armed = set(
        Item.objects.filter(place="person", model__category__code=category, holder_id__in=ids)
        .values_list("holder_id", flat=True)
        .distinct()
    )
    tasks = open_tasks(category)
    tasked = {t.person_id for t in tasks}
    kinds = {pk: (code, kind, path) for pk, code, kind, path in _units(region)}
    groups: dict[str, int] = {}
    candidates = []
    for item in ranked:
        row = item.person
        group_id = _group_of(row.unit_path, kinds)
        groups[kinds[group_id][0]] = group_id
        candidates.append(
            Candidate(
                key=row.pk,
                national_id=row.national_id,
                name=row.name,
                group=kinds[group_id][0],
                unit_path=row.unit_path,
                targets=frozenset(d.target for d in item.decisions),
                score=item.score.total,
                combat_months=row.combat_experience_months,
                prior_months=row.prior_service_months,
                score_text=score_text(item.score.components),
                armed=row.pk in armed,
                tasked=row.pk in tasked,
            )
        )
    reserved_items = {t.item_id for t in tasks if t.item_id is not None}
    items = (
        Item.objects.filter(
            place="site",
            site__in=[s.pk for s in sites],
            condition="serviceable",
            model__category__code=category,
        )
        .exclude(pk__in=sorted(reserved_items))
        .select_related("model__category", "site__unit")
        .order_by("site__code", "serial")
    )
    slots = [
        Slot(i.pk, f"{i.model.code} {i.serial}", i.model.target, i.site.code, i.site.unit.path)
        for i in items
        if i.site is not None
    ]
    rule = policy.categories[category]
    quota = rule.quota.per_region if rule.quota is not None else None
    return AllocationInputs(
        policy=policy,
        region=region,
        unit=unit,
        sites=list(sites),
        candidates=candidates,
        slots=slots,
        groups=groups,
        members=people.exclude(status=PersonStatus.DISCHARGED).count(),
        eligible=len(ranked),
        quota=quota,
        issued=issued_in_region(region, category),
        reserved=sum(1 for t in tasks if t.plan.region_id == region.pk),
        reserved_items=sum(1 for t in tasks if t.item_id and t.site_id in {s.pk for s in sites}),
        limit=limit,
    )


def issued_in_region(region: Unit, category: str) -> int:
    """Items of the category issued at once in the region, as the issue flow counts them
    against the quota (armory QuotaUsage)."""
    found = QuotaUsage.objects.filter(region=region, category__code=category).first()
    return found.issued if found is not None else 0


def category_exists(code: str) -> bool:
    return Category.objects.filter(code=code).exists()


def score_text(components: Iterable[object]) -> str:
    """A score's components in one line: "prior_service 24 months × 10 … = 20; …"."""
    return "; ".join(
        f"{getattr(c, 'name', '')} {getattr(c, 'explanation', '')}" for c in components
    )


def _units(region: Unit) -> Iterable[tuple[int, str, str, str]]:
    return Unit.objects.filter(path__startswith=region.path).values_list(
        "pk", "code", "kind", "path"
    )


def _group_of(path: str, kinds: dict[int, tuple[str, str, str]]) -> int:
    """The outermost battalion on the path, or the region (outside any battalion)."""
    chain = [int(p) for p in path.strip("/").split("/") if p]
    inside = [u for u in chain if u in kinds]
    battalion = next((u for u in inside if kinds[u][1] == UnitKind.BATTALION), None)
    if battalion is not None:
        return battalion
    return next((u for u in inside if kinds[u][1] == UnitKind.REGION), inside[0])
