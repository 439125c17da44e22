"""A volunteer's duty pages, made for a phone: my shifts (check in and out with one button),
my availability and leave, and my shifts as a calendar file. A commander opens the same
availability page and calendar for a volunteer of theirs (`?person=ID`), which journals the
read like any other look at someone's record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.access.reads import record_person_read
from muster.access.scope import Forbidden, Scope, people_in, visible
from muster.core.actors import Actor
from muster.core.errors import DomainError, NotFound
from muster.duties.calendar import calendar_since, shifts_calendar
from muster.duties.facts import policy_for
from muster.duties.models import Assignment
from muster.duties.rules import Span, check_in_problem
from muster.duties.selectors import availability_in, availability_of, shifts_of_person
from muster.duties.services import record_availability, withdraw_availability
from muster.duties.services.common import MANAGE
from muster.people.models import Person
from muster.web.duty_forms import AvailabilityForm, WithdrawForm
from muster.web.duty_views import manages, own_person
from muster.web.errors import problems_on_form, scoped

RECENT = dt.timedelta(days=7)


def _with_actions(assignments: list[Assignment], now: dt.datetime) -> list[dict[str, Any]]:
    """Each assignment with what its volunteer may do now (check in, check out)."""
    rows = []
    opens_by_unit: dict[tuple[int, dt.date], dt.timedelta] = {}
    for assignment in assignments:
        shift = assignment.shift
        key = (shift.post.unit_id, timezone.localdate(shift.starts_at))
        if key not in opens_by_unit:
            policy = policy_for(shift.post.unit, key[1])
            opens_by_unit[key] = dt.timedelta(minutes=policy.duties.check_in_opens_minutes)
        opens = opens_by_unit[key]
        live = shift.cancelled_at is None
        rows.append(
            {
                "assignment": assignment,
                "shift": shift,
                "cancelled": not live or assignment.state == "cancelled",
                "check_in": live
                and assignment.state == "assigned"
                and check_in_problem(
                    Span(shift.starts_at, shift.ends_at), now, opens, manager=False
                )
                is None,
                "opens_at": shift.starts_at - opens,
                "check_out": live and assignment.state == "checked_in",
                "now_on": shift.starts_at <= now < shift.ends_at,
            }
        )
    return rows


@scoped
def mine(request: HttpRequest, scope: Scope) -> HttpResponse:
    """My shifts: those to come and under way, with check-in and check-out, then last week's."""
    person = own_person(request)
    now = timezone.now()
    context: dict[str, Any] = {"person": person}
    if person is not None:
        assignments = list(shifts_of_person(person, since=now - RECENT))
        upcoming = [a for a in assignments if a.shift.ends_at > now]
        past = [a for a in assignments if a.shift.ends_at <= now]
        context["upcoming"] = _with_actions(upcoming, now)
        context["past"] = list(reversed(past))
    return render(request, "web/duties/mine.html", context)


def _person_for(request: HttpRequest, scope: Scope) -> tuple[Person, bool]:
    """The person a page is about: `?person=ID` (someone the user sees), else the user's own
    record; and whether it is someone else."""
    wanted = request.GET.get("person") or request.POST.get("person")
    if wanted:
        if not str(wanted).isdigit():
            raise NotFound.single("person", "person", _("no such volunteer"), wanted)
        person = visible(people_in(scope).select_related("unit"), int(wanted), "person")
        return person, person.pk != scope.person_id
    own = own_person(request)
    if own is None:
        raise NotFound.single(
            "person", "person", _("your account is not linked to a volunteer record")
        )
    return own, False


@scoped
def availability(request: HttpRequest, scope: Scope) -> HttpResponse:
    """When I can serve, cannot, or am on leave (or, for a commander, one of their people)."""
    if (
        not (request.GET.get("person") or request.POST.get("person"))
        and own_person(request) is None
    ):
        return render(request, "web/duties/availability.html", {"person": None})
    person, other = _person_for(request, scope)
    manager = manages(scope, person.unit)
    form = AvailabilityForm(request.POST or None, manager=manager)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record_availability(
                actor=Actor.for_user(request.user),
                person=person,
                kind=data["kind"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                reason=data["reason"],
                cancel_assignments=bool(data.get("cancel_assignments")),
            )
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            problems_on_form(form, error)
        else:
            messages.success(request, _("Recorded."))
            return redirect(_page(person, other))
    elif request.method == "GET" and other:
        record_person_read(actor=Actor.for_user(request.user), scope=scope, person=person)
    now = timezone.now()
    context = {
        "person": person,
        "other": other,
        "form": form,
        "entries": list(availability_of(person, since=now - dt.timedelta(days=1))),
        "withdraw_form": WithdrawForm(),
        "manager": manager and scope.may(MANAGE),
    }
    return render(request, "web/duties/availability.html", context)


def _page(person: Person, other: bool) -> str:
    url = reverse("web:duty-availability")
    return f"{url}?person={person.pk}" if other else url


@require_POST
@scoped
def withdraw(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    entry = visible(availability_in(scope).select_related("person"), pk, f"availability {pk}")
    form = WithdrawForm(request.POST)
    other = entry.person_id != scope.person_id
    if form.is_valid():
        try:
            withdraw_availability(
                actor=Actor.for_user(request.user), entry=entry, reason=form.cleaned_data["reason"]
            )
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            for problem in error.problems:
                messages.error(request, str(problem))
        else:
            messages.success(request, _("Withdrawn."))
    else:
        messages.error(request, _("Say why it is withdrawn."))
    return redirect(_page(entry.person, other))


@scoped
def calendar(request: HttpRequest, scope: Scope) -> HttpResponse:
    """My shifts (or a volunteer's) as an iCalendar file, from a month back."""
    person, other = _person_for(request, scope)
    if other:
        record_person_read(
            actor=Actor.for_user(request.user), scope=scope, person=person, why="duty calendar"
        )
    assignments = shifts_of_person(person, since=calendar_since()).select_related(
        "shift__post__unit", "shift__duty_type"
    )
    response = HttpResponse(
        shifts_calendar(person, assignments), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="duties-{person.national_id}.ics"'
    return response
