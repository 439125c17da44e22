"""The numbers of the dashboard (R10): readiness of what one scope sees, and of each region
side by side for those who see everything. Each is an aggregate query over the scope's
people, items and sites (muster.access.scope); eligibility is the policy engine's one pass.

At national scale the eligibility pass alone takes seconds, so what is computed is kept in
this process while nothing it reads can have changed (`Kept`): the reference stamp
(muster.core.reference) and the journal's size say whether any write happened since, and the
kinds of the journal entries appended since say whether it could matter; every service writes
its journal entry in the same transaction as its rows. The date, the next due time of an item
out on a checkout and a ten-minute bound (for writes outside the services) end what is kept.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from django.db import connection
from django.db.models import Exists, Min, OuterRef, Sum
from django.utils import timezone

from muster.access.scope import Scope, incidents_in, items_in, people_in, sites_in
from muster.armory.choices import CountStatus, IncidentStatus, Place
from muster.armory.models import InventoryCount, Item, QuotaUsage, Variance
from muster.armory.selectors import recalls
from muster.core.errors import DomainError
from muster.core.reference import STAMP_SQL
from muster.journal.models import JournalEntry, JournalHead
from muster.people.choices import PersonStatus, UnitKind
from muster.people.models import Unit
from muster.policy.selectors import policy_in_force
from muster.vetting.models import Qualification
from muster.vetting.selectors import (
    VETTING_CHECK,
    decisions_for_people,
    is_vetted,
    people_with_facts,
)

EXPIRING_DAYS = 30
QUOTA_CATEGORY = "firearm"
MAX_AGE = dt.timedelta(minutes=10)

# Journal kinds that change no number of the dashboard: reading a record, accounts, the log.
BOOKKEEPING = ("person.viewed", "user.", "token.", "log.", "witness.", "journal.")
# ...and those that cannot change who is vetted or eligible: the armory's. Any other kind (a
# person registered, moved or suspended, a qualification awarded or revoked, a policy loaded,
# or a kind added later) makes the eligibility pass run again.
ARMORY = (
    "ammunition.", "category.", "count.", "custody.", "incident.", "lot.", "model.",
    "shipment.", "site.", "transfer.", "variance.",
)  # fmt: skip

T = TypeVar("T")


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

    @property
    def quota_share(self) -> float:
        return self.quota_used / self.quota_limit if self.quota_limit else 0.0


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


def vetted_and_eligible(scope: Scope, today: dt.date) -> tuple[int, int | None]:
    """Active members who are vetted (vetting.selectors.is_vetted), and those eligible for at
    least one kind of firearm today (None when no policy is in force), in one pass."""
    now = timezone.now()
    if timezone.localdate(now) != today:  # another day's numbers are not kept
        return count_by_unit(scope, today).total()
    return _eligibility(scope, now, read_marker()).total()


@dataclass(frozen=True)
class UnitCounts:
    """Vetted and eligible active members per unit path (eligible None: no policy in force)."""

    by_path: dict[str, tuple[int, int]]
    eligible_known: bool

    def total(self, under: str = "") -> tuple[int, int | None]:
        vetted = eligible = 0
        for path, (v, e) in self.by_path.items():
            if path.startswith(under):
                vetted += v
                eligible += e
        return vetted, eligible if self.eligible_known else None


def count_by_unit(scope: Scope, today: dt.date) -> UnitCounts:
    """The eligibility pass over the scope's active members, counted per unit."""
    people = people_in(scope).filter(status=PersonStatus.ACTIVE)
    counts: dict[str, list[int]] = {}
    try:
        for row, facts, decisions in decisions_for_people(
            category=QUOTA_CATEGORY, moment=today, people=people, extra_types=(VETTING_CHECK,)
        ):
            tally = counts.setdefault(row.unit_path, [0, 0])
            tally[0] += is_vetted(facts, today)
            tally[1] += any(d.allowed for d in decisions)
    except DomainError:  # no policy in force for a jurisdiction: nobody can be eligible
        counts = {}
        for row, fact in people_with_facts(people, {VETTING_CHECK}):
            counts.setdefault(row.unit_path, [0, 0])[0] += is_vetted(fact, today)
        return UnitCounts({p: (v, e) for p, (v, e) in counts.items()}, eligible_known=False)
    return UnitCounts({p: (v, e) for p, (v, e) in counts.items()}, eligible_known=True)


