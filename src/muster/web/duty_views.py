"""The commander's duty pages: the week of a unit (posts × days, places filled, gaps
highlighted), the suggested roster to review and accept, a shift's page (who is on it, who
fits and why not, assign, take off, check-in and check-out, no-shows, corrections, equipment
for the shift), planning shifts, and posts and duty types. The rules are muster.duties'; these
pages gather the input and show the answer. What a user sees comes from muster.access.scope
(through muster.duties.selectors); what they may do, the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.access.scope import (
    Forbidden,
    Scope,
    may_at,
    people_in,
    require,
    units_for,
    units_in,
    visible,
)
from muster.armory.selectors import items_by_serials
from muster.core.actors import Actor
from muster.core.errors import DomainError, NotFound
from muster.duties.errors import DutyError
from muster.duties.facts import policy_for
from muster.duties.models import Assignment, Shift
from muster.duties.roster import roster_suggestion, shift_candidates
from muster.duties.selectors import (
    assignments_in,
    iso_week,
    parse_week,
    shift_assignments,
    shift_detail,
    visible_shift,
    week_of,
)
from muster.duties.services import (
    accept_roster,
    assign_person,
    cancel_assignment,
    cancel_shift,
    check_in,
    check_out,
    correct_assignment,
    issue_for_shift,
    record_no_show,
)
from muster.duties.services.common import MANAGE
from muster.people.models import Person, Unit
from muster.people.rules import normalise_national_id
from muster.web.custody_views import second_person
from muster.web.duty_forms import (
    AssignForm,
    CorrectForm,
    OptionalReasonForm,
    ReasonForm,
    ShiftIssueForm,
    WeekForm,
)
from muster.web.errors import problems_on_form, scoped
from muster.web.navigation import only_themselves

WEEK = "web/duties/week.html"


def manages(scope: Scope, unit: Unit) -> bool:
    return scope.may(MANAGE) and may_at(scope, MANAGE, unit.path)


def _units_with_posts(scope: Scope) -> QuerySet[Unit]:
    return units_in(scope).filter(duty_posts__isnull=False).distinct().order_by("path")


def chosen_unit(scope: Scope, code: str | None, *, manage: bool = False) -> Unit:
    """The unit named (one the user sees, or manages), else the first of theirs with posts."""
    units = units_for(scope, MANAGE) if manage else units_in(scope)
    if code:
        found = units.filter(code=code.strip()).first()
        if found is None:
            raise NotFound.single(f"unit {code}", "unit", _("no unit you may see has this code"))
        return found
    found = units.filter(duty_posts__isnull=False).order_by("path").first()
    found = found or units.order_by("path").first()
    if found is None:
        raise NotFound.single("unit", "unit", _("you see no unit"))
    return found


def _week_links(unit: Unit, monday: Any) -> dict[str, str]:
    base = reverse("web:duties")
    return {
        "previous": f"{base}?unit={unit.code}&week={iso_week(monday - dt.timedelta(days=7))}",
        "next": f"{base}?unit={unit.code}&week={iso_week(monday + dt.timedelta(days=7))}",
        "suggest": f"{reverse('web:duty-suggest')}?unit={unit.code}&week={iso_week(monday)}",
    }


@scoped
def week(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The week at a unit's posts and below: each shift with its places filled, gaps marked."""
    if only_themselves(scope):
        return redirect("web:my-shifts")
    form = WeekForm(request.GET or None)
    problems = []
    try:
        monday = parse_week(request.GET.get("week"))
    except DutyError as error:
        problems = error.problems
        monday = parse_week(None)
    unit = chosen_unit(scope, request.GET.get("unit"))
    view = week_of(unit, monday)
    context = {
        "form": form,
        "view": view,
        "unit": unit,
        "problems": problems,
        "units": _units_with_posts(scope),
        "manages": manages(scope, unit),
        "links": _week_links(unit, monday),
        "today": timezone.localdate(),
    }
    return render(request, WEEK, context)


def _pairs(request: HttpRequest) -> list[tuple[int, int]]:
    pairs = []
    for value in request.POST.getlist("pair"):
        shift, _sep, person = value.partition(":")
        if shift.isdigit() and person.isdigit():
            pairs.append((int(shift), int(person)))
    return pairs


