"""What one user may see and do, from their role grants (DOMAIN, "Who uses it"):

| role | sees | may change |
|---|---|---|
| hq_staff | everything | policy, units, users, people |
| auditor | everything | nothing |
| regional_admin | their region (the grant's unit subtree) | units, sites, users there |
| commander | their unit subtree | roster there |
| vetting_officer | the people of their region | qualifications, suspensions |
| armorer | their storage sites (sites of the grant's subtree, and sites they keep), the items of those sites, and the people of that subtree (to issue to) | custody at those sites |
| volunteer | themselves | nothing |

Every view, API handler and export asks this module, never the grants directly: `scope_of`
gives a user's `Scope`; the `*_in` functions narrow a queryset to it, and `require` refuses an
action the roles do not give (403). A record outside the scope is not found (404), so its
existence is not revealed. A grant on no unit covers everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from muster.accounts.choices import Role
from muster.accounts.models import User
from muster.armory.models import Incident, InventoryCount, Item, Site, Transfer
from muster.core import rows
from muster.core.errors import DomainError, NotFound
from muster.core.reference import STAMP_SQL, UNREAD
from muster.people.models import Person, Unit

M = TypeVar("M", bound=Model)

# What each role may do, beyond seeing its scope.
ACTIONS: dict[str, frozenset[str]] = {
    Role.HQ_STAFF: frozenset({"policy.change", "units.change", "users.change", "people.change"}),
    Role.AUDITOR: frozenset(),
    Role.REGIONAL_ADMIN: frozenset(
        {"units.change", "sites.change", "users.change", "people.change"}
    ),
    Role.COMMANDER: frozenset({"people.change", "custody.confirm"}),
    Role.VETTING_OFFICER: frozenset({"vetting.change", "people.suspend"}),
    Role.ARMORER: frozenset({"custody.change", "counts.change"}),
    Role.VOLUNTEER: frozenset(),
}


class Forbidden(DomainError):
    """The user's roles do not allow the action (HTTP 403)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.code = "forbidden"


@dataclass(frozen=True)
class Scope:
    """A user's reach. `paths` are the unit subtrees (by path prefix) whose people they see;
    `site_ids` the storage sites they see; `everything` for HQ staff and auditors."""

    user_id: int | None
    roles: frozenset[str]
    everything: bool
    paths: tuple[str, ...]
    site_paths: tuple[str, ...]
    kept_site_ids: frozenset[int]
    person_id: int | None
    # (role, the unit path its actions reach: None for everywhere), one per grant
    grants: tuple[tuple[str, str | None], ...] = ()

    @property
    def read_only(self) -> bool:
        return not self.actions

    @property
    def actions(self) -> frozenset[str]:
        return frozenset().union(*(ACTIONS.get(role, frozenset()) for role in self.roles))

    def may(self, action: str) -> bool:
        return action in self.actions


NOBODY = Scope(None, frozenset(), False, (), (), frozenset(), None)