def _eligibility(scope: Scope, now: dt.datetime, marker: Marker) -> UnitCounts:
    today = timezone.localdate(now)
    return _ELIGIBILITY.get(
        _scope_key(scope), marker, now, lambda: (count_by_unit(scope, today), None)
    )


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
    limit = 0
    for region in regions:
        try:
            rule = policy_in_force(region.jurisdiction, today).categories.get(QUOTA_CATEGORY)
        except DomainError:
            return used or 0, None
        if rule is None or rule.quota is None:
            return used or 0, None
        limit += rule.quota.per_region
    return used or 0, limit or None


def expiring_qualifications(scope: Scope, today: dt.date, days: int = EXPIRING_DAYS) -> int:
    """Qualifications in force that lapse within `days` and have not been renewed."""
    renewed = Qualification.objects.filter(
        person=OuterRef("person"),
        qualification_type=OuterRef("qualification_type"),
        klass=OuterRef("klass"),
        obtained_on__gt=OuterRef("obtained_on"),
        revocation__isnull=True,
    )
    return (
        Qualification.objects.filter(
            person__in=people_in(scope).values("pk"),
            expires_on__gte=today,
            expires_on__lte=today + dt.timedelta(days=days),
            revocation__isnull=True,
        )
        .exclude(Exists(renewed))
        .count()
    )


def overdue(scope: Scope, now: dt.datetime) -> int:
    return items_in(scope).filter(place=Place.PERSON, due_at__lt=now).count()


def recalls_in(scope: Scope, now: dt.datetime) -> int:
    """Items the scope sees that must come back now (overdue, or the holder may no longer
    hold them)."""
    seen = set(items_in(scope).filter(place=Place.PERSON).values_list("pk", flat=True))
    if not seen:
        return 0
    return len(seen & _recalled(now, read_marker()))


def _recalled(now: dt.datetime, marker: Marker) -> frozenset[int]:
    """The ids of the items armory.selectors.recalls names at `now`."""
    return _RECALLS.get(
        "recalls",
        marker,
        now,
        lambda: (frozenset(r.item.pk for r in recalls(now)), next_due(now)),
    )


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


def readiness(scope: Scope, now: dt.datetime | None = None) -> Readiness:
    now = now or timezone.now()
    return _readiness(scope, now, read_marker())


def compute_readiness(
    scope: Scope,
    now: dt.datetime,
    marker: Marker,
    counts: UnitCounts | None = None,
    under: str = "",
) -> Readiness:
    """Every number, read now (the eligibility pass and the recalls as kept); `counts` and
    `under`: the vetted and eligible numbers are those of `counts` under that path."""
    today = timezone.localdate(now)
    used, limit = quota(scope, today)
    kept = counts if counts is not None else _eligibility(scope, now, marker)
    counted = kept.total(under)
    seen = set(items_in(scope).filter(place=Place.PERSON).values_list("pk", flat=True))
    return Readiness(
        members=members(scope),
        vetted=counted[0],
        eligible=counted[1],
        firearms_issued=items_issued(scope, QUOTA_CATEGORY),
        quota_used=used,
        quota_limit=limit,
        items_issued=items_issued(scope),
        expiring=expiring_qualifications(scope, today),
        overdue=overdue(scope, now),
        recalls=len(seen & _recalled(now, marker)) if seen else 0,
        open_counts=open_counts(scope),
        open_variances=open_variances(scope),
        open_incidents=open_incidents(scope),
    )


