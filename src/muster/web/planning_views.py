"""What if and allocation in the browser (R6, R3): a draft policy uploaded and simulated
against today's data (the report on the page, its PDF and XLSX to download; nothing is written
or kept: the draft's text travels back with the download's form), allocation plans made,
read, approved and withdrawn, and the issue tasks with their state. The rules are
muster.planning's; these pages gather the input and show the answer.

Who: the simulation is for those who see people beyond themselves (access.scope.sees_people),
each seeing what their scope holds; plans and tasks are listed to whoever sees their unit, and
made, approved or withdrawn by those whose role gives `people.change` over it (HQ staff,
regional administrators, commanders; planning.services says why)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.access.scope import (
    Forbidden,
    Scope,
    may_at,
    require,
    sees_people,
    sites_in,
    units_for,
)
from muster.core.actors import Actor
from muster.core.errors import DomainError, Problem
from muster.imports.uploads import safe_name
from muster.people.choices import UnitKind
from muster.planning.choices import LineOutcome, PlanState, TaskState
from muster.planning.exports import (
    PDF,
    XLSX,
    export_name,
    simulation_pdf,
    simulation_xlsx,
    summary_rows,
)
from muster.planning.models import AllocationPlan
from muster.planning.report import SimulationReport
from muster.planning.selectors import plans_in, task_states, tasks_in, visible_plan
from muster.planning.services import ACTION, approve_plan, make_plan, withdraw_plan
from muster.planning.simulation import regions_in_scope, simulate
from muster.policy.schema import parse_policy
from muster.web.errors import problems_on_form, scoped
from muster.web.pages import PAGE_SIZE, paged
from muster.web.planning_forms import (
    ExportForm,
    PlanForm,
    SimulateForm,
    TaskFilterForm,
    WithdrawForm,
)

PAGE_ROWS = 100  # lines of each part of a report shown on the page; the XLSX has them all


def _may_simulate(scope: Scope) -> None:
    if not sees_people(scope):
        raise Forbidden.single(
            "simulation", "role", _("the simulation is for those who see people beyond themselves")
        )


def _report(
    request: HttpRequest, scope: Scope, text: str, source: str, data: dict[str, Any]
) -> SimulationReport:
    region = data.get("region")
    return simulate(
        draft=parse_policy(text, source=source),
        scope=scope,
        moment=data.get("at"),
        region_code=getattr(region, "code", region) or None,
        seen_by=request.user.get_username(),
    )


def _report_context(report: SimulationReport, text: str, source: str) -> dict[str, Any]:
    parts: dict[str, list[Any]] = {"changes": list(report.changes), "recalls": list(report.recalls)}
    return {
        "report": report,
        "summary": summary_rows(report),
        "shown": {name: lines[:PAGE_ROWS] for name, lines in parts.items()},
        "more": {name: max(0, len(lines) - PAGE_ROWS) for name, lines in parts.items()},
        "export": ExportForm(
            initial={
                "draft": text,
                "source": source,
                "at": report.moment,
                "region": report.region or "",
                "fmt": "pdf",
            }
        ),
    }


@scoped
def simulate_page(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Upload a draft policy; the report of what would change, for what the user sees."""
    _may_simulate(scope)
    form = SimulateForm(
        request.POST or None, request.FILES or None, regions=regions_in_scope(scope)
    )
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        source = safe_name(upload.name or "draft.yaml")
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError as error:
            form.add_error("file", _("is not UTF-8 text (%(reason)s)") % {"reason": error.reason})
        else:
            try:
                report = _report(request, scope, text, source, form.cleaned_data)
            except DomainError as error:
                context["problems"] = error.problems
            else:
                context.update(_report_context(report, text, source))
    return render(request, "web/planning/simulate.html", context)


