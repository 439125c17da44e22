"""The roster and a person's page, narrowed to the user's scope; reading someone else's
record is journaled (muster.access.reads)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Hashable
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from muster.access.reads import record_person_read
from muster.access.scope import Scope, people_in, units_in, visible
from muster.armory.receipt_pdf import hand_receipt_pdf
from muster.armory.receipts import hand_receipt
from muster.armory.selectors import holdings_of
from muster.core.actors import Actor
from muster.core.errors import DomainError
from muster.core.reference import current_stamp
from muster.people.choices import PersonStatus
from muster.people.models import Membership, Person, StatusChange, Unit
from muster.vetting.selectors import eligibility_of, qualifications_of
from muster.web.dashboard import EXPIRING_DAYS
from muster.web.errors import scoped
from muster.web.pages import paged


def roster_filtered(request: HttpRequest, scope: Scope) -> tuple[QuerySet[Person], dict[str, Any]]:
    """Everyone the scope sees, searched by name or national id (`q`), filtered by unit and
    status as the request asks; with the filters for the page. The roster page and its
    CSV/XLSX downloads share it, so a download holds exactly the rows of the page's filters."""
    people = people_in(scope).select_related("unit")
    query = request.GET.get("q", "").strip()
    if query:
        terms = Q(national_id__istartswith=query)
        for word in query.split():
            terms |= Q(family_name__istartswith=word) | Q(given_name__istartswith=word)
        people = people.filter(terms)
    units = units_in(scope).order_by("path")
    unit = request.GET.get("unit", "")
    if unit.isdigit():
        chosen = units.filter(pk=int(unit)).first()
        if chosen is not None:
            people = people.filter(unit__path__startswith=chosen.path)
    status = request.GET.get("status", "")
    if status in PersonStatus.values:
        people = people.filter(status=status)
    filters = {
        "query": query,
        "units": units.only("pk", "code", "name"),
        "unit": unit,
        "statuses": PersonStatus.choices,
        "status": status,
    }
    return people, filters


@scoped
def roster(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Everyone the scope sees, searched and filtered (roster_filtered), a page at a time, in
    the order of the person_name_idx index."""
    people, filters = roster_filtered(request, scope)
    page, keep = paged(request, in_roster_order(people))
    options = unit_options(scope, filters["units"], filters["unit"])
    return render(
        request,
        "web/people/roster.html",
        {"page": page, "keep": keep, "unit_options": options, **filters},
    )


NARROW = 5000


def in_roster_order(people: QuerySet[Person]) -> QuerySet[Person]:
    """`people` by family name, given name and id. Everyone, or many, are read in the order of
    person_name_idx. Up to NARROW (a search, a unit, a battalion's scope) are found by their
    own indexes and then sorted: asked for the index's order with a LIMIT, PostgreSQL would
    walk the index through everyone ahead of the matches (the sort key is an expression, the
    same value, so that it cannot)."""
    if people.query.where and people.count() <= NARROW:
        return people.order_by(Concat("family_name", Value("")), "given_name", "pk")
    return people.order_by("family_name", "given_name", "pk")


_OPTIONS: dict[Hashable, str] = {}
_OPTIONS_LOCK = threading.Lock()


def unit_options(scope: Scope, units: QuerySet[Unit], chosen: str) -> SafeString:
    """The unit filter's <option> elements, `chosen` selected. Built once per set of units
    while the reference stamp (which every change to a unit replaces) holds: HQ's 4,490 units
    cost the template a few hundred milliseconds a page."""
    stamp = current_stamp()
    key = (connection.alias, stamp, scope.everything, scope.paths, scope.site_paths)
    html = _OPTIONS.get(key) if stamp is not None else None
    if html is None:
        html = format_html_join(
            "", '<option value="{}">{} {}</option>', units.values_list("pk", "code", "name")
        )
        if stamp is not None:
            with _OPTIONS_LOCK:
                if len(_OPTIONS) >= 256:
                    _OPTIONS.clear()
                _OPTIONS[key] = html
    if chosen.isdigit():
        html = html.replace(f'<option value="{chosen}">', f'<option value="{chosen}" selected>', 1)
    return mark_safe(html)  # built by format_html_join above: escaped


@scoped
def person(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """One person's record: unit history, qualifications (lapsing soon marked), eligibility
    per category with its reasons, what they hold, their status history."""
    found = visible(people_in(scope).select_related("unit"), pk, "person")
    record_person_read(
        actor=Actor.for_user(request.user),
        scope=scope,
        person=found,
        why=request.GET.get("why", ""),
    )
    today = timezone.localdate()
    soon = today + dt.timedelta(days=EXPIRING_DAYS)
    qualifications = [
        {
            "record": q,
            "revoked": hasattr(q, "revocation"),
            "expired": q.expires_on is not None and q.expires_on < today,
            "expiring": q.expires_on is not None and today <= q.expires_on <= soon,
        }
        for q in qualifications_of(found)
    ]
    try:
        decisions = eligibility_of(found, today)
        eligibility_error = ""
    except DomainError as error:
        decisions, eligibility_error = [], str(error)
    return render(
        request,
        "web/people/person.html",
        {
            "person": found,
            "memberships": Membership.objects.filter(person=found)
            .select_related("unit")
            .order_by("-since", "-id"),
            "statuses": StatusChange.objects.filter(person=found).order_by("-effective_on", "-id"),
            "qualifications": qualifications,
            "decisions": decisions,
            "eligibility_error": eligibility_error,
            "holdings": holdings_of(found),
            "today": today,
            "may_vet": scope.may("vetting.change"),
            "may_suspend": scope.may("people.suspend") and found.status in ("active", "suspended"),
            "may_move": scope.may("people.change"),
        },
    )


@scoped
def receipt_pdf(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """The person's hand receipt as a PDF to print and sign."""
    found = visible(people_in(scope), pk, "person")
    record_person_read(
        actor=Actor.for_user(request.user), scope=scope, person=found, why="hand receipt"
    )
    pdf = hand_receipt_pdf(hand_receipt(found))
    response = HttpResponse(pdf.data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="hand-receipt-{found.national_id}.pdf"'
    return response