def scope_of(user: User | None, *, stamp: str | None = UNREAD) -> Scope:
    """The scope of `user` (nobody's for an anonymous or inactive user), from the reference
    snapshot (role grants, units and custodians change rarely; see armory.reference): no
    query but the stamp's (none when the caller read it), and worked out once per user and
    snapshot."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    from muster.armory.reference import custody_reference

    reference = custody_reference(stamp=stamp)
    key = (user.pk, user.person_id)
    found = reference.scopes.get(key)
    if found is None:
        grants = [
            (role, None if unit_id is None else reference.unit(unit_id))
            for role, unit_id in reference.grants.get(user.pk, ())
        ]
        kept = frozenset(site for site, keeper in reference.custodians if keeper == user.pk)
        found = reference.scopes[key] = _scope(user.pk, user.person_id, grants, kept)
    return found


def _scope(
    user_id: int,
    person_id: int | None,
    grants: list[tuple[str, Unit | None]],
    kept: frozenset[int],
) -> Scope:
    roles = frozenset(role for role, _ in grants)
    everything = any(role in (Role.HQ_STAFF, Role.AUDITOR) or unit is None for role, unit in grants)
    reach = tuple(
        sorted(
            {
                (role, None if unit is None or role == Role.HQ_STAFF else _reach(role, unit))
                for role, unit in grants
            },
            key=lambda grant: (grant[0], grant[1] or ""),
        )
    )
    people_paths = {
        _reach(role, unit) for role, unit in grants if unit is not None and role != Role.VOLUNTEER
    }
    site_paths = {
        unit.path
        for role, unit in grants
        if unit is not None and role in (Role.ARMORER, Role.REGIONAL_ADMIN, Role.COMMANDER)
    }
    return Scope(
        user_id=user_id,
        roles=roles,
        everything=everything,
        paths=_outermost(people_paths),
        site_paths=_outermost(site_paths),
        kept_site_ids=kept,
        person_id=person_id,
        grants=reach,
    )


def _reach(role: str, unit: Unit) -> str:
    """The unit path a grant reaches: a vetting officer's whole region, else its unit's."""
    return _region_path(unit) if role == Role.VETTING_OFFICER else unit.path


def _region_path(unit: Unit) -> str:
    """The path of the region (top of the tree) `unit` is in."""
    top = unit.path.strip("/").split("/")[0]
    return f"/{top}/"


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """The paths not inside another one of them, sorted."""
    return tuple(sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths)))


def _under(field: str, paths: tuple[str, ...]) -> Q:
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in paths), Q(pk__in=[]))


def _within(path: str, paths: tuple[str, ...]) -> bool:
    return any(path.startswith(p) for p in paths)


def sees_person(scope: Scope, person_id: int, unit_path: str) -> bool:
    """`people_in`'s rule for one person whose unit's path is known (no query)."""
    return scope.everything or person_id == scope.person_id or _within(unit_path, scope.paths)


def sees_site(scope: Scope, site_id: int, unit_path: str) -> bool:
    """`sites_in`'s rule for one site whose unit's path is known (no query)."""
    return (
        scope.everything or site_id in scope.kept_site_ids or _within(unit_path, scope.site_paths)
    )


def units_in(scope: Scope, units: QuerySet[Unit] | None = None) -> QuerySet[Unit]:
    units = Unit.objects.all() if units is None else units
    if scope.everything:
        return units
    return units.filter(_under("path", tuple({*scope.paths, *scope.site_paths})))


def people_in(scope: Scope, people: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """The people `scope` may see: their unit subtrees, and themselves."""
    people = Person.objects.all() if people is None else people
    if scope.everything:
        return people
    mine = Q(pk=scope.person_id) if scope.person_id is not None else Q(pk__in=[])
    return people.filter(Q(unit_id__in=_units_under(scope.paths)) | mine)


def _units_under(paths: tuple[str, ...]) -> tuple[int, ...]:
    """The ids of the units of these subtrees, from the reference snapshot: a list of ids
    lets PostgreSQL combine its indexes (a join on the unit's path, OR-ed with another
    condition, made it read every row)."""
    from muster.armory.reference import custody_reference

    return custody_reference().unit_ids_under(paths) if paths else ()


def _site_ids(scope: Scope) -> tuple[int, ...]:
    from muster.armory.reference import custody_reference

    reference = custody_reference()
    units = reference.unit_ids_under(scope.site_paths) if scope.site_paths else ()
    return tuple(sorted({*reference.site_ids_of_units(units), *scope.kept_site_ids}))


def sites_in(scope: Scope, sites: QuerySet[Site] | None = None) -> QuerySet[Site]:
    """The storage sites `scope` may see: those of its subtrees, and those the user keeps."""
    sites = Site.objects.all() if sites is None else sites
    if scope.everything:
        return sites
    return sites.filter(pk__in=_site_ids(scope))


def items_in(scope: Scope, items: QuerySet[Item] | None = None) -> QuerySet[Item]:
    """The items `scope` may see: those whose home or present site it sees, and those held
    by people it sees (a volunteer sees what they hold)."""
    items = Item.objects.all() if items is None else items
    if scope.everything:
        return items
    sites = _site_ids(scope)
    return items.filter(
        Q(home_site_id__in=sites)
        | Q(site_id__in=sites)
        | Q(holder__in=people_in(scope).values("pk"))
    )


def unseen_items(scope: Scope, items: Sequence[Item]) -> list[Item]:
    """The items of `items` that `items_in` leaves out. Sites are judged by `sees_site` (their
    unit comes with them); holders, only for items no seen site accounts for, by one query."""
    if scope.everything:
        return []

    def site_seen(site: Site | None) -> bool:
        return site is not None and sees_site(scope, site.pk, site.unit.path)

    pending = [i for i in items if not (site_seen(i.home_site) or site_seen(i.site))]
    holders = {i.holder_id for i in pending if i.holder_id is not None}
    seen = (
        set(people_in(scope, Person.objects.filter(pk__in=holders)).values_list("pk", flat=True))
        if holders
        else set()
    )
    return [i for i in pending if i.holder_id not in seen]


def visible_person(scope: Scope, pk: int, what: str) -> Person:
    """The person `pk` if `scope` sees them (`sees_person`), else NotFound, as `visible` on
    `people_in` answers, in one prepared statement (their unit from the reference)."""
    from muster.armory.reference import custody_reference

    table = Person._meta.db_table
    with rows.cursor() as found:
        found.execute(
            f'SELECT {STAMP_SQL}, {rows.select_list(Person)} FROM "{table}" WHERE "id" = %s', [pk]
        )
        got = found.fetchall()
    if got:
        (person,) = rows.instances(Person, [got[0][1:]])
        reference = custody_reference(stamp=got[0][0])
        if person.unit_id not in reference.units:  # a unit made after the snapshot was read
            reference = custody_reference(fresh=True)
        unit = reference.unit(person.unit_id)
        if sees_person(scope, person.pk, unit.path):
            person._state.fields_cache["unit"] = unit
            return person
    raise NotFound.single(what, "id", "no such record", str(pk))


def counts_in(scope: Scope) -> QuerySet[InventoryCount]:
    """Counts of the sites the scope sees, and the counts its user is the counter of (an
    independent counter need not see the site otherwise)."""
    counts = InventoryCount.objects.all()
    if scope.everything:
        return counts
    mine = Q(counter_id=scope.user_id) if scope.user_id is not None else Q(pk__in=[])
    return counts.filter(Q(site__in=sites_in(scope).values("pk")) | mine)


def transfers_in(scope: Scope) -> QuerySet[Transfer]:
    """Transfers leaving or reaching a site the scope sees."""
    transfers = Transfer.objects.all()
    if scope.everything:
        return transfers
    sites = sites_in(scope).values("pk")
    return transfers.filter(Q(from_site__in=sites) | Q(to_site__in=sites))


def incidents_in(scope: Scope) -> QuerySet[Incident]:
    """Incidents concerning an item or a person the scope sees (one naming neither only for
    those who see everything)."""
    incidents = Incident.objects.all()
    if scope.everything:
        return incidents
    concerned = Incident.objects.filter(
        Q(items__in=items_in(scope).values("pk")) | Q(people__in=people_in(scope).values("pk"))
    ).values("pk")
    return incidents.filter(pk__in=concerned)


def visible(queryset: QuerySet[M], pk: object, what: str) -> M:
    """The record `pk` of `queryset` (already narrowed to `scope`), or NotFound: a record
    outside the scope is as if it did not exist."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound.single(what, "id", "no such record", str(pk))
    return found