@require_POST
@scoped
def simulate_export(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The report as a PDF or an XLSX workbook, from the draft the report page carries."""
    _may_simulate(scope)
    form = ExportForm(request.POST)
    if not form.is_valid():
        problems = [
            Problem("export", name, str(e)) for name, errors in form.errors.items() for e in errors
        ]
        return _simulate_again(request, scope, problems)
    data = form.cleaned_data
    source = safe_name(data["source"] or "draft.yaml")
    try:
        report = _report(request, scope, data["draft"], source, data)
    except DomainError as error:
        return _simulate_again(request, scope, error.problems)
    if data["fmt"] == "xlsx":
        body, content_type, name = simulation_xlsx(report), XLSX, export_name(report, "xlsx")
    else:
        body, content_type, name = simulation_pdf(report), PDF, export_name(report, "pdf")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _simulate_again(request: HttpRequest, scope: Scope, problems: list[Problem]) -> HttpResponse:
    form = SimulateForm(regions=regions_in_scope(scope))
    context = {"form": form, "problems": problems}
    return render(request, "web/planning/simulate.html", context, status=400)


# Plans ------------------------------------------------------------------------------------


@scoped
def plans(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The plans the user may see, newest first (filter by state)."""
    found = plans_in(scope).order_by("-created_at", "-pk")
    state = request.GET.get("state", "")
    if state in PlanState.values:
        found = found.filter(state=state)
    page, keep = paged(request, found)
    context = {
        "page": page,
        "keep": keep,
        "state": state,
        "states": PlanState.choices,
        "may_plan": scope.may(ACTION),
    }
    return render(request, "web/planning/plans.html", context)


def _plan_form(scope: Scope, data: Any = None) -> PlanForm:
    reach = units_for(scope, ACTION)
    sites = sites_in(scope).filter(unit__in=reach.values("pk")).order_by("code")
    regions = reach.filter(kind=UnitKind.REGION).order_by("code")
    return PlanForm(data, sites=sites, regions=regions, initial={"category": "firearm"})


@scoped
def plan_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Make a plan for a site or a region the user's role reaches."""
    require(scope, ACTION, "plan")
    form = _plan_form(scope, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = make_plan(
                actor=Actor.for_user(request.user),
                scope=scope,
                site=data["site"],
                region=data["region"],
                category=data["category"].code,
                limit=data["limit"],
            )
        except DomainError as error:
            problems_on_form(form, error)
        else:
            messages.success(
                request, _("Plan %(n)s made: a draft until it is approved.") % {"n": plan.pk}
            )
            return redirect("web:planning-plan", plan.pk)
    return render(request, "web/planning/plan_new.html", {"form": form})


def _plan_context(scope: Scope, plan: AllocationPlan) -> dict[str, Any]:
    lines = list(plan.lines.select_related("person", "battalion", "item__model", "site"))
    may_decide = may_at(scope, ACTION, plan.unit.path) and scope.may(ACTION)
    tasks = task_states(plan.tasks.select_related("plan", "person__unit", "item__model", "site"))
    return {
        "plan": plan,
        "chosen": [ln for ln in lines if ln.outcome == LineOutcome.CHOSEN],
        "passed": [ln for ln in lines if ln.outcome != LineOutcome.CHOSEN],
        "tasks": tasks,
        "open_tasks": sum(1 for t in tasks if t.state == TaskState.OPEN),
        "may_approve": may_decide and plan.state == PlanState.DRAFT,
        "may_withdraw": may_decide and plan.state != PlanState.WITHDRAWN,
        "withdraw": WithdrawForm(),
        "shares": plan.basis.get("shares", []),
        "excluded": plan.basis.get("excluded", {}),
    }


@scoped
def plan_page(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """A plan: its numbers, its lines with their explanations, its tasks; approve, withdraw."""
    found = visible_plan(scope, pk)
    return render(request, "web/planning/plan.html", _plan_context(scope, found))


@require_POST
@scoped
def plan_approve(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    found = visible_plan(scope, pk)
    require(scope, ACTION, f"plan {found.pk}")
    try:
        tasks = approve_plan(actor=Actor.for_user(request.user), scope=scope, plan_id=found.pk)
    except Forbidden:
        raise
    except DomainError as error:
        context = _plan_context(scope, found)
        context["problems"] = error.problems
        return render(request, "web/planning/plan.html", context)
    messages.success(request, _("Plan approved: %(n)s issue tasks created.") % {"n": len(tasks)})
    return redirect("web:planning-plan", found.pk)


@require_POST
@scoped
def plan_withdraw(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    found = visible_plan(scope, pk)
    require(scope, ACTION, f"plan {found.pk}")
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            cancelled = withdraw_plan(
                actor=Actor.for_user(request.user),
                scope=scope,
                plan_id=found.pk,
                reason=form.cleaned_data["reason"],
            )
        except Forbidden:
            raise
        except DomainError as error:
            problems_on_form(form, error)
        else:
            messages.success(
                request, _("Plan withdrawn; %(n)s open tasks cancelled.") % {"n": len(cancelled)}
            )
            return redirect("web:planning-plan", found.pk)
    context = _plan_context(scope, found)
    context["withdraw"] = form
    return render(request, "web/planning/plan.html", context)


@scoped
def tasks_page(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The issue tasks of the plans the user sees, with their state (filter by site, state)."""
    sites = sites_in(scope).order_by("code")
    form = TaskFilterForm(request.GET or None, sites=sites, states=TaskState.choices)
    found = tasks_in(scope).order_by("-plan_id", "line__position")
    state = ""
    if form.is_valid():
        if form.cleaned_data["site"]:
            found = found.filter(site=form.cleaned_data["site"])
        state = form.cleaned_data["state"]
    statuses = [s for s in task_states(found) if not state or s.state == state]
    page = Paginator(statuses, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request, "web/planning/tasks.html", {"form": form, "page": page, "keep": keep.urlencode()}
    )