@scoped
def suggest(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The suggested roster of a week at a unit, to review (untick what you do not want) and
    accept in one go; each assignment checked again as it is made."""
    require(scope, MANAGE, "roster")
    data = request.POST if request.method == "POST" else request.GET
    unit = chosen_unit(scope, data.get("unit"), manage=True)
    monday = parse_week(data.get("week"))
    problems: list[Any] = []
    if request.method == "POST":
        pairs = _pairs(request)
        try:
            created = accept_roster(actor=Actor.for_user(request.user), unit=unit, pairs=pairs)
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            problems = error.problems
        else:
            messages.success(
                request, _("%(n)s assignments made from the roster.") % {"n": len(created)}
            )
            return redirect(f"{reverse('web:duties')}?unit={unit.code}&week={iso_week(monday)}")
    suggestion = roster_suggestion(unit, monday)
    by_shift: dict[int, list[Any]] = {}
    for proposal in suggestion.plan.proposals:
        by_shift.setdefault(proposal.shift_id, []).append(
            (proposal, suggestion.people[proposal.person_id])
        )
    gaps = {gap.shift_id: gap for gap in suggestion.plan.gaps}
    rows = [
        (shift, by_shift.get(pk, []), gaps.get(pk), _gap_lines(gaps.get(pk)))
        for pk, shift in sorted(suggestion.shifts.items(), key=lambda kv: kv[1].starts_at)
        if pk in by_shift or pk in gaps
    ]
    context = {
        "unit": unit,
        "suggestion": suggestion,
        "rows": rows,
        "problems": problems,
        "links": _week_links(unit, monday),
        "week": iso_week(monday),
        "monday": monday,
    }
    return render(request, "web/duties/suggest.html", context)


def reason_labels() -> dict[str, str]:
    """What each rule's code means to a commander reading why a place stays open."""
    return {
        "status": _("status may not stand a duty"),
        "leave": _("on leave"),
        "unavailable": _("unavailable"),
        "double_booking": _("on another shift then"),
        "rest": _("too little rest between shifts"),
        "week_hours": _("over the week's hours"),
        "requirement": _("without what the shift requires"),
        "capacity": _("no place left"),
        "duplicate": _("on this shift already"),
        "shift": _("the shift is closed"),
    }


def _gap_lines(gap: Any) -> list[tuple[str, int, str]]:
    if gap is None:
        return []
    labels = reason_labels()
    return [(labels.get(r.code, r.code), r.count, r.example) for r in gap.reasons]


# --- one shift -------------------------------------------------------------------------------


def _shift_context(
    request: HttpRequest, scope: Scope, shift: Shift, **extra: Any
) -> dict[str, Any]:
    unit = shift.post.unit
    manager = manages(scope, unit)
    now = timezone.now()
    open_ = shift.cancelled_at is None and shift.ends_at > now
    policy = policy_for(unit, timezone.localdate(shift.starts_at))
    opens = dt.timedelta(minutes=policy.duties.check_in_opens_minutes)
    context: dict[str, Any] = {
        "shift": shift,
        "check_in_open": now >= shift.starts_at - opens,
        "detail": shift_detail(shift),
        "assignments": shift_assignments(shift, scope),
        "manages": manager,
        "open": open_,
        "started": shift.starts_at <= now,
        "issues_items": scope.may("custody.change"),
        "own_id": scope.person_id,
        "assign_form": AssignForm(),
        "cancel_form": ReasonForm(prefix="cancel"),
        "reason_form": ReasonForm(),
        "note_form": OptionalReasonForm(),
        "correct_form": CorrectForm(),
    }
    if manager and open_:
        candidates = shift_candidates(shift, now)
        labels = reason_labels()
        context["candidates"] = candidates
        context["refused_lines"] = [
            (labels.get(code, code), n, example) for code, n, example in candidates.refused
        ]
    context.update(extra)
    return context


def _render_shift(request: HttpRequest, scope: Scope, shift: Shift, **extra: Any) -> HttpResponse:
    return render(request, "web/duties/shift.html", _shift_context(request, scope, shift, **extra))


@scoped
def shift(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    return _render_shift(request, scope, visible_shift(scope, pk))


@require_POST
@scoped
def assign(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """Put a volunteer on the shift; a refusal shows every reason."""
    found = visible_shift(scope, pk)
    require(scope, MANAGE, f"shift {pk}")
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _render_shift(request, scope, found, assign_form=form)
    person = (
        people_in(scope)
        .filter(national_id=normalise_national_id(form.cleaned_data["person"]))
        .first()
    )
    if person is None:
        form.add_error("person", _("no volunteer you may see has this id"))
        return _render_shift(request, scope, found, assign_form=form)
    try:
        outcome = assign_person(
            actor=Actor.for_user(request.user),
            shift=found,
            person=person,
            reason=form.cleaned_data["reason"],
        )
    except (Forbidden, NotFound):
        raise
    except DomainError as error:
        problems_on_form(form, error)
        return _render_shift(request, scope, found, assign_form=form)
    if not outcome.assigned:
        return _render_shift(
            request, scope, found, assign_form=form, refusal=outcome.decision, refused=person
        )
    messages.success(request, _("%(name)s is on the shift.") % {"name": person.full_name})
    return redirect("web:duty-shift", found.pk)


@require_POST
@scoped
def cancel(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """Cancel the shift, with a reason; who was on it is taken off."""
    found = visible_shift(scope, pk)
    require(scope, MANAGE, f"shift {pk}")
    form = ReasonForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            cancel_shift(
                actor=Actor.for_user(request.user), shift=found, reason=form.cleaned_data["reason"]
            )
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            problems_on_form(form, error)
        else:
            messages.success(request, _("The shift is cancelled."))
            return redirect("web:duty-shift", found.pk)
    return _render_shift(request, scope, found, cancel_form=form)


def visible_assignment(scope: Scope, pk: int) -> Assignment:
    return visible(
        assignments_in(scope).select_related("shift__post__unit", "shift__duty_type", "person"),
        pk,
        f"assignment {pk}",
    )


def back_to(request: HttpRequest, assignment: Assignment) -> HttpResponse:
    """Where an action on an assignment returns: `next` when it is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("web:duty-shift", assignment.shift_id)


def _act(
    request: HttpRequest, scope: Scope, pk: int, done: str, action: Any, form: Any = None
) -> HttpResponse:
    """Run one service on a visible assignment: on success back where the user was, with
    `done` as the message; a refusal shows the shift page with its problems."""
    assignment = visible_assignment(scope, pk)
    if form is not None and not form.is_valid():
        return _render_shift(request, scope, assignment.shift, problems=_form_problems(form))
    try:
        action(Actor.for_user(request.user), assignment, form.cleaned_data if form else {})
    except (Forbidden, NotFound):
        raise
    except DomainError as error:
        if request.POST.get("next"):
            for problem in error.problems:
                messages.error(request, str(problem))
            return back_to(request, assignment)
        return _render_shift(request, scope, assignment.shift, problems=error.problems)
    messages.success(request, done)
    return back_to(request, assignment)


def _form_problems(form: Any) -> list[str]:
    return [f"{form.fields[name].label}: {e}" if name in form.fields else str(e)
            for name, errors in form.errors.items() for e in errors]  # fmt: skip


@require_POST
@scoped
def unassign(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    return _act(
        request, scope, pk, _("Taken off the shift."),
        lambda actor, a, data: cancel_assignment(actor=actor, assignment=a, reason=data["reason"]),
        ReasonForm(request.POST),
    )  # fmt: skip


@require_POST
@scoped
def checking_in(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    return _act(
        request, scope, pk, _("Checked in."),
        lambda actor, a, data: check_in(actor=actor, assignment=a),
    )  # fmt: skip


@require_POST
@scoped
def checking_out(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    return _act(
        request, scope, pk, _("Checked out."),
        lambda actor, a, data: check_out(actor=actor, assignment=a),
    )  # fmt: skip


@require_POST
@scoped
def no_show(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    return _act(
        request, scope, pk, _("Recorded as a no-show."),
        lambda actor, a, data: record_no_show(actor=actor, assignment=a, reason=data["reason"]),
        OptionalReasonForm(request.POST),
    )  # fmt: skip


@require_POST
@scoped
def correct(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    return _act(
        request, scope, pk, _("Corrected."),
        lambda actor, a, data: correct_assignment(
            actor=actor, assignment=a, to_state=data["to_state"], reason=data["reason"]
        ),
        CorrectForm(request.POST),
    )  # fmt: skip


@require_POST
@scoped
def issue(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """Issue items to the volunteer for the shift, due back at its end (the armory's rules:
    eligibility, two-person rule, quota)."""
    require(scope, "custody.change", f"assignment {pk}")
    assignment = visible_assignment(scope, pk)
    form = ShiftIssueForm(request.POST)
    if not form.is_valid():
        return _render_shift(
            request, scope, assignment.shift, problems=_form_problems(form), issue_for=pk
        )
    try:
        items = items_by_serials(form.serial_list())
        outcome = issue_for_shift(
            actor=Actor.for_user(request.user),
            second=second_person(form),
            assignment=assignment,
            item_ids=[i.pk for i in items],
        )
    except (Forbidden, NotFound):
        raise
    except DomainError as error:
        return _render_shift(
            request, scope, assignment.shift, problems=error.problems, issue_for=pk
        )
    if not outcome.issued:
        return _render_shift(
            request, scope, assignment.shift, issue_refusals=outcome.refusals, issue_for=pk
        )
    messages.success(
        request,
        _("Issued for the shift, due back at its end: %(items)s")
        % {"items": ", ".join(i.serial for i in outcome.items)},
    )
    return redirect("web:duty-shift", assignment.shift_id)


def own_person(request: HttpRequest) -> Person | None:
    person_id = getattr(request.user, "person_id", None)
    return Person.objects.select_related("unit").filter(pk=person_id).first() if person_id else None
