"""One scope's readiness numbers (R10), each read from the database as muster.access.scope
narrows it, and the units the dashboard's readiness chart has a row for. The dashboard
(muster.web.dashboard) decides which of them it keeps between requests."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from muster.access.scope import Scope, incidents_in, items_in, people_in, sites_in
from muster.armory.choices import CountStatus, IncidentStatus, Place
from muster.armory.models import InventoryCount, Item, QuotaUsage, Variance
from muster.people.choices import PersonStatus, UnitKind
from muster.people.models import Unit
from muster.web import recall_counts
from muster.web.eligibility_counts import UnitCounts, unit_counts
from muster.web.kept import Marker
from muster.web.tallies import EXPIRING_DAYS, expiring_qualifications, quota_limit, rolled_up

QUOTA_CATEGORY = "firearm"


@dataclass(frozen=True)
class Readiness:
    """One scope's readiness: people, what they may hold and hold, and what needs attention."""

    members: int
    """Everyone not discharged."""
    vetted: int
    """Active members: through vetting."""
    eligible: int | None
    """Active members eligible for a firearm under the policy in force (None: no policy)."""
    firearms_issued: int
    quota_used: int
    quota_limit: int | None
    items_issued: int
    expiring: int
    overdue: int
    recalls: int
    open_counts: int
    open_variances: int
    open_incidents: int
    counted_at: dt.datetime | None = None
    """When every member's eligibility was last decided in full."""
    stale_since: dt.datetime | None = None
    """Set while the vetted and eligible numbers stand as they were then (a full count after
    a change that moves everyone runs in the background)."""

    @property
    def quota_share(self) -> float:
        return self.quota_used / self.quota_limit if self.quota_limit else 0.0


@dataclass(frozen=True)
class UnitRow:
    """One unit's bar of the readiness chart: members, vetted, eligible, firearms held by its
    people, and its quota (regions only: the policy sets quotas per region)."""

    unit: Unit
    members: int
    vetted: int
    eligible: int | None
    armed: int
    quota_used: int | None = None
    quota_limit: int | None = None


def chart_units(scope: Scope, region: str = "") -> tuple[Unit | None, list[Unit]]:
    """The units the readiness chart has a row for (see readiness_by_unit), in the order of
    their codes' numbers (B2 before B10)."""
    units = Unit.objects.all()
    if scope.everything:
        chosen = units.filter(kind=UnitKind.REGION, code=region).first() if region else None
        if chosen is None:
            return None, by_code(units.filter(kind=UnitKind.REGION))
        found = units.filter(kind=UnitKind.BATTALION, path__startswith=chosen.path)
        return chosen, by_code(found)
    tops = by_code(units.filter(path__in=scope.paths))
    under = reduce(or_, (Q(path__startswith=p) for p in scope.paths), Q(pk__in=[]))
    battalions = by_code(units.filter(under, kind=UnitKind.BATTALION))
    if len(battalions) > 1:
        return (tops[0] if len(tops) == 1 else None), battalions
    within = battalions[0] if battalions else (tops[0] if len(tops) == 1 else None)
    if within is None:
        return None, tops
    # One battalion (or less): the whole of it, then each unit directly under it.
    return within, [within, *by_code(units.filter(parent=within))]


def by_code(units: Iterable[Unit]) -> list[Unit]:
    """Units in the order of their codes, numbers compared as numbers."""
    return sorted(
        units,
        key=lambda u: [
            (0, int(t), "") if t.isdigit() else (1, 0, t) for t in _DIGITS.split(u.code)
        ],
    )


_DIGITS = re.compile(r"(\d+)")


def members_by_unit(scope: Scope) -> Counter[str]:
    """Members (not discharged) of the scope's people, under each unit path."""
    return rolled_up(
        Counter(
            dict(
                people_in(scope)
                .exclude(status=PersonStatus.DISCHARGED)
                .order_by()
                .values_list("unit__path")
                .annotate(n=Count("pk"))
            )
        )
    )


Held = tuple[tuple[int, bool, "dt.datetime | None", str, "int | None"], ...]
"""Items held by a person: (id, a firearm, due at, the holder's unit path, the holder)."""


