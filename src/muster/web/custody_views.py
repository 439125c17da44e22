"""The armorer's flows: issue (eligibility shown before confirming, the second person
confirming with their own password on the same screen) and return. The rules are the custody
services'; these pages gather the input and show the answer."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.access.scope import Scope, items_in, people_in, require, unseen_items
from muster.accounts.services import confirm_second_person
from muster.armory.choices import Condition
from muster.armory.models import Item
from muster.armory.selectors import items_by_serials
from muster.armory.services.custody import IssueOutcome, Returned, issue_items, return_items
from muster.core.actors import Actor
from muster.core.errors import DomainError, NotFound, Problem
from muster.people.models import Person
from muster.people.rules import normalise_national_id
from muster.policy.rules import Decision, Reason
from muster.vetting.selectors import eligibility_of
from muster.web.errors import scoped
from muster.web.forms import CONDITIONS, IssueForm, ReturnPersonForm, SecondPersonForm


def _person(scope: Scope, national_id: str) -> Person:
    found = (
        people_in(scope)
        .select_related("unit")
        .filter(national_id=normalise_national_id(national_id))
        .first()
    )
    if found is None:
        raise NotFound.single(
            f"person {national_id}", "national_id", _("no volunteer you may see has this id")
        )
    return found


def _items(scope: Scope, serials: list[str]) -> list[Item]:
    """The items named, every unknown or unseen serial reported at once."""
    found = items_by_serials(serials)
    unseen = [
        Problem(f"item {i.serial}", "serial", _("not at a site you keep"))
        for i in unseen_items(scope, found)
    ]
    if unseen:
        raise NotFound(unseen)
    return found


def second_person(form: SecondPersonForm) -> Actor | None:
    """The second person, proved by their own password (None when none is named)."""
    username = form.cleaned_data.get("second_username") or ""
    password = form.cleaned_data.get("second_password") or ""
    if not username:
        return None
    return confirm_second_person(username=username, password=password)


def focus_on_answer(form: forms.Form, context: dict[str, Any]) -> None:
    """After a submission, focus goes to what the user reads or fills next, never back to the
    first field: the problems or the answer (`context["focus"]` names it for the template),
    else the first field in error."""
    shown = context.get("problems") or context.get("person")
    if not (form.is_bound and (shown or form.errors)):
        return
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    if context.get("problems"):
        context["focus"] = "problems"
    elif context.get("outcome") is not None:
        context["focus"] = "refusal"
    elif shown:
        context["focus"] = "answer"
    else:
        first = next((name for name in form.fields if name in form.errors), None)
        if first is not None:  # else the form's own errors, above its fields
            form.fields[first].widget.attrs["autofocus"] = True


def refused_beyond(outcome: IssueOutcome, decisions: list[Decision]) -> list[Reason]:
    """The refusal's reasons that the decisions shown do not already give (a quota reached,
    say): each reason is shown once."""
    shown = {(r.rule, r.message) for d in decisions for r in d.reasons}
    return [r for r in outcome.refusals if (r.rule, r.message) not in shown]


@scoped
def issue(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Step 1 (check): the person, the items and the eligibility decision for each. Step 2
    (issue): the same form with the second person's credentials, sent to issue_items."""
    require(scope, "custody.change", "issue")
    form = IssueForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            person = _person(scope, form.cleaned_data["person"])
            chosen = _items(scope, form.serial_list())
            targets = {i.model.target for i in chosen}
            context["person"] = person
            context["chosen"] = chosen
            context["decisions"] = [
                d for d in eligibility_of(person, timezone.localdate()) if d.target in targets
            ]
            if request.POST.get("action") == "issue":
                outcome = issue_items(
                    actor=Actor.for_user(request.user),
                    second=second_person(form),
                    person=person,
                    item_ids=[i.pk for i in chosen],
                    kind=form.cleaned_data["kind"],
                    hours=form.cleaned_data["hours"],
                    purpose=form.cleaned_data["purpose"],
                )
                context["outcome"] = outcome
                if outcome.issued:
                    return render(request, "web/custody/issued.html", context)
                context["refused_beyond"] = refused_beyond(outcome, context["decisions"])
        except DomainError as error:
            context["problems"] = error.problems
    focus_on_answer(form, context)
    return render(request, "web/custody/issue.html", context)


@scoped
def take_back(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Find the person, tick what comes back and in what condition, the second person
    confirms; return_items does the rest."""
    require(scope, "custody.change", "return")
    data = request.POST if request.method == "POST" else request.GET
    form = ReturnPersonForm(data or None)
    second = SecondPersonForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "second": second, "conditions": CONDITIONS}
    if form.is_valid():
        try:
            person = _person(scope, form.cleaned_data["person"])
            held = list(
                items_in(scope)
                .filter(holder=person)
                .select_related("model__category", "home_site")
                .order_by("model__code", "serial")
            )
            context["person"] = person
            context["held"] = held
            if request.method == "POST" and request.POST.get("action") == "return":
                returns = [
                    Returned(
                        item.pk,
                        request.POST.get(f"condition-{item.pk}", Condition.SERVICEABLE),
                        request.POST.get(f"note-{item.pk}", "")[:200],
                    )
                    for item in held
                    if request.POST.get(f"item-{item.pk}")
                ]
                if not second.is_valid():
                    raise DomainError.single(
                        "second person",
                        "password",
                        "; ".join(str(e) for e in second.non_field_errors()),
                    )
                back = return_items(
                    actor=Actor.for_user(request.user),
                    second=second_person(second),
                    person=person,
                    returns=returns,
                )
                context["returned"] = back
                return render(request, "web/custody/returned.html", context)
        except DomainError as error:
            context["problems"] = error.problems
    focus_on_answer(form, context)
    return render(request, "web/custody/return.html", context)
