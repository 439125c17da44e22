"""Alerts: listed for whoever must act, acknowledged and resolved (R7).

Each caller lists and reads the alerts their scope sees (muster.alerts.audience); one outside
it is 404. Those who must act on an alert (its kind's roles over its unit) acknowledge and
resolve it; others who see it get 403. A second acknowledgement or resolution is 409."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from muster.access.scope import visible
from muster.alerts.audience import acts_on, alerts_in
from muster.alerts.models import Alert
from muster.alerts.selectors import alerts_for
from muster.alerts.services import acknowledge_alert, resolve_alert
from muster.api.common import actor, scope
from muster.api.schemas import responses

router = Router(tags=["alerts"])


class AlertEntryOut(Schema):
    action: str
    actor: str
    note: str
    at: dt.datetime
    seq: int


class AlertOut(Schema):
    id: int
    kind: str
    state: str
    cleared: bool = Field(description="resolved by the job because the condition cleared")
    key: str = Field(description="names the occurrence of the condition")
    unit: str = Field(alias="unit.code", description="the unit whose people must act")
    site: str | None
    person_id: int | None
    item_id: int | None
    count_id: int | None
    variance_id: int | None
    shift_id: int | None
    message: str
    data: dict[str, Any]
    raised_at: dt.datetime
    changed_at: dt.datetime

    @staticmethod
    def resolve_site(obj: Any) -> str | None:
        return obj.site.code if obj.site_id else None


class AlertDetailOut(AlertOut):
    entries: list[AlertEntryOut]
    you_act: bool = Field(description="whether the caller is one of those who must act")

    @staticmethod
    def resolve_entries(obj: Any) -> list[Any]:
        return list(obj.entries.order_by("at", "pk"))

    @staticmethod
    def resolve_you_act(obj: Any, context: Any) -> bool:
        return acts_on(scope(context["request"]), obj)


class AcknowledgeIn(Schema):
    note: str = Field("", max_length=500, description="optional: what is being done")


class ResolveIn(Schema):
    note: str = Field(max_length=500, description="what was done (required)")


def _alert(request: HttpRequest, alert_id: int) -> Alert:
    found = alerts_in(scope(request)).select_related("unit", "site")
    return visible(found, alert_id, f"alert {alert_id}")


@router.get("/alerts", response=responses(200, list[AlertOut]))
@paginate(LimitOffsetPagination)
def list_alerts(
    request: HttpRequest,
    kind: str | None = Query(None, max_length=16),
    state: str | None = Query(
        None, max_length=16, description="active (default), open, acknowledged, resolved, all"
    ),
    unit: str | None = Query(None, max_length=40, description="a unit code: its subtree"),
    person_id: int | None = Query(None),
    site: str | None = Query(None, max_length=40),
) -> QuerySet[Alert]:
    """The alerts the caller sees, newest first."""
    return alerts_for(
        scope(request), kind=kind, state=state, unit=unit, person_id=person_id, site=site
    )


@router.get("/alerts/{alert_id}", response=responses(200, AlertDetailOut))
def read_alert(request: HttpRequest, alert_id: int) -> Alert:
    """One alert with its entries (acknowledged, resolved)."""
    return _alert(request, alert_id)


@router.post("/alerts/{alert_id}/acknowledge", response=responses(200, AlertDetailOut))
def acknowledge(request: HttpRequest, alert_id: int, payload: AcknowledgeIn) -> Alert:
    """Say the alert is seen and being dealt with (those who must act; once)."""
    found = _alert(request, alert_id)
    acknowledge_alert(actor=actor(request), scope=scope(request), alert=found, note=payload.note)
    return _alert(request, alert_id)


@router.post("/alerts/{alert_id}/resolve", response=responses(200, AlertDetailOut))
def resolve(request: HttpRequest, alert_id: int, payload: ResolveIn) -> Alert:
    """Close the alert, saying what was done (those who must act; once)."""
    found = _alert(request, alert_id)
    resolve_alert(actor=actor(request), scope=scope(request), alert=found, note=payload.note)
    return _alert(request, alert_id)
