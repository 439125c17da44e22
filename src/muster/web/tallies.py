"""The dashboard's numbers for the whole force, counted per unit in one grouped query each, so
that HQ's own readiness, every region's beside it and the chart of units below a region are
sums over the same counts (instead of a dozen queries per region).

A region's sums are exactly what muster.access.scope gives a scope of that region: its people
are those of the units under its path; an item is its own when its home site, the site it is
at or its holder is under the path; an incident when it names such an item or person.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from muster.access.scope import Scope
from muster.armory.choices import CountStatus, IncidentStatus, Place
from muster.armory.models import Incident, InventoryCount, Item, QuotaUsage, Variance
from muster.core.errors import DomainError
from muster.people.choices import PersonStatus
from muster.people.models import Person, Unit
from muster.policy.selectors import policy_in_force
from muster.vetting.models import Qualification
from muster.web.kept import (
    ARMORY,
    BOOKKEEPING,
    MAX_AGE,
    Marker,
    changes_between,
)

FIREARM = "firearm"
EXPIRING_DAYS = 30
EVALUATE_AT_ONCE = 1000
# Kinds that change no member and no qualification; and those that write reference data.
PEOPLE_UNRELATED = (*BOOKKEEPING, *ARMORY, "role.", "unit.created")
REFERENCE = ("unit.", "role.", "site.", "category.", "model.", "policy.")

Paths = frozenset[str]


@lru_cache(maxsize=65536)
def ancestors(path: str) -> tuple[str, ...]:
    """The path and every path above it, and "" (everything): "/1/5/" → "", "/1/", "/1/5/"."""
    parts = [p for p in path.split("/") if p]
    return ("", *("/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))))


def rolled_up(counter: Counter[str]) -> Counter[str]:
    """Counts per unit path → counts under each path (and "" for all): a sum is one lookup."""
    found: Counter[str] = Counter()
    for path, n in counter.items():
        for above in ancestors(path):
            found[above] += n
    return found


def rolled_up_rows(rows: Iterable[tuple[Paths, tuple[int, ...]]]) -> dict[str, tuple[int, ...]]:
    """Rows that belong to every unit above any of their paths, each counted once per unit."""
    found: dict[str, list[int]] = {}
    for paths, values in rows:
        for above in {"", *(a for path in paths for a in ancestors(path))}:
            tally = found.setdefault(above, [0] * len(values))
            for i, value in enumerate(values):
                tally[i] += value
    return {path: tuple(tally) for path, tally in found.items()}


@dataclass(frozen=True)
class PeopleTallies:
    """The counts that move only with the registry and vetting, under each unit path."""

    members: Counter[str]
    """Everyone not discharged."""
    expiring: Counter[str]
    """Qualifications lapsing soon, by their holder's unit."""


@dataclass(frozen=True)
class ItemTallies:
    """The counts that move with custody, counts, incidents and people's moves, under each
    unit path. An item is under a unit when its home site, its site or its holder is."""

    held: dict[str, tuple[int, ...]]
    """(items, firearms, overdue) held by a person."""
    armed: Counter[str]
    """Firearms held, by the holder's unit."""
    quota_used: dict[int, int]
    """Firearms counted against each region's quota, by region id."""
    open_counts: Counter[str]
    open_variances: Counter[str]
    incidents: Counter[str]
    """Open incidents naming an item or a person under the unit ("": every open one)."""


@dataclass(frozen=True)
class Tallies:
    """The force's counts, each under any unit path in one lookup ("" for the whole force)."""

    people: PeopleTallies
    items: ItemTallies
    recalled: Counter[str]
    """Items that must come back now."""

    def held_under(self, path: str) -> tuple[int, int, int]:
        """(items, firearms, overdue) held by a person, under `path`."""
        items, firearms, overdue = self.items.held.get(path, (0, 0, 0))
        return items, firearms, overdue


def count_members() -> Counter[str]:
    """Members (everyone not discharged) under each unit."""
    return rolled_up(
        _counter(
            Person.objects.exclude(status=PersonStatus.DISCHARGED)
            .order_by()
            .values_list("unit__path")
            .annotate(n=Count("pk"))
        )
    )


