"""The numbers of the dashboard (R10): readiness of what one scope sees, each region side by
side for those who see everything, readiness by unit, and firearms held day by day.

What a commander is shown is what the database holds when the page is made; the one
exception is marked on the page. Each number is read per request, or kept between requests
only while the journal shows that nothing it reads has changed (muster.web.kept): every
service writes its journal entry in the same transaction as its rows. The slow numbers are
kept current rather than counted again after each change:

- who is vetted and eligible for a firearm (the policy engine's pass over every active
  member: seconds at national scale) is counted once, then updated person by person from the
  journal's entries about them and, on a new day, for the members whose records make that
  day matter (muster.web.eligibility_counts): a qualification awarded or a volunteer
  suspended shows at the next request;
- the recalls (armory.selectors.recalls) likewise, item by item (muster.web.recall_counts),
  and qualifications expiring soon, person by person (tallies.ExpiringCounts).

Chosen over a periodic job because a figure a commander acts on must not lag the change they
just made. The exception: a change that can move everyone's eligibility at once (a policy
loaded, reference data changed outside the services) counts everyone again; for a scope of
eligibility_counts.BACKGROUND_FROM members or more (HQ's) that count runs in the background,
and until it is done the page shows the figures as they stood, marked "as of" that time,
never a number silently out of date. The eligible figure also says when everyone was last
decided in full (at least every ten minutes, against writes made outside the services; in the
background for large scopes). The first request of a process counts in the request.

For HQ and auditors the numbers come from one grouped query per number over the whole force
(muster.web.tallies), summed per region and per unit, instead of a dozen queries per region.

The alerts panel (muster.alerts.selectors.alert_panel) is read on every request, in one query
over the index of the alerts still to be dealt with: it is what someone must act on now, and
their own acknowledgement must show at once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from muster.access.scope import Scope
from muster.alerts.audience import sees_alerts
from muster.alerts.selectors import AlertPanel, alert_panel
from muster.armory.models import QuotaUsage
from muster.people.choices import UnitKind
from muster.people.models import Unit
from muster.web import eligibility_counts, recall_counts
from muster.web.eligibility_counts import UnitCounts, unit_counts
from muster.web.firearms_history import Day, firearms_by_day
from muster.web.kept import BOOKKEEPING, MAX_AGE, Kept, Marker, read_marker
from muster.web.readiness import (
    QUOTA_CATEGORY,
    Held,
    Readiness,
    UnitRow,
    chart_units,
    compute_readiness,
    held_in,
    limit_of,
    members,
    members_by_unit,
    next_due,
    open_counts,
    open_incidents,
    open_variances,
    region_scope,
    regions_of,
)
from muster.web.tallies import (
    EXPIRING_DAYS,
    PEOPLE_UNRELATED,
    ExpiringCounts,
    ItemTallies,
    PeopleTallies,
    Tallies,
    count_item_tallies,
    count_members,
    quota_limit,
    recalled_under,
    rolled_up,
)

__all__ = [
    "EXPIRING_DAYS", "MAX_AGE", "Dashboard", "Day", "Readiness", "UnitRow", "clear_cache",
    "compute_readiness", "dashboard_for", "firearms_by_day", "readiness", "readiness_by_unit",
    "region_scope", "regions_side_by_side",
]  # fmt: skip


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows, read under one marker."""

    readiness: Readiness
    regions: list[tuple[Unit, Readiness]]
    within: Unit | None
    """The unit the readiness chart's rows are within (None: the whole force, or several)."""
    units: list[UnitRow]
    days: list[Day]
    alerts: AlertPanel | None = None
    """The alerts the scope sees that are still to be dealt with (None: it acts on none)."""


class _Reading:
    """One request's reading: the marker, the eligibility counts, the quotas and (for those
    who see everything) the force's counts, each read once."""

    def __init__(self, scope: Scope, now: dt.datetime | None) -> None:
        self.scope = scope
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.marker = read_marker()
        self.counts = unit_counts(scope, self.now, self.marker)
        self._limits: dict[str, int | None] = {}
        self._tallies: Tallies | None = None
        self._held: Held | None = None
        self._regions: list[Unit] | None = None

    def limit(self, region: Unit) -> int | None:
        if region.jurisdiction not in self._limits:
            self._limits[region.jurisdiction] = quota_limit(region, self.today)
        return self._limits[region.jurisdiction]

    def limits(self, regions: list[Unit]) -> list[tuple[Unit, int | None]]:
        return [(region, self.limit(region)) for region in regions]

    def held(self) -> Held:
        """The items held by a person that the scope sees (kept: see _readiness)."""
        if self._held is None:
            scope = self.scope
            self._held = _HELD.get(scope, self.marker, self.now, lambda: (held_in(scope), None))
        return self._held

    def regions(self) -> list[Unit]:
        if self._regions is None:
            self._regions = regions_of(self.scope)
        return self._regions

    @property
    def tallies(self) -> Tallies:
        if self._tallies is None:
            self._tallies = _tallies(self.now, self.marker)
        return self._tallies


