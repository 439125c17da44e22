"""Transfers between sites: dispatched from a site the armorer keeps, received at the
destination with the serials that arrived (muster.armory.services.movements decides what is
missing or unexpected); and incidents, with their notes and status."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from muster.access.scope import (
    Forbidden,
    Scope,
    incidents_in,
    items_in,
    require,
    sites_in,
    transfers_in,
    visible,
)
from muster.armory.choices import IncidentStatus
from muster.armory.models import Transfer
from muster.armory.services.incidents import NEXT_STATUS, STATUS_ROLES, add_incident_note
from muster.armory.services.movements import dispatch_transfer, receive_transfer
from muster.core.actors import Actor
from muster.core.errors import DomainError
from muster.web.armory_forms import DispatchForm, NoteForm, ReceiveForm, serial_lines
from muster.web.errors import problems_on_form, scoped
from muster.web.pages import paged


@scoped
def transfers(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Transfers from or to the user's sites, those still in transit first."""
    found = transfers_in(scope).select_related("from_site", "to_site")
    page, keep = paged(request, found.order_by("-received_at", "-dispatched_at", "-pk"))
    return render(
        request,
        "web/transfers/list.html",
        {"page": page, "keep": keep, "may_dispatch": scope.may("custody.change")},
    )


@scoped
def dispatch(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "custody.change", "transfer")
    sites = sites_in(scope).order_by("code")
    form = DispatchForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        from_site = form.cleaned_data["from_site"]
        serials = serial_lines(form.cleaned_data["serials"])
        chosen = dict(
            items_in(scope).filter(site=from_site, serial__in=serials).values_list("serial", "pk")
        )
        unknown = [s for s in serials if s not in chosen]
        if unknown:
            form.add_error(
                "serials",
                _("not at %(site)s: %(serials)s")
                % {"site": from_site.code, "serials": ", ".join(unknown)},
            )
        else:
            try:
                transfer = dispatch_transfer(
                    actor=Actor.for_user(request.user),
                    from_site=from_site,
                    to_site=form.cleaned_data["to_site"],
                    item_ids=[chosen[s] for s in dict.fromkeys(serials)],
                )
            except DomainError as error:
                problems_on_form(form, error, {"items": "serials", "site": "serials"})
            else:
                messages.success(request, _("Transfer %(n)s dispatched.") % {"n": transfer.pk})
                return redirect("web:transfer", transfer.pk)
    return render(request, "web/transfers/dispatch.html", {"form": form})


def _receiving(scope: Scope, transfer: Transfer) -> bool:
    return (
        transfer.received_at is None
        and scope.may("custody.change")
        and sites_in(scope).filter(pk=transfer.to_site_id).exists()
    )


@scoped
def transfer(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """A transfer, and at the destination the form to receive it."""
    found = visible(transfers_in(scope).select_related("from_site", "to_site"), pk, "transfer")
    receiving = _receiving(scope, found)
    form = ReceiveForm(request.POST or None) if receiving else None
    if request.method == "POST":
        if form is None:
            raise Forbidden.single(
                f"transfer {found.pk}", "to_site", _("only the destination's armorer receives it")
            )
        if form.is_valid():
            try:
                receive_transfer(
                    actor=Actor.for_user(request.user),
                    transfer=found,
                    serials=serial_lines(form.cleaned_data["serials"]),
                )
            except DomainError as error:
                problems_on_form(form, error)
            else:
                messages.success(request, _("Transfer %(n)s received.") % {"n": found.pk})
                return redirect("web:transfer", found.pk)
    dispatched = found.items.select_related("model", "site", "transit_to", "holder")
    # Where each item is now, for those the scope still sees: a transfer to a site of another
    # scope must not tell who holds its items there.
    seen = set(items_in(scope, found.items.all()).values_list("pk", flat=True))
    items = [(item, item.pk in seen) for item in dispatched.order_by("serial")]
    return render(
        request,
        "web/transfers/transfer.html",
        {"transfer": found, "items": items, "form": form},
    )


def _may_work_incidents(scope: Scope) -> bool:
    return bool(scope.roles & STATUS_ROLES)


@scoped
def incidents(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Incidents concerning what the user sees, open ones first."""
    found = incidents_in(scope)
    status = request.GET.get("status", "")
    if status in IncidentStatus.values:
        found = found.filter(status=status)
    page, keep = paged(request, found.order_by("-status", "-opened_at", "-pk"))
    return render(
        request,
        "web/incidents/list.html",
        {"page": page, "keep": keep, "status": status, "statuses": IncidentStatus.choices},
    )


@scoped
def incident(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """An incident: what it concerns, its notes; a note added, the status moved along."""
    found = visible(incidents_in(scope), pk, "incident")
    labels = dict(IncidentStatus.choices)
    choices = [(s, labels[s]) for s in NEXT_STATUS[found.status]]
    form = NoteForm(request.POST or None, choices=choices)
    if request.method == "POST":
        if not _may_work_incidents(scope):
            held = ", ".join(sorted(scope.roles)) or "no role"
            raise Forbidden.single(
                f"incident {found.pk}", "role", f"{held} may not add to incidents"
            )
        if form.is_valid():
            try:
                add_incident_note(
                    actor=Actor.for_user(request.user),
                    incident=found,
                    text=form.cleaned_data["text"],
                    status_to=form.cleaned_data["status_to"] or None,
                )
            except DomainError as error:
                problems_on_form(form, error, {"status": "status_to"})
            else:
                messages.success(request, _("Note added."))
                return redirect("web:incident", found.pk)
    context: dict[str, Any] = {
        "incident": found,
        "items": items_in(scope, found.items.all()).select_related("model").order_by("serial"),
        "notes": found.notes.order_by("recorded_at", "pk"),
        "form": form if _may_work_incidents(scope) and found.status != "closed" else None,
    }
    return render(request, "web/incidents/incident.html", context)
