"""What if (R6): a draft policy evaluated against today's data, and what would change if it
took effect. Pure reads: nothing is written, nothing journaled; on PostgreSQL the reads run in
one REPEATABLE READ, READ ONLY transaction (when the caller is not already in one), so the
database refuses any write and every figure comes from the same snapshot.

The draft is compared with the policy in force in the draft's jurisdiction on `moment`
(default today; the records are as they are now), for the people, items and sites the caller
may see (everything for HQ staff and auditors), optionally within one region:

- eligibility, per target (a category, or category/class such as firearm/rifle), for every
  member who is not discharged: newly eligible, with the refusals of the policy in force that
  the draft lifts; newly ineligible, with the draft's refusals (the engine's own reasons).
  Only categories whose eligibility rules differ are evaluated: identical rules (and
  qualification classes) decide identically, so the national scale stays fast.
- recalls: issued items compliant now that would not be under the draft: the holder no longer
  eligible for the item's target, an assignment the draft no longer allows, a checkout longer
  than the draft's max_issue_hours, a category or class the draft does not have. Items already
  due back under the policy in force are `muster recalls`' business and are not listed.
- models: registered models the draft's legal_limits (or its classes) would refuse and the
  policy in force does not, with how many items of each the caller sees.
- sites: storage sites below the draft's storage.min_security for a category they store or
  have a capacity for (or whose level the draft does not list), or over a capacity once the
  recalled items come home; listed where the policy in force finds no such problem.
- quotas: per region and category with a quota in either policy: items issued now (held by
  volunteers, counted by their home site's region, as the issue flow counts them), the quota
  and headroom under each policy, and the draft's headroom once the recalls are back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from muster.access.scope import Scope, items_in, people_in, sites_in, units_in
from muster.armory.models import EquipmentModel, Item, SiteCapacity
from muster.core.errors import NotFound, PolicyError
from muster.people.choices import PersonStatus, UnitKind
from muster.people.models import Person, Unit
from muster.planning.checks import (
    ISSUE_FIELDS,
    compliance,
    decide,
    eligibility_changed,
    fields_differ,
    model_problems,
    quota,
    refusals,
    storage_problems,
)
from muster.planning.report import (
    EligibilityChange,
    ModelChange,
    QuotaLine,
    RecallChange,
    SimulationReport,
    SiteChange,
    TargetSummary,
)
from muster.policy.diff import diff_documents
from muster.policy.rules import Decision, PersonFacts, qualification_types_used, targets
from muster.policy.schema import PolicyDocument
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import people_with_facts


def simulate(
    *,
    draft: PolicyDocument,
    scope: Scope,
    moment: dt.date | None = None,
    region_code: str | None = None,
    seen_by: str = "",
) -> SimulationReport:
    """What would change if `draft` were in force on `moment`, for what `scope` sees (within
    one region when `region_code` is given); reads only (see the module docstring)."""
    moment = moment or timezone.localdate()
    with read_only_snapshot():
        return _Simulation(draft, scope, moment, region_code, seen_by).run()


@contextmanager
def read_only_snapshot() -> Iterator[None]:
    """On PostgreSQL, outside any transaction: one REPEATABLE READ, READ ONLY transaction, so
    that the database itself refuses a write and every read sees the same moment. Elsewhere
    (SQLite takes a write lock with every transaction; a caller's transaction is theirs) the
    reads run as they are."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class _Simulation:
    def __init__(
        self,
        draft: PolicyDocument,
        scope: Scope,
        moment: dt.date,
        region_code: str | None,
        seen_by: str,
    ) -> None:
        self.draft = draft
        self.scope = scope
        self.moment = moment
        try:
            self.current = policy_in_force(draft.jurisdiction, moment)
        except PolicyError:
            raise PolicyError.single(
                draft.ref,
                "jurisdiction",
                f"no policy of the jurisdiction {draft.jurisdiction} is in force on {moment} "
                "to compare the draft with",
                draft.jurisdiction,
            ) from None
        self.units = _UnitTree()
        self.unit_ids = self.units.in_jurisdiction(draft.jurisdiction)
        if not self.unit_ids:
            raise PolicyError.single(
                draft.ref,
                "jurisdiction",
                f"no unit falls under the jurisdiction {draft.jurisdiction}",
                draft.jurisdiction,
            )
        self.region: Unit | None = None
        if region_code:
            found = regions_in_scope(scope).filter(code=region_code).first()
            if found is None or found.pk not in self.unit_ids:
                raise NotFound.single(
                    f"region {region_code}",
                    "region",
                    f"no region of the jurisdiction {draft.jurisdiction} has this code",
                    region_code,
                )
            self.region = found
            self.unit_ids = {u for u in self.unit_ids if self.units.path[u].startswith(found.path)}
        self.report = SimulationReport(
            draft=draft.ref,
            draft_title=draft.title,
            current=self.current.ref,
            jurisdiction=draft.jurisdiction,
            moment=moment,
            produced_at=timezone.now(),
            seen_by=seen_by,
            region=region_code,
        )

    def run(self) -> SimulationReport:
        current, draft = self.current, self.draft
        self.report.rules = diff_documents(
            current.model_dump(mode="json"), draft.model_dump(mode="json")
        )
        codes = [*current.categories, *(c for c in draft.categories if c not in current.categories)]
        self.eligibility_codes = [c for c in codes if eligibility_changed(current, draft, c)]
        self.issue_codes = [
            c
            for c in codes
            if c in self.eligibility_codes or fields_differ(current, draft, c, ISSUE_FIELDS)
        ]
        self.report.evaluated_categories = self.eligibility_codes
        self.report.unchanged_categories = [c for c in codes if c not in self.eligibility_codes]
        self._people_and_recalls()
        self._models()
        self._sites()
        self._quotas()
        return self.report

    # --- people: eligibility and the items they hold ----------------------------------------

    def _people(self) -> QuerySet[Person]:
        people = Person.objects.all()
        if len(self.unit_ids) < len(self.units.path):
            people = people.filter(unit_id__in=sorted(self.unit_ids))
        return people_in(self.scope, people)

    def _people_and_recalls(self) -> None:
        current, draft, moment = self.current, self.draft, self.moment
        by_target: dict[str, TargetSummary] = {}
        plan: list[tuple[str, list[str]]] = []
        for code in self.eligibility_codes:
            names = list(
                dict.fromkeys(
                    [
                        *(targets(current, code) if code in current.categories else []),
                        *(targets(draft, code) if code in draft.categories else []),
                    ]
                )
            )
            plan.append((code, names))
            for name in names:
                by_target[name] = TargetSummary(name, code)
        types: set[str] = set()
        for code in self.eligibility_codes:
            for policy in (current, draft):
                if code in policy.categories:
                    types.update(qualification_types_used(policy, code))
        # A person whose status neither policy lets hold a category cannot change on it.
        statuses = {
            code: {
                status
                for policy in (current, draft)
                if code in policy.categories
                for status in policy.categories[code].eligible_statuses
            }
            for code in self.eligibility_codes
        }
        codes_ = list(self.eligibility_codes)
        # Deciding every target of a policy at once reads a person's records once; worth it
        # when most categories are evaluated anyway.
        whole = 2 * len(codes_) >= max(len(current.categories), len(draft.categories))
        now_all: dict[str, Decision] = {}
        then_all: dict[str, Decision] = {}
        people = self._people()
        held = self._held_items(people)
        members = 0
        for row, facts in people_with_facts(people, types):
            items = held.get(row.pk)
            if items:
                self._check_items(row.pk, facts, items)
            if facts.status == PersonStatus.DISCHARGED:
                continue
            members += 1
            if not plan:
                continue
            region = self.units.region_code(row.unit_path)
            status = facts.status
            codes = [code for code in codes_ if status in statuses[code]]
            if not codes:
                continue  # refused by status under both policies: nothing can change
            if whole:
                now_all = decide(facts, current, moment, None)
                then_all = decide(facts, draft, moment, None)
            for code, names in plan:
                if code not in codes:
                    continue
                if whole:
                    now, then = now_all, then_all
                else:
                    now = decide(facts, current, moment, code)
                    then = decide(facts, draft, moment, code)
                for name in names:
                    before, after = now.get(name), then.get(name)
                    ok_before = before is not None and before.allowed
                    ok_after = after is not None and after.allowed
                    summary = by_target[name]
                    summary.eligible_now += ok_before
                    summary.eligible_draft += ok_after
                    if ok_before == ok_after:
                        continue
                    if ok_after:
                        summary.newly_eligible += 1
                        reasons = refusals(before, current, name)
                    else:
                        summary.newly_ineligible += 1
                        reasons = refusals(after, draft, name)
                    self.report.changes.append(
                        EligibilityChange(
                            row.pk, row.national_id, row.name, row.unit_code, region, name,
                            "eligible" if ok_after else "ineligible", reasons,
                        )
                    )  # fmt: skip
        self.report.people = members
        self.report.targets = list(by_target.values())
        self.report.changes.sort(key=lambda c: (c.target, c.becomes, c.unit, c.national_id))
        self.report.recalls.sort(key=lambda r: (r.region, r.home_site, r.model, r.serial))

    def _held_items(self, people: QuerySet[Person]) -> dict[int, list[Item]]:
        """Items issued to the people seen, of the categories whose rules change."""
        if not self.issue_codes:
            return {}
        found: dict[int, list[Item]] = defaultdict(list)
        items = (
            Item.objects.filter(
                place="person",
                model__category__code__in=self.issue_codes,
                holder__in=people.values("pk"),
            )
            .select_related("model__category", "home_site__unit", "holder__unit")
            .order_by("pk")
        )
        for item in items:
            assert item.holder_id is not None
            found[item.holder_id].append(item)
        return found

    def _check_items(self, person_id: int, facts: PersonFacts, items: list[Item]) -> None:
        for item in items:
            code = item.model.category.code
            eligibility = code in self.eligibility_codes
            if compliance(self.current, facts, item, self.moment, eligibility):
                continue  # already due back under the policy in force
            reasons = compliance(self.draft, facts, item, self.moment, eligibility)
            if not reasons:
                continue
            holder = item.holder
            assert holder is not None
            self.report.recalls.append(
                RecallChange(
                    item.pk, item.serial, item.model.code, code, person_id, holder.national_id,
                    f"{holder.family_name} {holder.given_name}", holder.unit.code,
                    item.issue_kind, item.issued_at, item.due_at, item.home_site.code,
                    self.units.region_code(item.home_site.unit.path), reasons,
                )
            )  # fmt: skip

    # --- the catalogue, the sites, the quotas ------------------------------------------------

    def _models(self) -> None:
        changes = []
        for model in EquipmentModel.objects.select_related("category").order_by("code"):
            if model_problems(self.current, model):
                continue
            problems = model_problems(self.draft, model)
            if problems:
                changes.append((model, problems))
        if not changes:
            return
        items = items_in(self.scope).exclude(place="disposed")
        if self.region is not None:
            items = items.filter(home_site__unit__path__startswith=self.region.path)
        counts = dict(_tally(items.filter(model__in=[m.pk for m, _ in changes]), "model_id"))
        self.report.models = [
            ModelChange(
                m.code, m.name, m.category.code, m.legal_class, counts.get(m.pk, 0), tuple(p)
            )
            for m, p in changes
        ]

    def _sites(self) -> None:
        sites = list(
            sites_in(self.scope)
            .filter(unit_id__in=sorted(self.unit_ids))
            .select_related("unit")
            .order_by("code")
        )
        if not sites:
            return
        ids = [s.pk for s in sites]
        stored: Counter[tuple[int, str]] = Counter()
        for site_id, code, n in _tally(
            Item.objects.filter(place="site", site_id__in=ids), "site_id", "model__category__code"
        ):
            stored[(site_id, code)] = n
        capacity = {
            (site_id, code): n
            for site_id, code, n in SiteCapacity.objects.filter(site_id__in=ids).values_list(
                "site_id", "category__code", "max_items"
            )
        }
        returning = Counter((r.home_site, r.category) for r in self.report.recalls)
        codes_at: dict[str, set[str]] = defaultdict(set)
        by_id = {s.pk: s.code for s in sites}
        for site_id, code in [*stored, *capacity]:
            codes_at[by_id[site_id]].add(code)
        for site_code, code in returning:
            codes_at[site_code].add(code)
        for site in sites:
            codes = sorted(codes_at.get(site.code, ()))
            for code in codes:
                here = stored[(site.pk, code)]
                back = returning[(site.code, code)]
                limit = capacity.get((site.pk, code))
                now = storage_problems(self.current, site, code, here, 0, limit)
                then = storage_problems(self.draft, site, code, here, back, limit)
                new = tuple(
                    (rule, text) for kind, rule, text in then if kind not in {k for k, _, _ in now}
                )
                if new:
                    self.report.sites.append(
                        SiteChange(
                            site.code, site.name, site.unit.code, site.security_level, code,
                            here, back, limit, new,
                        )
                    )  # fmt: skip

    def _quotas(self) -> None:
        codes = [
            c
            for c in dict.fromkeys([*self.current.categories, *self.draft.categories])
            if quota(self.current, c) is not None or quota(self.draft, c) is not None
        ]
        if not codes:
            return
        regions = self._regions_seen()
        issued: Counter[tuple[int, str]] = Counter()
        for unit_id, code, n in _tally(
            Item.objects.filter(place="person", model__category__code__in=codes),
            "home_site__unit_id",
            "model__category__code",
        ):
            issued[(self.units.region_id(self.units.path[unit_id]), code)] += n
        recalled = Counter((r.region, r.category) for r in self.report.recalls)
        for region in regions:
            for code in codes:
                now, then = quota(self.current, code), quota(self.draft, code)
                out = issued[(region.pk, code)]
                back = recalled[(region.code, code)]
                self.report.quotas.append(
                    QuotaLine(
                        region.code, region.name, code, out,
                        now, None if now is None else now - out,
                        then, None if then is None else then - out,
                        back, None if then is None else then - out + back,
                    )
                )  # fmt: skip

    def _regions_seen(self) -> list[Unit]:
        regions = Unit.objects.filter(kind=UnitKind.REGION, pk__in=sorted(self.unit_ids))
        if not self.scope.everything:
            paths = units_in(self.scope).values_list("path", flat=True)
            seen = {self.units.region_id(p) for p in paths}
            regions = regions.filter(pk__in=sorted(seen))
        return list(regions.order_by("code"))


def _tally(items: QuerySet[Item], *fields: str) -> QuerySet[Any]:
    """(*fields, how many items) for each combination of `fields` among `items`."""
    return items.order_by().values(*fields).annotate(n=Count("pk")).values_list(*fields, "n")


class _UnitTree:
    """Every unit's path, kind and jurisdiction, read once."""

    def __init__(self) -> None:
        rows = list(Unit.objects.values_list("pk", "code", "kind", "path", "jurisdiction"))
        self.path = {pk: path for pk, _, _, path, _ in rows}
        self.code = {pk: code for pk, code, _, _, _ in rows}
        self.kind = {pk: kind for pk, _, kind, _, _ in rows}
        self.own = {pk: j for pk, _, _, _, j in rows}
        self._regions: dict[str, int] = {}

    def chain(self, path: str) -> list[int]:
        return [int(p) for p in path.strip("/").split("/") if p]

    def jurisdiction(self, pk: int) -> str:
        return next(
            (self.own[u] for u in reversed(self.chain(self.path[pk])) if self.own.get(u)), ""
        )

    def in_jurisdiction(self, jurisdiction: str) -> set[int]:
        return {pk for pk in self.path if self.jurisdiction(pk) == jurisdiction}

    def region_id(self, path: str) -> int:
        """The region on the path (its top unit when none is a region)."""
        found = self._regions.get(path)
        if found is None:
            chain = self.chain(path)
            found = next((u for u in chain if self.kind[u] == UnitKind.REGION), chain[0])
            self._regions[path] = found
        return found

    def region_code(self, path: str) -> str:
        return self.code[self.region_id(path)]


def regions_in_scope(scope: Scope) -> QuerySet[Unit]:
    """The regions a simulation may be narrowed to: those whose whole tree the caller sees."""
    return units_in(scope).filter(kind=UnitKind.REGION).order_by("code")
