"""Inventory counts on a phone: the counts a user may see, starting one, the counter's page
(serials typed, pasted or scanned into an open count; only how many when the count is blind),
closing it, and the variance report with each variance resolved by someone authorised. The
rules are muster.armory.services.counts'; these pages gather the input and show the answer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.access.scope import Forbidden, Scope, counts_in, require, sites_in, visible
from muster.accounts.models import User
from muster.armory.choices import VarianceResolution
from muster.armory.count_selectors import count_sheet, variance_report
from muster.armory.models import InventoryCount, Variance
from muster.armory.services.counts import (
    RESOLUTIONS,
    close_count,
    record_count,
    resolve_variance,
    start_count,
)
from muster.core.actors import Actor
from muster.core.errors import DomainError
from muster.web.armory_forms import RecordForm, ResolveForm, StartCountForm, serial_lines
from muster.web.custody_views import second_person
from muster.web.errors import problems_on_form, scoped
from muster.web.pages import paged

RECENT = 10  # serials the counter sees they recorded last


def visible_count(scope: Scope, pk: int) -> InventoryCount:
    return visible(
        counts_in(scope).select_related("site__unit", "category", "counter"), pk, "count"
    )


def _is_counter(request: HttpRequest, count: InventoryCount) -> bool:
    return bool(count.counter_id == request.user.pk)


def _manages(scope: Scope, count: InventoryCount) -> bool:
    """Someone who may order counts and sees the count's site (the service checks the rest)."""
    return scope.may("counts.change") and sites_in(scope).filter(pk=count.site_id).exists()


@scoped
def counts(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The counts the user may see, open ones first, and a form to start one."""
    found = counts_in(scope).select_related("site", "category", "counter")
    page, keep = paged(request, found.order_by("-status", "-started_at", "-pk"))
    context: dict[str, Any] = {"page": page, "keep": keep}
    if scope.may("counts.change"):
        context["form"] = StartCountForm(sites=sites_in(scope).order_by("code"))
    return render(request, "web/counts/list.html", context)


@scoped
def start(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Open a count of a site the user sees, for an independent counter."""
    require(scope, "counts.change", "count")
    form = StartCountForm(request.POST or None, sites=sites_in(scope).order_by("code"))
    if request.method == "POST" and form.is_valid():
        counter = User.objects.filter(username=form.cleaned_data["counter"]).first()
        if counter is None:
            form.add_error("counter", _("no user has this username"))
        else:
            category = form.cleaned_data["category"]
            try:
                count = start_count(
                    actor=Actor.for_user(request.user),
                    site=form.cleaned_data["site"],
                    counter=counter,
                    category=category.code if category else None,
                )
            except DomainError as error:
                problems_on_form(form, error)
            else:
                messages.success(request, _("Count %(n)s started.") % {"n": count.pk})
                return redirect("web:count", count.pk)
    return render(request, "web/counts/start.html", {"form": form})


def _count_context(request: HttpRequest, scope: Scope, count: InventoryCount) -> dict[str, Any]:
    sheet = count_sheet(count)
    manages = _manages(scope, count)
    context: dict[str, Any] = {
        "count": count,
        "recorded": len(sheet.serials),
        "recent": list(reversed(sheet.serials[-RECENT:])),
        "lots": sheet.lots,
        "is_counter": _is_counter(request, count),
        "manages": manages,
    }
    if sheet.expected_serials is not None:  # never for a blind count
        seen = set(sheet.serials)
        context["expected"] = [(s, s in seen) for s in sheet.expected_serials]
    if count.status == "open":
        context["form"] = RecordForm()
    else:
        variances = list(variance_report(count))
        context["variances"] = [
            (v, _resolve_form(v) if manages and not v.resolution else None) for v in variances
        ]
        context["open_variances"] = sum(1 for v in variances if not v.resolution)
    return context


def _resolve_form(variance: Variance, data: Any = None) -> ResolveForm:
    labels = dict(VarianceResolution.choices)
    choices = [(r, labels[r]) for r in RESOLUTIONS[variance.kind]]
    return ResolveForm(data, choices=choices, prefix=f"v{variance.pk}")


@scoped
def count(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    found = visible_count(scope, pk)
    return render(request, "web/counts/count.html", _count_context(request, scope, found))


@require_POST
@scoped
def record(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """Record serials into an open count: a whole list from the text field, or one scanned
    serial at a time from htmx (which gets the tally back to swap in)."""
    found = visible_count(scope, pk)
    form = RecordForm(request.POST)
    problems: list[Any] = []
    added: list[str] = []
    if form.is_valid():
        added = serial_lines(form.cleaned_data["serials"])
        try:
            record_count(actor=Actor.for_user(request.user), count=found, serials=added)
        except DomainError as error:
            problems, added = error.problems, []
    else:
        problems = [e for errors in form.errors.values() for e in errors]
    if request.htmx:  # type: ignore[attr-defined]
        context = _count_context(request, scope, found)
        context.update({"problems": problems, "added": added})
        return render(request, "web/counts/tally.html", context)
    if problems:
        context = _count_context(request, scope, found)
        context["problems"] = problems
        context["form"] = form
        return render(request, "web/counts/count.html", context, status=200)
    messages.success(request, _("Recorded %(n)s serial numbers.") % {"n": len(added)})
    return redirect("web:count", found.pk)


@require_POST
@scoped
def close(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """Close the count: the counter, or someone who orders counts at the site."""
    found = visible_count(scope, pk)
    if not (_is_counter(request, found) or _manages(scope, found)):
        raise Forbidden.single(
            f"count {found.pk}", "actor", _("only the counter or an armorer of the site closes it")
        )
    try:
        variances = close_count(actor=Actor.for_user(request.user), count=found)
    except DomainError as error:
        context = _count_context(request, scope, found)
        context["problems"] = error.problems
        return render(request, "web/counts/count.html", context)
    messages.success(
        request,
        _("Count %(n)s closed with %(v)s variances.") % {"n": found.pk, "v": len(variances)},
    )
    return redirect(reverse("web:count", args=[found.pk]) + "#variances")


@require_POST
@scoped
def resolve(request: HttpRequest, scope: Scope, pk: int, variance_pk: int) -> HttpResponse:
    """Close one variance by an authorised entry, the second person confirming where the
    two-person rule applies."""
    found = visible_count(scope, pk)
    require(scope, "counts.change", f"count {found.pk}")
    if not _manages(scope, found):
        raise Forbidden.single(f"count {found.pk}", "site", _("not a site you keep"))
    variance = visible(Variance.objects.filter(count=found), variance_pk, "variance")
    form = _resolve_form(variance, request.POST)
    if form.is_valid():
        try:
            resolve_variance(
                actor=Actor.for_user(request.user),
                second=second_person(form),
                variance=variance,
                resolution=form.cleaned_data["resolution"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            problems_on_form(form, error, {"password": "second_password"})
        else:
            messages.success(request, _("Variance resolved."))
            return redirect(reverse("web:count", args=[found.pk]) + "#variances")
    context = _count_context(request, scope, found)
    context["variances"] = [
        (v, form if v.pk == variance.pk else f) for v, f in context["variances"]
    ]
    return render(request, "web/counts/count.html", context)