def _readiness(
    scope: Scope,
    now: dt.datetime,
    marker: Marker,
    counts: UnitCounts | None = None,
    under: str = "",
) -> Readiness:
    return _READINESS.get(
        scope,  # the whole scope: every number may come to depend on any part of it
        marker,
        now,
        lambda: (compute_readiness(scope, now, marker, counts, under), next_due(now)),
    )


def regions_side_by_side(
    scope: Scope, now: dt.datetime | None = None
) -> list[tuple[Unit, Readiness]]:
    """One readiness per region, for those who see everything (HQ, auditors); none otherwise.
    The regions' vetted and eligible numbers come from the one pass over everyone."""
    if not scope.everything:
        return []
    now = now or timezone.now()
    marker = read_marker()
    counts = _eligibility(scope, now, marker)
    return [
        (region, _readiness(region_scope(region), now, marker, counts, region.path))
        for region in regions_of(scope)
    ]


# --- kept while nothing they read has changed ----------------------------------------------


@dataclass(frozen=True)
class Marker:
    """Where the database stands: the reference stamp and the journal's size, read together."""

    alias: str
    stamp: str | None
    size: int


def read_marker() -> Marker:
    """The marker, in one statement (read before the data, so data is at least as new)."""
    head = JournalHead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {STAMP_SQL}, (SELECT size FROM "{head}" WHERE id = 1)')
        stamp, size = cursor.fetchone() or (None, None)
    return Marker(connection.alias, None if stamp is None else str(stamp), int(size or 0))


@dataclass(frozen=True)
class _Held(Generic[T]):
    value: T
    marker: Marker
    made_at: dt.datetime
    until: dt.datetime


class Kept(Generic[T]):
    """Values kept per key while the marker holds, or moved only by journal entries whose kinds
    start with one of `unrelated`; and until the date changes, `MAX_AGE` passes or the time
    the builder gave (a checkout falling due). Without a reference stamp nothing is kept."""

    def __init__(self, unrelated: tuple[str, ...]) -> None:
        self.unrelated = unrelated
        self._held: dict[Hashable, _Held[T]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        marker: Marker,
        now: dt.datetime,
        build: Callable[[], tuple[T, dt.datetime | None]],
    ) -> T:
        held = self._held.get(key)
        if held is not None and self._still(held, marker, now):
            if held.marker != marker:
                with self._lock:
                    self._held[key] = replace(held, marker=marker)
            return held.value
        value, until = build()
        if marker.stamp is not None:
            ends = now + MAX_AGE if until is None else min(until, now + MAX_AGE)
            with self._lock:
                self._held[key] = _Held(value, marker, now, ends)
        return value

    def _still(self, held: _Held[T], marker: Marker, now: dt.datetime) -> bool:
        if (held.marker.alias, held.marker.stamp) != (marker.alias, marker.stamp):
            return False
        if not held.made_at <= now <= held.until:
            return False
        if timezone.localdate(now) != timezone.localdate(held.made_at):
            return False
        if held.marker.size == marker.size:
            return True
        if held.marker.size > marker.size:
            return False
        kinds = kinds_between(held.marker.size, marker.size)
        return all(kind.startswith(self.unrelated) for kind in kinds)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


def kinds_between(start: int, end: int) -> frozenset[str]:
    """The kinds of the journal entries start..end-1 (one range read of the primary key)."""
    return frozenset(
        JournalEntry.objects.filter(seq__gte=start, seq__lt=end)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )


def _scope_key(scope: Scope) -> Hashable:
    """Scopes that see the same people share an eligibility pass."""
    if scope.everything:
        return ("everything",)
    return (scope.paths, scope.person_id)


_ELIGIBILITY: Kept[UnitCounts] = Kept(BOOKKEEPING + ARMORY)
_RECALLS: Kept[frozenset[int]] = Kept(BOOKKEEPING)
_READINESS: Kept[Readiness] = Kept(BOOKKEEPING)


def clear_cache() -> None:
    """Forget everything kept (tests, benchmarks)."""
    for kept in (_ELIGIBILITY, _RECALLS, _READINESS):
        kept.clear()
