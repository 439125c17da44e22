"""Blind inventory counts and their variances, and incidents (R7)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import items_in, people_in, require, sites_in, visible
from muster.accounts.models import User
from muster.api.common import actor, scope, user_of
from muster.api.schemas import (
    CountClosedOut,
    CountIn,
    CountOut,
    CountRecordedOut,
    CountRecordIn,
    IncidentOut,
    responses,
)
from muster.armory.models import Incident, InventoryCount
from muster.armory.services.counts import close_count, record_count, start_count
from muster.core.errors import NotFound

router = Router(tags=["counts"])


def _counts(request: HttpRequest) -> QuerySet[InventoryCount]:
    """The counts at the caller's sites, and those they are the counter of."""
    return InventoryCount.objects.select_related("site", "category", "counter").filter(
        Q(site__in=sites_in(scope(request)).values("pk")) | Q(counter=user_of(request).pk)
    )


@router.get("/counts", response=responses(200, list[CountOut]))
@paginate(LimitOffsetPagination)
def list_counts(
    request: HttpRequest,
    site: str | None = Query(None, max_length=40),
    status: str | None = Query(None, max_length=8, description="open or closed"),
) -> QuerySet[InventoryCount]:
    counts = _counts(request)
    if site:
        counts = counts.filter(site__code=site)
    if status:
        counts = counts.filter(status=status)
    return counts.order_by("-pk")


@router.post("/counts", response=responses(201, CountOut))
def start(request: HttpRequest, payload: CountIn) -> Status[InventoryCount]:
    """Open a count of a site (or one category there), assigned to an independent counter."""
    require(scope(request), "counts.change", f"count at {payload.site}")
    site = sites_in(scope(request)).filter(code=payload.site).first()
    if site is None:
        raise NotFound.single(f"site {payload.site}", "site", "no storage site has this code")
    counter = User.objects.filter(username=payload.counter).first()
    if counter is None:
        raise NotFound.single(f"user {payload.counter}", "counter", "no such user")
    count = start_count(
        actor=actor(request),
        site=site,
        counter=counter,
        category=payload.category,
        blind=payload.blind,
    )
    return Status(201, _counts(request).get(pk=count.pk))


@router.get("/counts/{count_id}", response=responses(200, CountOut))
def count_detail(request: HttpRequest, count_id: int) -> InventoryCount:
    return visible(_counts(request), count_id, f"count {count_id}")


@router.post("/counts/{count_id}/records", response=responses(201, CountRecordedOut))
def record(request: HttpRequest, count_id: int, payload: CountRecordIn) -> Status[dict[str, Any]]:
    """Record what the counter saw (only the assigned counter, only while open)."""
    count = visible(_counts(request), count_id, f"count {count_id}")
    written = record_count(
        actor=actor(request),
        count=count,
        serials=payload.serials,
        lots=[(lot.lot, lot.quantity) for lot in payload.lots],
    )
    return Status(201, {"count_id": count.pk, "recorded": written})


@router.post("/counts/{count_id}/close", response=responses(200, CountClosedOut))
def close(request: HttpRequest, count_id: int) -> dict[str, Any]:
    """Close the count and report its variances against the record as it stands now."""
    count = visible(_counts(request), count_id, f"count {count_id}")
    if user_of(request).pk != count.counter_id:
        require(scope(request), "counts.change", f"count {count_id}")
    variances = close_count(actor=actor(request), count=count)
    return {"count": _counts(request).get(pk=count.pk), "variances": variances}


@router.get("/incidents", response=responses(200, list[IncidentOut]), tags=["custody"])
@paginate(LimitOffsetPagination)
def list_incidents(
    request: HttpRequest,
    kind: str | None = Query(None, max_length=16),
    status: str | None = Query(None, max_length=16),
) -> QuerySet[Incident]:
    """Incidents about items or people the caller sees, newest first."""
    incidents = Incident.objects.all()
    the_scope = scope(request)
    if not the_scope.everything:
        incidents = incidents.filter(
            Q(items__in=items_in(the_scope).values("pk"))
            | Q(people__in=people_in(the_scope).values("pk"))
        ).distinct()
    if kind:
        incidents = incidents.filter(kind=kind)
    if status:
        incidents = incidents.filter(status=status)
    return incidents.order_by("-pk")
