"""Policy simulation (what changes if a draft takes effect) and allocation plans (R6, R3),
through muster.planning as `muster policy simulate` and `muster allocate` do.

- `POST /planning/simulate` (a draft policy file, YAML): the report as JSON; `…/simulate/pdf`
  and `…/simulate/xlsx` the same report as files. Nothing is written. For those who see people
  beyond themselves, over what they see.
- `/planning/plans`: list and make plans (a site's or a region's), read one with its lines and
  tasks, approve it (creates issue tasks, never an issue), withdraw it (cancels its open tasks).
  Making, approving and withdrawing need `people.change` where the plan's unit is
  (planning.services); a plan that no longer holds, or is not a draft, is 409 `conflict`.
- `/planning/tasks`: the issue tasks of the plans the caller sees, with their state (done is
  worked out from the journal: planning.selectors).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from types import GenericAlias
from typing import Any, Literal, get_type_hints

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status
from pydantic import create_model

from muster.access.scope import Forbidden, sees_people
from muster.api.common import actor, scope, site_by_code, unit_by_code
from muster.api.files import UPLOAD, attachment, download, limited
from muster.api.schemas import responses
from muster.core.errors import PolicyError
from muster.imports.uploads import safe_name
from muster.planning import report as parts
from muster.planning.choices import PlanState, TaskState
from muster.planning.exports import PDF, XLSX, export_name, simulation_pdf, simulation_xlsx
from muster.planning.models import AllocationPlan, PlanLine
from muster.planning.report import SimulationReport
from muster.planning.selectors import TaskStatus, plans_in, task_states, tasks_in, visible_plan
from muster.planning.services import (
    REASON_MAX,
    PlanningError,
    approve_plan,
    make_plan,
    withdraw_plan,
)
from muster.planning.simulation import simulate
from muster.policy.schema import parse_policy

router = Router(tags=["planning"])

AT = Query(None, description="as if in force on this date (default: today)")
REGION = Query(None, max_length=40, description="code of a region: only its people and sites")


# Simulation -------------------------------------------------------------------------------


class RuleReasonOut(Schema):
    rule: str
    message: str


class RuleChangeOut(Schema):
    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any
    new: Any
    text: str


class ModelProblemOut(Schema):
    field: str
    rule: str
    value: str


def _part(name: str, part: type, names: Sequence[str] = (), **types: Any) -> type[Schema]:
    """The schema `name` of a part of the report, the dataclass `part`: its fields (or `names`,
    in that order), each typed as there unless `types` gives it (a type, or (type, Field))."""
    hints = get_type_hints(part)
    fields: dict[str, Any] = {}
    for key in names or [f.name for f in dataclasses.fields(part)]:
        given = types.get(key, hints.get(key))
        fields[key] = given if isinstance(given, tuple) else (given, ...)
    return create_model(name, __base__=Schema, **fields)


def _list_of(schema: type[Schema]) -> Any:
    return GenericAlias(list, (schema,))


REASONS = _list_of(RuleReasonOut)
TargetOut = _part("TargetOut", parts.TargetSummary)
EligibilityChangeOut = _part(
    "EligibilityChangeOut",
    parts.EligibilityChange,
    becomes=Literal["eligible", "ineligible"],
    reasons=(
        REASONS,
        Field(description="newly eligible: the refusals the draft lifts; ineligible: the draft's"),
    ),
)
# Named after the report's parts: the armory's RecallOut and SiteOut, and the catalogue's
# ModelOut, are other schemas.
RecallChangeOut = _part("RecallChangeOut", parts.RecallChange, reasons=REASONS)
ModelChangeOut = _part("ModelChangeOut", parts.ModelChange, problems=_list_of(ModelProblemOut))
SiteChangeOut = _part("SiteChangeOut", parts.SiteChange, problems=REASONS)
QuotaOut = _part("QuotaOut", parts.QuotaLine)

SUMMARY_FIELDS = (
    "draft", "draft_title", "current", "jurisdiction", "moment", "region", "people",
    "evaluated_categories", "unchanged_categories", "newly_eligible", "newly_ineligible",
)  # fmt: skip
PARTS = ("rules", "targets", "changes", "recalls", "models", "sites", "quotas")
SimulationOut = _part(
    "SimulationOut",
    SimulationReport,
    (*SUMMARY_FIELDS, *PARTS),
    people=(int, Field(description="members (not discharged) evaluated")),
    newly_eligible=int,
    newly_ineligible=int,
    rules=_list_of(RuleChangeOut),
    targets=_list_of(TargetOut),
    changes=_list_of(EligibilityChangeOut),
    recalls=_list_of(RecallChangeOut),
    models=_list_of(ModelChangeOut),
    sites=_list_of(SiteChangeOut),
    quotas=_list_of(QuotaOut),
)


def _reasons(pairs: Any) -> list[dict[str, str]]:
    return [{"rule": rule, "message": message} for rule, message in pairs]


def _simulation_out(report: SimulationReport) -> dict[str, Any]:
    return {
        **{name: getattr(report, name) for name in SUMMARY_FIELDS},
        "rules": [
            {"path": d.path, "kind": d.kind, "old": d.old, "new": d.new, "text": str(d)}
            for d in report.rules
        ],
        "targets": [vars(t) for t in report.targets],
        "changes": [{**vars(c), "reasons": _reasons(c.reasons)} for c in report.changes],
        "recalls": [{**vars(r), "reasons": _reasons(r.reasons)} for r in report.recalls],
        "models": [
            {
                **vars(m),
                "problems": [{"field": f, "rule": r, "value": v} for f, r, v in m.problems],
            }
            for m in report.models
        ],
        "sites": [{**vars(s), "problems": _reasons(s.problems)} for s in report.sites],
        "quotas": [vars(q) for q in report.quotas],
    }


def _simulated(
    request: HttpRequest, upload: UploadedFile, at: dt.date | None, region: str | None
) -> SimulationReport:
    the_scope = scope(request)
    if not sees_people(the_scope):
        raise Forbidden.single(
            "simulation", "role", "the simulation is for those who see people beyond themselves"
        )
    name = safe_name(upload.name or "draft.yaml")
    limited(upload, f"policy {name}")
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError as error:
        raise PolicyError.single(
            name, "file", f"is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    return simulate(
        draft=parse_policy(text, source=name),
        scope=the_scope,
        moment=at,
        region_code=region,
        seen_by=request.user.get_username() if request.user.is_authenticated else "",
    )


@router.post(
    "/planning/simulate", summary="Simulate a draft policy", response=responses(200, SimulationOut)
)
def simulate_policy(
    request: HttpRequest,
    file: UploadedFile = UPLOAD,
    at: dt.date | None = AT,
    region: str | None = REGION,
) -> dict[str, Any]:
    """What would change if the draft (YAML) took the place of the policy in force in its
    jurisdiction, over what the caller sees: eligibility per target, recalls, models, sites,
    quota headroom. Nothing is written."""
    return _simulation_out(_simulated(request, file, at, region))


def _report_file(
    extension: str,
    content_type: str,
    render: Callable[[SimulationReport], bytes],
    what: str,
    description: str,
) -> None:
    """Add `POST /planning/simulate/<extension>`: the simulation report as a file."""

    def operation(
        request: HttpRequest,
        file: UploadedFile = UPLOAD,
        at: dt.date | None = AT,
        region: str | None = REGION,
    ) -> HttpResponse:
        report = _simulated(request, file, at, region)
        return attachment(render(report), content_type, export_name(report, extension))

    operation.__name__ = operation.__qualname__ = f"simulate_policy_{extension}"
    operation.__doc__ = description
    router.post(
        f"/planning/simulate/{extension}",
        summary=f"Simulate a draft policy ({extension.upper()})",
        **download(content_type, what),
    )(operation)


_report_file(
    "pdf", PDF, simulation_pdf, "the simulation report",
    "The simulation report as an A4 PDF (its long parts cut at 300 lines; the XLSX has all).",
)  # fmt: skip
_report_file(
    "xlsx", XLSX, simulation_xlsx, "the simulation report, a sheet per part",
    "The simulation report as an XLSX workbook, every line of every part.",
)  # fmt: skip


# Plans and tasks ---------------------------------------------------------------------------


class PlanIn(Schema):
    site: str | None = Field(None, max_length=40, description="site code (or give a region)")
    region: str | None = Field(None, max_length=40, description="region code (or give a site)")
    category: str = Field("firearm", max_length=40)
    limit: int | None = Field(None, ge=1, description="propose at most this many")


class WithdrawIn(Schema):
    reason: str = Field(max_length=REASON_MAX, description="why the plan is withdrawn")


class PlanOut(Schema):
    id: int
    category: str
    state: str
    site: str | None
    region: str
    unit: str
    policy: str
    moment: dt.date
    limit: int | None
    seats: int
    basis: dict[str, Any] = Field(description="the numbers the seats and shares came from")
    created_by: str
    created_at: dt.datetime
    approved_by: str
    approved_at: dt.datetime | None
    withdrawn_by: str
    withdrawn_at: dt.datetime | None
    withdraw_reason: str


class PlanLineOut(Schema):
    position: int
    outcome: str
    person_id: int
    national_id: str
    name: str
    battalion: str
    rank: int
    score: int
    score_parts: list[str]
    targets: list[str]
    step: str
    explanation: str
    item_id: int | None
    item: str | None = Field(description="model and serial of the item proposed")
    site: str | None


class TaskOut(Schema):
    id: int
    plan_id: int
    person_id: int
    national_id: str
    name: str
    category: str
    item_id: int | None
    item: str | None
    site: str
    state: str
    done_seq: int | None = Field(description="journal seq of the custody.issued that did it")
    done_at: dt.datetime | None
    done_serial: str
    cancelled_reason: str
    created_by: str
    created_at: dt.datetime


class PlanDetailOut(PlanOut):
    lines: list[PlanLineOut]
    tasks: list[TaskOut]


def _plan_out(plan: AllocationPlan) -> dict[str, Any]:
    names = (
        "id", "category", "state", "policy", "moment", "limit", "seats", "basis", "created_by",
        "created_at", "approved_by", "approved_at", "withdrawn_by", "withdrawn_at",
        "withdraw_reason",
    )  # fmt: skip
    return {
        **{name: getattr(plan, name) for name in names},
        "site": plan.site.code if plan.site else None,
        "region": plan.region.code,
        "unit": plan.unit.code,
    }


def _line_out(line: PlanLine) -> dict[str, Any]:
    return {
        "position": line.position,
        "outcome": line.outcome,
        "person_id": line.person_id,
        "national_id": line.person.national_id,
        "name": f"{line.person.family_name} {line.person.given_name}",
        "battalion": line.battalion.code,
        "rank": line.rank,
        "score": line.score,
        "score_parts": list(line.score_parts),
        "targets": list(line.targets),
        "step": line.step,
        "explanation": line.explanation,
        "item_id": line.item_id,
        "item": f"{line.item.model.code} {line.item.serial}" if line.item else None,
        "site": line.site.code if line.site else None,
    }


def _task_out(status: TaskStatus) -> dict[str, Any]:
    task = status.task
    return {
        "id": task.pk,
        "plan_id": task.plan_id,
        "person_id": task.person_id,
        "national_id": task.person.national_id,
        "name": f"{task.person.family_name} {task.person.given_name}",
        "category": task.category,
        "item_id": task.item_id,
        "item": f"{task.item.model.code} {task.item.serial}" if task.item else None,
        "site": task.site.code,
        "state": status.state,
        "done_seq": status.done_seq,
        "done_at": status.done_at,
        "done_serial": status.done_serial,
        "cancelled_reason": status.cancelled_reason,
        "created_by": task.created_by,
        "created_at": task.created_at,
    }


def _detail(plan: AllocationPlan) -> dict[str, Any]:
    plan.refresh_from_db()
    lines = plan.lines.select_related("person", "battalion", "item__model", "site")
    tasks = plan.tasks.select_related("plan", "person", "item__model", "site")
    return {
        **_plan_out(plan),
        "lines": [_line_out(line) for line in lines],
        "tasks": [_task_out(s) for s in task_states(tasks)],
    }


@router.get("/planning/plans", summary="Allocation plans", response=responses(200, list[PlanOut]))
@paginate(LimitOffsetPagination)
def list_plans(
    request: HttpRequest,
    state: str | None = Query(None, max_length=12, description="draft, approved or withdrawn"),
    category: str | None = Query(None, max_length=40),
) -> list[dict[str, Any]]:
    """The plans whose unit the caller sees, newest first."""
    found: QuerySet[AllocationPlan] = plans_in(scope(request)).order_by("-created_at", "-pk")
    if state:
        if state not in PlanState.values:
            raise PlanningError.single(
                "plans", "state", "must be draft, approved or withdrawn", state
            )
        found = found.filter(state=state)
    if category:
        found = found.filter(category=category)
    return [_plan_out(plan) for plan in found]


@router.post(
    "/planning/plans", summary="Make an allocation plan", response=responses(201, PlanDetailOut)
)
def add_plan(request: HttpRequest, payload: PlanIn) -> Status[dict[str, Any]]:
    """Propose who of a site's (or a region's) eligible volunteers without the item gets each
    available one: by experience, shared among battalions (planning.rules), each line
    explained. A draft: nothing is issued."""
    the_scope = scope(request)
    site = site_by_code(the_scope, payload.site) if payload.site else None
    region = unit_by_code(the_scope, payload.region, "region") if payload.region else None
    plan = make_plan(
        actor=actor(request),
        scope=the_scope,
        site=site,
        region=region,
        category=payload.category,
        limit=payload.limit,
    )
    return Status(201, _detail(plan))


@router.get(
    "/planning/plans/{plan_id}",
    summary="One allocation plan",
    response=responses(200, PlanDetailOut),
)
def plan_detail(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    """A plan with its lines (chosen, and the notable non-choices, each explained) and its
    issue tasks with their state."""
    return _detail(visible_plan(scope(request), plan_id))


@router.post(
    "/planning/plans/{plan_id}/approve",
    summary="Approve an allocation plan",
    response=responses(200, PlanDetailOut),
)
def approve(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    """Approve a draft: one issue task per chosen line (never an issue). A line that no
    longer holds (the person armed or no longer eligible, the item gone) is 409, naming it."""
    the_scope = scope(request)
    plan = visible_plan(the_scope, plan_id)
    approve_plan(actor=actor(request), scope=the_scope, plan_id=plan.pk)
    return _detail(plan)


@router.post(
    "/planning/plans/{plan_id}/withdraw",
    summary="Withdraw an allocation plan",
    response=responses(200, PlanDetailOut),
)
def withdraw(request: HttpRequest, plan_id: int, payload: WithdrawIn) -> dict[str, Any]:
    """Withdraw a draft or an approved plan, saying why; its open tasks are cancelled."""
    the_scope = scope(request)
    plan = visible_plan(the_scope, plan_id)
    withdraw_plan(actor=actor(request), scope=the_scope, plan_id=plan.pk, reason=payload.reason)
    return _detail(plan)


@router.get("/planning/tasks", summary="Issue tasks", response=responses(200, list[TaskOut]))
@paginate(LimitOffsetPagination)
def list_tasks(
    request: HttpRequest,
    site: str | None = Query(None, max_length=40),
    plan: int | None = Query(None),
    state: str | None = Query(None, max_length=12, description="open, done or cancelled"),
) -> list[dict[str, Any]]:
    """The issue tasks of the plans the caller sees, with their state."""
    the_scope = scope(request)
    found = tasks_in(the_scope).order_by("-plan_id", "line__position")
    if site:
        found = found.filter(site=site_by_code(the_scope, site))
    if plan is not None:
        found = found.filter(plan_id=plan)
    if state and state not in TaskState.values:
        raise PlanningError.single("tasks", "state", "must be open, done or cancelled", state)
    return [_task_out(s) for s in task_states(found) if not state or s.state == state]
