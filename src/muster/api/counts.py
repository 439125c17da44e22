"""Blind inventory counts and their variances, and incidents (R7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import (
    Forbidden,
    incidents_in,
    people_in,
    require,
    require_one_of,
    sites_in,
    visible,
)
from muster.accounts.models import User
from muster.api.common import actor, scope, second_person, user_of, visible_items
from muster.api.schemas import (
    CountClosedOut,
    CountIn,
    CountOut,
    CountRecordedOut,
    CountRecordIn,
    IncidentOut,
    SecondPerson,
    VarianceOut,
    responses,
)
from muster.armory.models import Incident, InventoryCount, Variance
from muster.armory.services.counts import close_count, record_count, resolve_variance, start_count
from muster.armory.services.incidents import add_incident_note, open_incident
from muster.core.errors import NotFound

router = Router(tags=["counts"])

# Who works incidents: armorers, commanders, regional administrators and HQ staff (the
# service checks their authority over what the incident concerns before a status moves).
INCIDENT_ACTIONS = ("custody.change", "people.change")


class VarianceResolveIn(SecondPerson):
    resolution: str = Field(max_length=16, description="found, reported_lost or correction")
    note: str = Field(max_length=300, description="what was found or done")


class VarianceResolvedOut(VarianceOut):
    resolved_by: str
    resolved_at: dt.datetime | None
    resolution_note: str


class IncidentIn(Schema):
    kind: str = Field(max_length=16, description="loss, theft, damage or misuse")
    summary: str = Field(max_length=500, description="what happened")
    serials: list[str] = Field(default_factory=list, max_length=100, description="items concerned")
    model: str | None = Field(None, max_length=60, description="where two models share a serial")
    person_ids: list[int] = Field(default_factory=list, max_length=100)


class IncidentNoteOut(Schema):
    id: int
    text: str
    status_to: str
    actor: str
    recorded_at: dt.datetime


class IncidentDetailOut(IncidentOut):
    notes: list[IncidentNoteOut]

    @staticmethod
    def resolve_notes(obj: Any) -> list[Any]:
        return list(obj.notes.order_by("recorded_at", "pk"))


class IncidentNoteIn(Schema):
    text: str = Field(max_length=5000)


class IncidentStatusIn(Schema):
    status: str = Field(max_length=16, description="investigating or closed")
    note: str = Field("", max_length=5000, description="why; closing needs one")


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
    incidents = incidents_in(scope(request))
    if kind:
        incidents = incidents.filter(kind=kind)
    if status:
        incidents = incidents.filter(status=status)
    return incidents.order_by("-pk")


@router.get(
    "/counts/{count_id}/variances",
    response=responses(200, list[VarianceResolvedOut]),
    summary="A count's variances",
)
@paginate(LimitOffsetPagination)
def list_variances(
    request: HttpRequest,
    count_id: int,
    kind: str | None = Query(None, max_length=16),
    resolved: bool | None = Query(None, description="only resolved (true) or open (false) ones"),
) -> QuerySet[Variance]:
    """The variances a closed count found, each with its resolution once resolved."""
    count = visible(_counts(request), count_id, f"count {count_id}")
    variances = Variance.objects.filter(count=count)
    if kind:
        variances = variances.filter(kind=kind)
    if resolved is not None:
        variances = (
            variances.exclude(resolution="") if resolved else variances.filter(resolution="")
        )
    return variances.order_by("pk")


@router.post(
    "/counts/{count_id}/variances/{variance_id}/resolve",
    response=responses(200, VarianceResolvedOut),
    summary="Resolve a variance",
)
def resolve(
    request: HttpRequest, count_id: int, variance_id: int, payload: VarianceResolveIn
) -> Variance:
    """Close one variance by an authorised entry (found, reported lost, correction), the second
    person confirming where the two-person rule applies; the record changes only by new
    journaled events."""
    require(scope(request), "counts.change", f"count {count_id}")
    acting = actor(request)
    second = second_person(payload)
    count = visible(_counts(request), count_id, f"count {count_id}")
    if not sites_in(scope(request)).filter(pk=count.site_id).exists():
        raise Forbidden.single(f"count {count_id}", "site", "not a site the caller keeps")
    variance = visible(Variance.objects.filter(count=count), variance_id, f"variance {variance_id}")
    return resolve_variance(
        actor=acting,
        second=second,
        variance=variance,
        resolution=payload.resolution,
        note=payload.note,
    )


def _incident(request: HttpRequest, incident_id: int) -> Incident:
    return visible(incidents_in(scope(request)), incident_id, f"incident {incident_id}")


@router.post(
    "/incidents",
    response=responses(201, IncidentDetailOut),
    summary="Open an incident",
    tags=["custody"],
)
def open_(request: HttpRequest, payload: IncidentIn) -> Status[Incident]:
    """Open an incident (loss, theft, damage, misuse) about items and people the caller sees.
    It changes no custody: to take items out of stock as lost or stolen, report them missing."""
    require_one_of(scope(request), INCIDENT_ACTIONS, f"{payload.kind} incident")
    items = visible_items(scope(request), payload.serials, payload.model) if payload.serials else []
    people = people_in(scope(request))
    person_ids = [
        visible(people, pk, f"person {pk}").pk for pk in dict.fromkeys(payload.person_ids)
    ]
    incident = open_incident(
        actor=actor(request),
        kind=payload.kind,
        summary=payload.summary,
        item_ids=[i.pk for i in items],
        person_ids=person_ids,
    )
    return Status(201, incident)


@router.get(
    "/incidents/{incident_id}",
    response=responses(200, IncidentDetailOut),
    summary="An incident and its notes",
    tags=["custody"],
)
def incident_detail(request: HttpRequest, incident_id: int) -> Incident:
    """One incident about items or people the caller sees, with its notes, oldest first."""
    return _incident(request, incident_id)


@router.post(
    "/incidents/{incident_id}/notes",
    response=responses(201, IncidentDetailOut),
    summary="Add a note to an incident",
    tags=["custody"],
)
def note(request: HttpRequest, incident_id: int, payload: IncidentNoteIn) -> Status[Incident]:
    """Add a note (never edited afterwards); a closed incident takes no more notes."""
    require_one_of(scope(request), INCIDENT_ACTIONS, f"incident {incident_id}")
    incident = _incident(request, incident_id)
    add_incident_note(actor=actor(request), incident=incident, text=payload.text)
    return Status(201, Incident.objects.get(pk=incident.pk))


@router.post(
    "/incidents/{incident_id}/status",
    response=responses(200, IncidentDetailOut),
    summary="Move an incident along its workflow",
    tags=["custody"],
)
def move_status(request: HttpRequest, incident_id: int, payload: IncidentStatusIn) -> Incident:
    """Move an incident open → investigating → closed (or open → closed) with a note saying
    why; only someone with authority over what it concerns may."""
    require_one_of(scope(request), INCIDENT_ACTIONS, f"incident {incident_id}")
    incident = _incident(request, incident_id)
    add_incident_note(
        actor=actor(request), incident=incident, text=payload.note, status_to=payload.status
    )
    return Incident.objects.get(pk=incident.pk)
