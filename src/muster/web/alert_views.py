"""Alerts in the browser: the list of those the user sees (filtered by kind, state and unit), one
alert with its entries, and acknowledging or resolving it by those who must act. The rules are
muster.alerts' (audience, services); these pages gather the input and show the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.access.scope import Forbidden, Scope, sees_person, visible
from muster.alerts.audience import acts_on, alerts_in, require_to_act, sees_alerts
from muster.alerts.choices import AlertKind, AlertState
from muster.alerts.models import Alert
from muster.alerts.selectors import alerts_for
from muster.alerts.services import NOTE_LENGTH, acknowledge_alert, resolve_alert
from muster.core.actors import Actor
from muster.core.errors import DomainError
from muster.web.errors import problems_on_form, scoped
from muster.web.pages import paged


class AcknowledgeForm(forms.Form):
    """The two forms share a page: their fields get ids of their own (`ack_note`)."""

    note = forms.CharField(
        label=gettext_lazy("Note (optional): what is being done"),
        required=False,
        max_length=NOTE_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "ack_%s")
        super().__init__(*args, **kwargs)


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=NOTE_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "resolve_%s")
        super().__init__(*args, **kwargs)


def _require_alerts(scope: Scope) -> None:
    if not sees_alerts(scope):
        held = ", ".join(sorted(scope.roles)) or "no role"
        raise Forbidden.single(
            "alerts",
            "role",
            _("%(roles)s acts on no alerts: they go to those who must act") % {"roles": held},
        )


def _visible_alert(scope: Scope, pk: int) -> Alert:
    _require_alerts(scope)
    found = alerts_in(scope).select_related("unit", "site", "person__unit", "item__model")
    return visible(found, pk, "alert")


STATE_CHOICES = (
    ("active", gettext_lazy("To be dealt with")),
    *AlertState.choices,
    ("all", gettext_lazy("All")),
)


@scoped
def alerts(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The alerts the user sees, newest first; still to be dealt with unless asked otherwise."""
    _require_alerts(scope)
    kind = request.GET.get("kind", "").strip()
    state = request.GET.get("state", "").strip() or "active"
    unit = request.GET.get("unit", "").strip()
    problems: list[Any] = []
    try:
        found = alerts_for(scope, kind=kind or None, state=state, unit=unit or None)
    except DomainError as error:
        problems = error.problems
        found = Alert.objects.none()
    page, keep = paged(request, found)
    return render(
        request,
        "web/alerts/list.html",
        {
            "page": page,
            "keep": keep,
            "kind": kind,
            "state": state,
            "unit": unit,
            "kinds": AlertKind.choices,
            "states": STATE_CHOICES,
            "problems": problems,
        },
    )


def _context(
    scope: Scope, alert: Alert, form: AcknowledgeForm | ResolveForm | None = None
) -> dict[str, Any]:
    """The alert's page; `form` (as sent, with its errors) in place of its blank one."""
    acting = acts_on(scope, alert)
    person = alert.person
    shown = person is not None and sees_person(scope, person.pk, person.unit.path)
    acknowledge = form if isinstance(form, AcknowledgeForm) else AcknowledgeForm()
    resolve = form if isinstance(form, ResolveForm) else ResolveForm()
    return {
        "alert": alert,
        "entries": alert.entries.order_by("at", "pk"),
        "person": person if shown else None,
        "acting": acting,
        "acknowledge": acknowledge if acting and alert.state == AlertState.OPEN else None,
        "resolve": resolve if acting and alert.active else None,
    }


@scoped
def alert(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    found = _visible_alert(scope, pk)
    return render(request, "web/alerts/alert.html", _context(scope, found))


def _act(
    request: HttpRequest,
    scope: Scope,
    pk: int,
    form: AcknowledgeForm | ResolveForm,
    service: Callable[..., Alert],
    done: str,
) -> HttpResponse:
    """Acknowledge or resolve (`service`) the alert `pk` with the note of `form`: back to the
    alert when done (`done` says so), else its page again with the form's errors."""
    found = _visible_alert(scope, pk)
    require_to_act(scope, found)
    problems: list[Any] = []
    if form.is_valid():
        try:
            service(
                actor=Actor.for_user(request.user),
                scope=scope,
                alert=found,
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            problems_on_form(form, error)
            problems = [p for p in error.problems if p.field not in form.fields]
        else:
            messages.success(request, done % {"n": found.pk})
            return redirect("web:alert", found.pk)
    found.refresh_from_db()
    context = _context(scope, found, form)
    return render(request, "web/alerts/alert.html", {**context, "problems": problems})


@require_POST
@scoped
def acknowledge(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """Acknowledge the alert: seen, and being dealt with."""
    form = AcknowledgeForm(request.POST)
    done = _("Alert %(n)s acknowledged.")
    return _act(request, scope, pk, form, acknowledge_alert, done)


@require_POST
@scoped
def resolve(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """Resolve the alert, saying what was done."""
    form = ResolveForm(request.POST)
    return _act(request, scope, pk, form, resolve_alert, _("Alert %(n)s resolved."))