def _days(reading: _Reading) -> list[Day]:
    if reading.scope.everything:
        held = reading.tallies.held_under("")[1]
    else:
        held = sum(firearm for _, firearm, *_ in reading.held())
    return firearms_by_day(reading.scope, reading.now, held_now=held)


def dashboard_for(scope: Scope, now: dt.datetime | None = None, region: str = "") -> Dashboard:
    """The dashboard of a scope; `region` (a code) narrows HQ's chart to its battalions."""
    reading = _Reading(scope, now)
    within, units = _unit_rows(reading, region)
    return Dashboard(
        readiness=_readiness(reading),
        regions=_regions(reading),
        within=within,
        units=units,
        days=_DAYS.get(scope, reading.marker, reading.now, lambda: (_days(reading), None)),
        alerts=alert_panel(scope) if sees_alerts(scope) else None,
    )


def readiness(scope: Scope, now: dt.datetime | None = None) -> Readiness:
    return _readiness(_Reading(scope, now))


def regions_side_by_side(
    scope: Scope, now: dt.datetime | None = None
) -> list[tuple[Unit, Readiness]]:
    """One readiness per region, for those who see everything (HQ, auditors); none otherwise.
    The regions' numbers are sums over the whole force's counts, read once."""
    if not scope.everything:
        return []
    return _regions(_Reading(scope, now))


def readiness_by_unit(
    scope: Scope, now: dt.datetime | None = None, region: str = ""
) -> tuple[Unit | None, list[UnitRow]]:
    """The readiness chart's rows: for those who see everything, one per region, or one per
    battalion of `region` (its code) when given; for others, one per battalion they see (per
    company when they see one battalion or less). Returns the unit the rows are within."""
    return _unit_rows(_Reading(scope, now), region)


def _readiness(reading: _Reading) -> Readiness:
    scope, now, marker, counts = reading.scope, reading.now, reading.marker, reading.counts
    if scope.everything:
        regions = reading.limits(list(Unit.objects.filter(kind=UnitKind.REGION)))
        return _from_tallies(reading.tallies, counts, None, regions)
    # Each part kept while nothing it reads has changed: a qualification awarded changes none
    # of them (eligibility, recalls and expiring qualifications are kept current on their own).
    held = reading.held()
    ids = {pk for pk, *_ in held}
    control = _CONTROL.get(
        scope,
        marker,
        now,
        lambda: ((open_counts(scope), open_variances(scope), open_incidents(scope)), None),
    )
    used = QuotaUsage.objects.filter(
        region__in=reading.regions(), category__code=QUOTA_CATEGORY
    ).aggregate(total=Sum("issued"))["total"]
    vetted, eligible = counts.total()
    return Readiness(
        members=_SCOPE_MEMBERS.get(scope, marker, now, lambda: (members(scope), None)),
        vetted=vetted,
        eligible=eligible,
        firearms_issued=sum(firearm for _, firearm, *_ in held),
        quota_used=used or 0,
        quota_limit=limit_of(reading.limits(reading.regions())),
        items_issued=len(ids),
        expiring=_EXPIRING.in_scope(scope, now, marker),
        overdue=sum(due is not None and due < now for _, _, due, *_ in held),
        recalls=len(ids & recall_counts.recalled(now, marker)) if ids else 0,
        open_counts=control[0],
        open_variances=control[1],
        open_incidents=control[2],
        counted_at=counts.counted_at,
        stale_since=counts.stale_since,
    )


def _regions(reading: _Reading) -> list[tuple[Unit, Readiness]]:
    if not reading.scope.everything:
        return []
    return [
        (region, _from_tallies(reading.tallies, reading.counts, region, reading.limits([region])))
        for region in regions_of(reading.scope)
    ]