class ExpiringCounts:
    """Qualifications expiring soon under each unit, counted once a day and then kept current
    person by person: an entry about a person (a qualification awarded or revoked, a move)
    has that person's records counted again. Other changes count everything again, as in
    muster.web.eligibility_counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._day: dt.date | None = None
        self._marker: Marker | None = None
        self._made_at: dt.datetime | None = None
        self._people: dict[int, tuple[str, int]] = {}
        self._under: Counter[str] = Counter()

    def under(self, now: dt.datetime, marker: Marker) -> Counter[str]:
        with self._lock:
            if not self._catch_up(now, marker):
                self._count(now, marker)
            return Counter(self._under)

    def _count(self, now: dt.datetime, marker: Marker) -> None:
        self._day, self._marker, self._made_at = timezone.localdate(now), marker, now
        self._people, self._under = {}, Counter()
        self._put(self._rows(self._day, None))

    def _catch_up(self, now: dt.datetime, marker: Marker) -> bool:
        held, made_at = self._marker, self._made_at
        if held is None or made_at is None or timezone.localdate(now) != self._day:
            return False
        if not marker.same_journal(held) or not made_at <= now <= made_at + MAX_AGE:
            return False
        if marker.size == held.size:
            return marker.stamp == held.stamp
        changes = changes_between(held.size, marker.size)
        if not changes.only((*PEOPLE_UNRELATED, "person.", "qualification.")):
            return False
        if marker.stamp != held.stamp and not any(k.startswith(REFERENCE) for k in changes.kinds):
            return False
        if len(changes.people) > EVALUATE_AT_ONCE:
            return False
        if changes.people:
            for pk in changes.people:
                self._drop(pk)
            assert self._day is not None
            self._put(self._rows(self._day, changes.people))
        self._marker = marker
        return True

    @staticmethod
    def _rows(day: dt.date, people: frozenset[int] | None) -> list[tuple[int, str, int]]:
        found = expiring_qualifications(day)
        if people is not None:
            found = found.filter(person_id__in=people)
        return list(found.values_list("person_id", "person__unit__path").annotate(n=Count("pk")))

    def _put(self, rows: Iterable[tuple[int, str, int]]) -> None:
        for pk, path, n in rows:
            self._people[pk] = (path, n)
            for above in ancestors(path):
                self._under[above] += n

    def _drop(self, pk: int) -> None:
        old = self._people.pop(pk, None)
        if old is not None:
            for above in ancestors(old[0]):
                self._under[above] -= old[1]

    def in_scope(self, scope: Scope, now: dt.datetime, marker: Marker) -> int:
        """The qualifications expiring soon of the people a scope sees: those under its unit
        paths (disjoint), and the user's own record outside them."""
        under = self.under(now, marker)
        found = sum(under[path] for path in scope.paths)
        if scope.person_id is not None:
            with self._lock:
                path, n = self._people.get(scope.person_id, ("", 0))
            if not (path and path.startswith(scope.paths)):
                found += n
        return found

    def clear(self) -> None:
        with self._lock:
            self._day = self._marker = self._made_at = None


def count_item_tallies(now: dt.datetime) -> ItemTallies:
    """Items held (overdue at `now`), firearms held, quotas used, open counts, variances and
    incidents, under each unit."""
    held = (
        Item.objects.filter(place=Place.PERSON)
        .values_list("home_site__unit__path", "site__unit__path", "holder__unit__path")
        .annotate(
            n=Count("pk"),
            firearms=Count("pk", filter=Q(model__category__code=FIREARM)),
            overdue=Count("pk", filter=Q(due_at__lt=now)),
        )
        .order_by()
    )
    return ItemTallies(
        held=rolled_up_rows((_paths(h, s, p), (n, f, o)) for h, s, p, n, f, o in held),
        armed=rolled_up(
            _counter(
                Item.objects.filter(place=Place.PERSON, model__category__code=FIREARM)
                .order_by()
                .values_list("holder__unit__path")
                .annotate(n=Count("pk"))
            )
        ),
        quota_used=dict(
            QuotaUsage.objects.filter(category__code=FIREARM).values_list("region_id", "issued")
        ),
        open_counts=rolled_up(
            _counter(
                InventoryCount.objects.filter(status=CountStatus.OPEN)
                .order_by()
                .values_list("site__unit__path")
                .annotate(n=Count("pk"))
            )
        ),
        open_variances=rolled_up(
            _counter(
                Variance.objects.filter(resolution="")
                .order_by()
                .values_list("count__site__unit__path")
                .annotate(n=Count("pk"))
            )
        ),
        incidents=Counter(
            {path: n for path, (n,) in rolled_up_rows((p, (1,)) for p in _incidents()).items()}
        ),
    )


def recalled_under(ids: Iterable[int]) -> Counter[str]:
    """How many of the items `ids` held by a person are under each unit."""
    ids = list(ids)
    if not ids:
        return Counter()
    rows = Item.objects.filter(place=Place.PERSON, pk__in=ids).values_list(
        "home_site__unit__path", "site__unit__path", "holder__unit__path"
    )
    rolled = rolled_up_rows((_paths(*row), (1,)) for row in rows)
    return Counter({path: n for path, (n,) in rolled.items()})


def expiring_qualifications(today: dt.date, days: int = EXPIRING_DAYS) -> QuerySet[Qualification]:
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
            expires_on__gte=today,
            expires_on__lte=today + dt.timedelta(days=days),
            revocation__isnull=True,
        )
        .exclude(Exists(renewed))
        .order_by()
    )


def quota_limit(region: Unit, today: dt.date) -> int | None:
    """The region's firearms quota under its policy in force (None: no policy or no quota)."""
    try:
        rule = policy_in_force(region.jurisdiction, today).categories.get(FIREARM)
    except DomainError:
        return None
    if rule is None or rule.quota is None:
        return None
    return rule.quota.per_region


def _counter(rows: Iterable[tuple[str | None, int]]) -> Counter[str]:
    found: Counter[str] = Counter()
    for path, n in rows:
        found[path or ""] += n
    return found


def _paths(*found: str | None) -> Paths:
    return frozenset(p for p in found if p)


def _incidents() -> tuple[Paths, ...]:
    open_ = Incident.objects.exclude(status=IncidentStatus.CLOSED)
    found: dict[int, set[str]] = {pk: set() for pk in open_.values_list("pk", flat=True)}
    if not found:
        return ()
    items = Incident.items.through.objects.filter(incident_id__in=found).values_list(
        "incident_id",
        "item__home_site__unit__path",
        "item__site__unit__path",
        "item__holder__unit__path",
    )
    for pk, *paths in items:
        found[pk].update(p for p in paths if p)
    people = Incident.people.through.objects.filter(incident_id__in=found).values_list(
        "incident_id", "person__unit__path"
    )
    for pk, path in people:
        found[pk].add(path)
    return tuple(frozenset(paths) for _, paths in sorted(found.items()))