def held_in(scope: Scope) -> Held:
    """The items held by a person that the scope sees, in one query."""
    rows = (
        items_in(scope)
        .filter(place=Place.PERSON)
        .values_list("pk", "model__category__code", "due_at", "holder__unit__path", "holder_id")
    )
    return tuple(
        (pk, code == QUOTA_CATEGORY, due, path or "", holder)
        for pk, code, due, path, holder in rows
    )


def region_scope(region: Unit) -> Scope:
    """The scope of everything in one region (people, sites and items below it)."""
    return Scope(
        user_id=None,
        roles=frozenset(),
        everything=False,
        paths=(region.path,),
        site_paths=(region.path,),
        kept_site_ids=frozenset(),
        person_id=None,
    )


def regions_of(scope: Scope) -> list[Unit]:
    """The regions a scope reaches into (all of them for HQ and auditors)."""
    regions = Unit.objects.filter(kind=UnitKind.REGION).order_by("code")
    if scope.everything:
        return list(regions)
    tops = {f"/{p.strip('/').split('/')[0]}/" for p in (*scope.paths, *scope.site_paths) if p}
    return list(regions.filter(path__in=tops))


def members(scope: Scope) -> int:
    return people_in(scope).exclude(status=PersonStatus.DISCHARGED).count()


def items_issued(scope: Scope, category: str | None = None) -> int:
    items = items_in(scope).filter(place=Place.PERSON)
    if category:
        items = items.filter(model__category__code=category)
    return items.count()


def quota(scope: Scope, today: dt.date) -> tuple[int, int | None]:
    """(firearms counted against the regional quotas, the sum of those quotas) over the
    regions the scope reaches into; no limit when a region's policy sets none."""
    regions = regions_of(scope)
    used = QuotaUsage.objects.filter(region__in=regions, category__code=QUOTA_CATEGORY).aggregate(
        total=Sum("issued")
    )["total"]
    return used or 0, limit_of([(region, quota_limit(region, today)) for region in regions])


def limit_of(limits: list[tuple[Unit, int | None]]) -> int | None:
    if any(limit is None for _, limit in limits):
        return None
    return sum(limit or 0 for _, limit in limits) or None


def expiring(scope: Scope, today: dt.date, days: int = EXPIRING_DAYS) -> int:
    """Qualifications in force that lapse within `days` and have not been renewed."""
    return (
        expiring_qualifications(today, days)
        .filter(person__in=people_in(scope).values("pk"))
        .count()
    )


def overdue(scope: Scope, now: dt.datetime) -> int:
    return items_in(scope).filter(place=Place.PERSON, due_at__lt=now).count()


def next_due(now: dt.datetime) -> dt.datetime | None:
    """The earliest time, from `now` on, an item out on a checkout falls due: until then no
    more items become overdue."""
    found: dt.datetime | None = Item.objects.filter(place=Place.PERSON, due_at__gte=now).aggregate(
        first=Min("due_at")
    )["first"]
    return found


def open_counts(scope: Scope) -> int:
    return InventoryCount.objects.filter(
        site__in=sites_in(scope).values("pk"), status=CountStatus.OPEN
    ).count()


def open_variances(scope: Scope) -> int:
    return Variance.objects.filter(
        count__site__in=sites_in(scope).values("pk"), resolution=""
    ).count()


def open_incidents(scope: Scope) -> int:
    return incidents_in(scope).exclude(status=IncidentStatus.CLOSED).count()


def compute_readiness(
    scope: Scope, now: dt.datetime, marker: Marker, counts: UnitCounts | None = None
) -> Readiness:
    """Every number of one scope, read now (vetted, eligible and recalls as kept current)."""
    today = timezone.localdate(now)
    used, limit = quota(scope, today)
    counts = counts if counts is not None else unit_counts(scope, now, marker)
    vetted, eligible = counts.total()
    seen = set(items_in(scope).filter(place=Place.PERSON).values_list("pk", flat=True))
    return Readiness(
        members=members(scope),
        vetted=vetted,
        eligible=eligible,
        firearms_issued=items_issued(scope, QUOTA_CATEGORY),
        quota_used=used,
        quota_limit=limit,
        items_issued=len(seen),
        expiring=expiring(scope, today),
        overdue=overdue(scope, now),
        recalls=len(seen & recall_counts.recalled(now, marker)) if seen else 0,
        open_counts=open_counts(scope),
        open_variances=open_variances(scope),
        open_incidents=open_incidents(scope),
        counted_at=counts.counted_at,
        stale_since=counts.stale_since,
    )