def _unit_rows(reading: _Reading, region: str) -> tuple[Unit | None, list[UnitRow]]:
    scope, counts = reading.scope, reading.counts
    members: Mapping[str, int]
    armed: Mapping[str, int]
    if scope.everything:
        within, units = chart_units(scope, region)
        members, armed = reading.tallies.people.members, reading.tallies.items.armed
    else:
        within, units, members = _UNITS.get(
            (scope, region),
            reading.marker,
            reading.now,
            lambda: ((*chart_units(scope, region), members_by_unit(scope)), None),
        )
        armed = rolled_up(
            Counter(
                path
                for _, firearm, _, path, holder in reading.held()
                if firearm and (path.startswith(scope.paths) or holder == scope.person_id)
            )
        )
    quotas = _quota_used() if any(u.kind == UnitKind.REGION for u in units) else {}
    rows = []
    for unit in units:
        vetted, eligible = counts.total(unit.path)
        region_row = unit.kind == UnitKind.REGION
        rows.append(
            UnitRow(
                unit=unit,
                members=members.get(unit.path, 0),
                vetted=vetted,
                eligible=eligible,
                armed=armed.get(unit.path, 0),
                quota_used=quotas.get(unit.pk, 0) if region_row else None,
                quota_limit=reading.limit(unit) if region_row else None,
            )
        )
    return within, rows


def _quota_used() -> dict[int, int]:
    return dict(
        QuotaUsage.objects.filter(category__code=QUOTA_CATEGORY).values_list("region_id", "issued")
    )


# --- the whole force's numbers, summed per region ----------------------------------------------


def _tallies(now: dt.datetime, marker: Marker) -> Tallies:
    people = PeopleTallies(
        members=_MEMBERS.get("force", marker, now, lambda: (count_members(), None)),
        expiring=_EXPIRING.under(now, marker),
    )
    items = _ITEM_TALLIES.get(
        "force", marker, now, lambda: (count_item_tallies(now), next_due(now))
    )
    return Tallies(people, items, recalled_under(recall_counts.recalled(now, marker)))


def _from_tallies(
    tallies: Tallies,
    counts: UnitCounts,
    region: Unit | None,
    limits: list[tuple[Unit, int | None]],
) -> Readiness:
    """The readiness of one region (None: of everything) from the force's counts."""
    path = region.path if region is not None else ""
    items, firearms, overdue_ = tallies.held_under(path)
    vetted, eligible = counts.total(path)
    return Readiness(
        members=tallies.people.members[path],
        vetted=vetted,
        eligible=eligible,
        firearms_issued=firearms,
        quota_used=sum(tallies.items.quota_used.get(r.pk, 0) for r, _ in limits),
        quota_limit=limit_of(limits),
        items_issued=items,
        expiring=tallies.people.expiring[path],
        overdue=overdue_,
        recalls=tallies.recalled[path],
        open_counts=tallies.items.open_counts[path],
        open_variances=tallies.items.open_variances[path],
        open_incidents=tallies.items.incidents[path],
        counted_at=counts.counted_at,
        stale_since=counts.stale_since,
    )


# What is kept, and the kinds of journal entries that leave it as it is. Members change only
# with the registry; what people hold, counts and incidents with anything but bookkeeping and
# vetting (a move changes whose an item is).
NOT_ITEMS = (*BOOKKEEPING, "qualification.")
_MEMBERS: Kept[Counter[str]] = Kept((*PEOPLE_UNRELATED, "qualification."))
_EXPIRING = ExpiringCounts()
_ITEM_TALLIES: Kept[ItemTallies] = Kept(NOT_ITEMS)
_SCOPE_MEMBERS: Kept[int] = Kept((*PEOPLE_UNRELATED, "qualification."))
_HELD: Kept[Held] = Kept(NOT_ITEMS)
_CONTROL: Kept[tuple[int, int, int]] = Kept(NOT_ITEMS)
_DAYS: Kept[list[Day]] = Kept(NOT_ITEMS)
_UNITS: Kept[tuple[Unit | None, list[Unit], Counter[str]]] = Kept(
    (*PEOPLE_UNRELATED, "qualification.")
)


def clear_cache() -> None:
    """Forget everything kept (tests, benchmarks)."""
    for kept in (_MEMBERS, _ITEM_TALLIES, _SCOPE_MEMBERS, _HELD, _CONTROL, _DAYS, _UNITS):
        kept.clear()
    _EXPIRING.clear()
    eligibility_counts.clear()
    recall_counts.clear()
