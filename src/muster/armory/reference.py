"""What every custody operation looks up, read once and kept while the reference stamp holds:
units, sites, the catalogue, role grants, site custodians and the policy versions.

A `CustodyReference` is an immutable snapshot. It hands out fresh model instances (never its own
rows) so that callers may use and even change them freely; sites it builds remember the
snapshot, so the policy and authority checks on them ask the snapshot, not the database.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from muster.accounts.models import RoleGrant
from muster.armory.models import Category, EquipmentModel, Item, Site, SiteCustodian
from muster.core.reference import STAMP_SQL, UNREAD, StampedCache
from muster.core.rows import build, converted, cursor, instances, select_list
from muster.people.models import Unit
from muster.people.selectors import ancestor_ids, region_and_jurisdiction_in
from muster.policy.models import PolicyVersion
from muster.policy.schema import PolicyDocument
from muster.policy.selectors import (
    in_force_key,
    no_policy,
    parsed_document,
)

Row = tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class CustodyReference:
    units: dict[int, Row]
    sites: dict[int, Row]
    models: dict[int, Row]
    categories: dict[int, Row]
    grants: dict[int, tuple[tuple[str, int | None], ...]]
    custodians: frozenset[tuple[int, int]]
    # jurisdiction → (effective_from, loaded_at, pk, sha256), newest first
    policies: dict[str, tuple[tuple[dt.date, dt.datetime, int, str], ...]]
    # Worked out from the rows above on first use (a unit's place in the tree never changes
    # under one snapshot); filling them in from several threads is harmless.
    _contexts: dict[int, tuple[int, str]] = field(default_factory=dict)
    _ancestors: dict[int, tuple[int, ...]] = field(default_factory=dict)
    # access.scope's scopes, by (user id, person id), worked out on first use.
    scopes: dict[tuple[int, int | None], Any] = field(default_factory=dict)
    _under: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict)
    _sites_of: dict[tuple[int, ...], tuple[int, ...]] = field(default_factory=dict)

    # --- instances -------------------------------------------------------------------------

    def unit(self, pk: int) -> Unit:
        return build(Unit, self.units[pk])

    def site(self, pk: int) -> Site:
        site = build(Site, self.sites[pk])
        site._state.fields_cache["unit"] = self.unit(site.unit_id)
        site._muster_reference = self  # type: ignore[attr-defined]
        return site

    def model(self, pk: int) -> EquipmentModel:
        model = build(EquipmentModel, self.models[pk])
        model.attributes = copy.deepcopy(model.attributes)  # the snapshot's own stays as read
        model._state.fields_cache["category"] = build(Category, self.categories[model.category_id])
        return model

    # --- answers ---------------------------------------------------------------------------

    def region_and_jurisdiction(self, unit_id: int) -> tuple[Unit, str]:
        region_id, jurisdiction = self.context(unit_id)
        return self.unit(region_id), jurisdiction

    def context(self, unit_id: int) -> tuple[int, str]:
        """(region id, jurisdiction) of a unit, worked out once per unit and snapshot."""
        found = self._contexts.get(unit_id)
        if found is None:
            unit = self.unit(unit_id)
            chain = [self.unit(i) for i in self.ancestors(unit_id)]
            region, jurisdiction = region_and_jurisdiction_in(unit, chain)
            found = self._contexts[unit_id] = (region.pk, jurisdiction)
        return found

    def ancestors(self, unit_id: int) -> tuple[int, ...]:
        """The ids on the unit's path, root first, itself last."""
        found = self._ancestors.get(unit_id)
        if found is None:
            found = self._ancestors[unit_id] = tuple(ancestor_ids(self.unit(unit_id)))
        return found

    def roles_over(self, user_id: int | None, unit_id: int) -> set[str]:
        """As accounts.selectors.roles_over: grants on the unit, an ancestor, or everything."""
        if user_id is None:
            return set()
        chain = self.ancestors(unit_id)
        return {role for role, on in self.grants.get(user_id, ()) if on is None or on in chain}

    def unit_ids_under(self, paths: tuple[str, ...]) -> tuple[int, ...]:
        """The ids of the units whose path starts with one of `paths` (their subtrees)."""
        found = self._under.get(paths)
        if found is None:
            at = _PATH_AT
            found = tuple(sorted(pk for pk, row in self.units.items() if row[at].startswith(paths)))
            self._under[paths] = found
        return found

    def site_ids_of_units(self, unit_ids: tuple[int, ...]) -> tuple[int, ...]:
        """The ids of the storage sites of these units."""
        found = self._sites_of.get(unit_ids)
        if found is None:
            wanted, at = set(unit_ids), _SITE_UNIT_AT
            found = tuple(sorted(pk for pk, row in self.sites.items() if row[at] in wanted))
            self._sites_of[unit_ids] = found
        return found

    def is_custodian(self, user_id: int | None, site_id: int) -> bool:
        return user_id is not None and (site_id, user_id) in self.custodians

    def policy_in_force(self, jurisdiction: str, day: dt.date) -> PolicyDocument:
        """As policy.selectors.policy_in_force, from the snapshot's versions."""
        for effective_from, _, pk, sha256 in self.policies.get(jurisdiction, ()):
            if effective_from <= day:
                return parsed_document(pk, sha256)
        raise no_policy(jurisdiction, day)


