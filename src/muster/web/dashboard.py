"""The numbers of the dashboard (R10): readiness of what one scope sees, and of each region
side by side for those who see everything. Each is an aggregate query over the scope's
people, items and sites (muster.access.scope); eligibility is the policy engine's one pass."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from muster.access.scope import Scope, items_in, people_in, sites_in
from muster.armory.choices import CountStatus, IncidentStatus, Place
from muster.armory.models import Incident, InventoryCount, QuotaUsage, Variance
from muster.armory.selectors import recalls
from muster.core.errors import DomainError
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
    people = people_in(scope).filter(status=PersonStatus.ACTIVE)
    vetted = eligible = 0
    try:
        for _, facts, decisions in decisions_for_people(
            category=QUOTA_CATEGORY, moment=today, people=people, extra_types=(VETTING_CHECK,)
        ):
            vetted += is_vetted(facts, today)
            eligible += any(d.allowed for d in decisions)
    except DomainError:  # no policy in force for a jurisdiction: nobody can be eligible
        rows = people_with_facts(people, {VETTING_CHECK})
        return sum(is_vetted(fact, today) for _, fact in rows), None
    return vetted, eligible


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
    return sum(1 for recall in recalls(now) if recall.item.pk in seen)


def open_counts(scope: Scope) -> int:
    return InventoryCount.objects.filter(
        site__in=sites_in(scope).values("pk"), status=CountStatus.OPEN
    ).count()


def open_variances(scope: Scope) -> int:
    return Variance.objects.filter(
        count__site__in=sites_in(scope).values("pk"), resolution=""
    ).count()


def open_incidents(scope: Scope) -> int:
    incidents = Incident.objects.exclude(status=IncidentStatus.CLOSED)
    if not scope.everything:
        incidents = incidents.filter(
            Q(items__in=items_in(scope).values("pk")) | Q(people__in=people_in(scope).values("pk"))
        )
    return incidents.values("pk").distinct().count()


def readiness(scope: Scope, now: dt.datetime | None = None) -> Readiness:
    now = now or timezone.now()
    today = timezone.localdate(now)
    used, limit = quota(scope, today)
    counted = vetted_and_eligible(scope, today)
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
        recalls=recalls_in(scope, now),
        open_counts=open_counts(scope),
        open_variances=open_variances(scope),
        open_incidents=open_incidents(scope),
    )


def regions_side_by_side(
    scope: Scope, now: dt.datetime | None = None
) -> list[tuple[Unit, Readiness]]:
    """One readiness per region, for those who see everything (HQ, auditors); none otherwise."""
    if not scope.everything:
        return []
    return [(region, readiness(region_scope(region), now)) for region in regions_of(scope)]
