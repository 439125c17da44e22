"""Reading alerts as a scope sees them: the dashboard's panel, the filtered list, one alert."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import RowNumber

from muster.access.scope import Scope, units_in
from muster.alerts.audience import alerts_in
from muster.alerts.choices import ACTIVE, AlertKind, AlertState
from muster.alerts.models import Alert
from muster.core.errors import DomainError, Problem

LATEST = 5
STATES = ("active", *AlertState.values, "all")


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    active: int
    unacknowledged: int


@dataclass(frozen=True)
class PanelAlert:
    pk: int
    kind: str
    label: str
    state: str
    message: str
    raised_at: dt.datetime


@dataclass(frozen=True)
class AlertPanel:
    """The dashboard's alerts: how many of each kind are still to be dealt with (and of those,
    not yet acknowledged), and the latest few."""

    kinds: tuple[KindCount, ...]
    latest: tuple[PanelAlert, ...]

    @property
    def active(self) -> int:
        return sum(k.active for k in self.kinds)

    @property
    def unacknowledged(self) -> int:
        return sum(k.unacknowledged for k in self.kinds)


def alert_panel(scope: Scope, latest: int = LATEST) -> AlertPanel:
    """The panel, in one query over the active alerts' partial index: each kind's counts
    (window aggregates) ride on its `latest` newest rows."""
    ranked = (
        alerts_in(scope, Alert.objects.filter(state__in=ACTIVE))
        .order_by()
        .annotate(
            n=Window(Count("pk"), partition_by=[F("kind")]),
            fresh=Window(
                Sum(
                    Case(
                        When(state=AlertState.OPEN, then=Value(1)),
                        default=Value(0),
                        output_field=IntegerField(),
                    )
                ),
                partition_by=[F("kind")],
            ),
            rank=Window(
                RowNumber(),
                partition_by=[F("kind")],
                order_by=[F("raised_at").desc(), F("pk").desc()],
            ),
        )
        .filter(rank__lte=latest)
        .values_list("pk", "kind", "state", "message", "raised_at", "n", "fresh")
    )
    labels = dict(AlertKind.choices)
    counts: dict[str, tuple[int, int]] = {}
    rows = []
    for pk, kind, state, message, raised_at, n, fresh in ranked:
        counts[kind] = (n, fresh or 0)
        rows.append(PanelAlert(pk, kind, str(labels.get(kind, kind)), state, message, raised_at))
    rows.sort(key=lambda r: (r.raised_at, r.pk), reverse=True)
    return AlertPanel(
        kinds=tuple(
            KindCount(kind, str(labels[kind]), *counts[kind])
            for kind in AlertKind.values
            if kind in counts
        ),
        latest=tuple(rows[:latest]),
    )


def alerts_for(
    scope: Scope,
    *,
    kind: str | None = None,
    state: str | None = None,
    unit: str | None = None,
    person_id: int | None = None,
    site: str | None = None,
) -> QuerySet[Alert]:
    """The alerts the scope sees, newest first, narrowed by kind, state (`active`: open or
    acknowledged, the default; `all`), a unit code (its subtree: the unit acting, the site's
    or the person's), a person or a site code. A filter naming no such value is refused."""
    problems = []
    if kind and kind not in AlertKind.values:
        problems.append(
            Problem("alerts", "kind", f"must be one of {', '.join(AlertKind.values)}", kind)
        )
    state = state or "active"
    if state not in STATES:
        problems.append(Problem("alerts", "state", f"must be one of {', '.join(STATES)}", state))
    found_unit = None
    if unit:
        found_unit = units_in(scope).filter(code=unit).first()
        if found_unit is None:
            problems.append(Problem(f"unit {unit}", "unit", "no unit has this code", unit))
    if problems:
        raise DomainError(problems)
    alerts = alerts_in(scope).select_related("unit", "site", "person", "item__model")
    if kind:
        alerts = alerts.filter(kind=kind)
    if state == "active":
        alerts = alerts.filter(state__in=ACTIVE)
    elif state != "all":
        alerts = alerts.filter(state=state)
    if found_unit is not None:
        path = found_unit.path
        alerts = alerts.filter(
            Q(unit_path__startswith=path)
            | Q(site_path__startswith=path)
            | Q(person_path__startswith=path)
        )
    if person_id is not None:
        alerts = alerts.filter(person_id=person_id)
    if site:
        alerts = alerts.filter(site__code=site)
    return alerts.order_by("-raised_at", "-pk")