def _column(model: type[Any], attname: str) -> int:
    return [f.attname for f in model._meta.concrete_fields].index(attname)


_PATH_AT = _column(Unit, "path")
_SITE_UNIT_AT = _column(Site, "unit_id")


def _rows(model: type[Any]) -> dict[int, Row]:
    """Every row of `model`'s table, converted as the ORM converts them, by primary key."""
    with connection.cursor() as found:
        found.execute(f'SELECT {select_list(model)} FROM "{model._meta.db_table}"')
        return {row[0]: tuple(row) for row in converted(model, found.fetchall())}


def _load() -> CustodyReference:
    grants: defaultdict[int, list[tuple[str, int | None]]] = defaultdict(list)
    for user_id, role, unit_id in RoleGrant.objects.order_by().values_list(
        "user_id", "role", "unit_id"
    ):
        grants[user_id].append((role, unit_id))
    versions: defaultdict[str, list[PolicyVersion]] = defaultdict(list)
    for version in PolicyVersion.objects.order_by().only(
        "pk", "jurisdiction", "effective_from", "loaded_at", "sha256"
    ):
        versions[version.jurisdiction].append(version)
    return CustodyReference(
        units=_rows(Unit),
        sites=_rows(Site),
        models=_rows(EquipmentModel),
        categories=_rows(Category),
        grants={user: tuple(held) for user, held in grants.items()},
        custodians=frozenset(SiteCustodian.objects.order_by().values_list("site_id", "user_id")),
        policies={
            jurisdiction: tuple(
                (v.effective_from, v.loaded_at, v.pk, v.sha256)
                for v in sorted(held, key=in_force_key, reverse=True)
            )
            for jurisdiction, held in versions.items()
        },
    )


_CACHE: StampedCache[CustodyReference] = StampedCache(_load)


def custody_reference(*, fresh: bool = False, stamp: str | None = UNREAD) -> CustodyReference:
    """The snapshot for this transaction: reads the stamp (unless given, as read by the
    caller), and loads again only when it changed, or with `fresh` (rows committed after the
    stamp was read refer to data newer than the snapshot)."""
    return _CACHE.get(fresh=fresh, stamp=stamp)


def reference_of(site: Site) -> CustodyReference:
    """The snapshot a site was built from, or the current one for a site read otherwise."""
    held: CustodyReference | None = getattr(site, "_muster_reference", None)
    return held if held is not None else custody_reference()


def sites_of(reference: CustodyReference, ids: Iterable[int | None]) -> dict[int, Site]:
    """One instance per site id (shared by the items of one operation)."""
    return {pk: reference.site(pk) for pk in set(ids) if pk is not None}


def with_reference(items: list[Item], *, stamp: str | None = UNREAD) -> list[Item]:
    """`items` with their model (and category) and sites taken from the snapshot of `stamp`
    (read now when not given), loaded again if an item names one registered after it."""
    reference = custody_reference(stamp=stamp)
    if any(
        i.model_id not in reference.models or i.home_site_id not in reference.sites for i in items
    ):
        reference = custody_reference(fresh=True)  # registered after this snapshot was read
    models = {pk: reference.model(pk) for pk in {i.model_id for i in items}}
    sites = sites_of(
        reference, [pk for i in items for pk in (i.site_id, i.home_site_id, i.transit_to_id)]
    )
    for item in items:
        cache = item._state.fields_cache
        cache["model"] = models[item.model_id]
        cache["home_site"] = sites[item.home_site_id]
        cache["site"] = sites.get(item.site_id)  # type: ignore[arg-type]
        cache["transit_to"] = sites.get(item.transit_to_id)  # type: ignore[arg-type]
    return items


def read_items(where: str, params: Sequence[Any]) -> list[Item]:
    """The items WHERE `where` (plain SQL over the item table), by id, each with its model
    and sites from the snapshot: one prepared statement, which also reads the stamp."""
    sql = (
        f'SELECT {STAMP_SQL}, {select_list(Item)} FROM "{Item._meta.db_table}" '
        f'WHERE {where} ORDER BY "id"'
    )
    with cursor() as found:
        found.execute(sql, list(params))
        got = found.fetchall()
    if not got:
        return []
    return with_reference(instances(Item, [row[1:] for row in got]), stamp=got[0][0])
