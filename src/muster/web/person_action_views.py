"""Changes to a person's record from their page: award or revoke a qualification (vetting
officers), suspend or reinstate (vetting officers), move to another unit (commanders and
administrators). The person must be in the user's scope (404) and the action in their roles
(403); the services decide the rest and their errors are shown beside the fields."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from muster.access.scope import Scope, people_in, require, units_in, visible
from muster.core.actors import Actor
from muster.core.errors import DomainError
from muster.people.models import Person
from muster.people.services import change_status, move_person
from muster.vetting.models import Qualification
from muster.vetting.services import NewQualification, award_qualifications, revoke_qualification
from muster.web.errors import problems_on_form, scoped
from muster.web.person_forms import MoveForm, QualificationForm, RevokeForm, StatusForm

# Suspend an active volunteer, reinstate a suspended one; other moves are the registry's.
STATUS_MOVES = {"active": "suspended", "suspended": "active"}


def _person(scope: Scope, pk: int) -> Person:
    return visible(people_in(scope).select_related("unit"), pk, "person")


def _done(request: HttpRequest, person: Person, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("web:person", person.pk)


def _page(
    request: HttpRequest, person: Person, title: str, form: Any, **extra: Any
) -> HttpResponse:
    context = {"person": person, "title": title, "form": form, **extra}
    return render(request, "web/people/action.html", context)


@scoped
def qualify(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    require(scope, "vetting.change", "qualification")
    person = _person(scope, pk)
    form = QualificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        award = NewQualification(
            person=person,
            type_code=data["qualification"].code,
            obtained_on=data["obtained_on"],
            klass=data["klass"],
            expires_on=data["expires_on"],
            examiner=data["examiner"],
            evidence_ref=data["evidence_ref"],
        )
        try:
            award_qualifications(actor=Actor.for_user(request.user), awards=[award])
        except DomainError as error:
            problems_on_form(form, error, {"class": "klass"})
        else:
            return _done(request, person, _("Qualification recorded."))
    return _page(request, person, _("Add a qualification"), form)


@scoped
def revoke(request: HttpRequest, scope: Scope, pk: int, qualification_pk: int) -> HttpResponse:
    require(scope, "vetting.change", "qualification")
    person = _person(scope, pk)
    qualification = visible(
        Qualification.objects.filter(person=person).select_related("qualification_type"),
        qualification_pk,
        "qualification",
    )
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            revoke_qualification(
                actor=Actor.for_user(request.user),
                qualification=qualification,
                revoked_on=form.cleaned_data["revoked_on"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            problems_on_form(form, error)
        else:
            return _done(request, person, _("Qualification revoked."))
    title = _("Revoke %(name)s") % {"name": qualification.qualification_type.name}
    return _page(request, person, title, form, qualification=qualification)


@scoped
def status(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """Suspend an active volunteer or reinstate a suspended one."""
    require(scope, "people.suspend", "person")
    person = _person(scope, pk)
    to_status = STATUS_MOVES.get(person.status, "")
    form = StatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change_status(
                actor=Actor.for_user(request.user),
                person=person,
                to_status=to_status or "suspended",
                effective_on=form.cleaned_data["effective_on"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            problems_on_form(form, error)
        else:
            done = _("Suspended.") if to_status == "suspended" else _("Reinstated.")
            return _done(request, person, done)
    title = _("Reinstate") if to_status == "active" else _("Suspend")
    return _page(request, person, title, form, to_status=to_status)


@scoped
def move(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    require(scope, "people.change", "person")
    person = _person(scope, pk)
    form = MoveForm(
        request.POST or None,
        units=units_in(scope).order_by("path"),
        initial={"role": person.unit_role},
    )
    if request.method == "POST" and form.is_valid():
        try:
            move_person(
                actor=Actor.for_user(request.user),
                person=person,
                unit=form.cleaned_data["unit"],
                role=form.cleaned_data["role"],
                since=form.cleaned_data["since"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            problems_on_form(form, error)
        else:
            return _done(request, person, _("Moved."))
    return _page(request, person, _("Move to another unit"), form)