def reach_of(scope: Scope, action: str) -> tuple[str, ...] | None:
    """The unit paths where the roles giving `action` reach (None: everywhere). A user who is
    an armorer in one battalion and a commander in another changes the roster only in the
    second."""
    paths = set()
    for role, path in scope.grants:
        if action in ACTIONS.get(role, frozenset()):
            if path is None:
                return None
            paths.add(path)
    return _outermost(paths)


def may_at(scope: Scope, action: str, unit_path: str) -> bool:
    reach = reach_of(scope, action)
    return reach is None or _within(unit_path, reach)


def units_for(scope: Scope, action: str) -> QuerySet[Unit]:
    """The units where the scope's roles give `action` (for choosing where to act)."""
    reach = reach_of(scope, action)
    units = Unit.objects.all()
    return units if reach is None else units.filter(_under("path", reach))


def require_at(scope: Scope, action: str, unit_path: str, what: str) -> None:
    """Refuse (Forbidden) unless a role giving `action` reaches the unit at `unit_path`."""
    require(scope, action, what)
    if not may_at(scope, action, unit_path):
        held = ", ".join(
            sorted(role for role, _ in scope.grants if action in ACTIONS.get(role, ()))
        )
        raise Forbidden.single(
            what, "unit", f"{held} may {action.replace('.', ' ')} only in their own units"
        )


AUDIT_ROLES = frozenset({Role.AUDITOR, Role.HQ_STAFF})


def sees_people(scope: Scope) -> bool:
    """The scope reaches some people beyond the user themselves (rosters, readiness)."""
    return scope.everything or bool(scope.paths)


def sees_items(scope: Scope) -> bool:
    """The scope reaches some storage sites (item lists, counts)."""
    return scope.everything or bool(scope.site_paths) or bool(scope.kept_site_ids)


def may_audit(scope: Scope) -> bool:
    """The log's checkpoints, cosignatures and proofs are for auditors and HQ staff."""
    return bool(scope.roles & AUDIT_ROLES)


def require_audit(scope: Scope) -> None:
    """Refuse (Forbidden) the auditor's views to everyone but auditors and HQ staff."""
    if not may_audit(scope):
        held = ", ".join(sorted(scope.roles)) or "no role"
        raise Forbidden.single("audit", "role", f"{held} may not open the auditor's page")


def require(scope: Scope, action: str, what: str) -> None:
    """Refuse (Forbidden) unless the scope's roles allow `action`."""
    if not scope.may(action):
        held = ", ".join(sorted(scope.roles)) or "no role"
        raise Forbidden.single(what, "role", f"{held} may not {action.replace('.', ' ')}")


def require_one_of(scope: Scope, actions: Sequence[str], what: str) -> None:
    """Refuse (Forbidden) unless the scope's roles allow one of `actions` (work that more
    than one role takes part in, the policy saying who of them may do what)."""
    if any(scope.may(action) for action in actions):
        return
    held = ", ".join(sorted(scope.roles)) or "no role"
    wanted = " or ".join(a.replace(".", " ") for a in actions)
    raise Forbidden.single(what, "role", f"{held} may not {wanted}")


def require_grantable(scope: Scope, role: str, unit: Unit | None, what: str) -> None:
    """Refuse (Forbidden) a grant of `role` over `unit` (None: everything) that would reach
    beyond the grantor's own `users.change`: one whose reach is only some units grants only on
    a unit of theirs, never a role that sees everything, and a vetting officer (who sees the
    whole region of the unit) only where that region is theirs."""
    reach = reach_of(scope, "users.change")
    if reach is None:
        return
    if unit is None:
        raise Forbidden.single(what, "unit", "name a unit of yours: only HQ grants everything")
    if role in (Role.HQ_STAFF, Role.AUDITOR):
        raise Forbidden.single(what, "role", f"{role} sees everything: only HQ grants it")
    if role == Role.VETTING_OFFICER and not _within(_region_path(unit), reach):
        raise Forbidden.single(
            what, "role", "a vetting officer sees the whole region: not yours to grant"
        )
