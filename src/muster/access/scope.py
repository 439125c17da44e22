"""What one user may see and do, from their role grants (DOMAIN, "Who uses it"):

| role | sees | may change |
|---|---|---|
| hq_staff | everything | policy, units, users |
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

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from muster.accounts.choices import Role
from muster.accounts.models import RoleGrant, User
from muster.armory.models import Incident, InventoryCount, Item, Site, SiteCustodian, Transfer
from muster.core.errors import DomainError, NotFound
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

    @property
    def read_only(self) -> bool:
        return not self.actions

    @property
    def actions(self) -> frozenset[str]:
        return frozenset().union(*(ACTIONS.get(role, frozenset()) for role in self.roles))

    def may(self, action: str) -> bool:
        return action in self.actions


NOBODY = Scope(None, frozenset(), False, (), (), frozenset(), None)


def scope_of(user: User | None) -> Scope:
    """The scope of `user` (nobody's for an anonymous or inactive user)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    grants = list(RoleGrant.objects.filter(user=user).select_related("unit"))
    roles = frozenset(g.role for g in grants)
    everything = any(g.role in (Role.HQ_STAFF, Role.AUDITOR) or g.unit is None for g in grants)
    people_paths = {
        _region_path(g.unit) if g.role == Role.VETTING_OFFICER else g.unit.path
        for g in grants
        if g.unit is not None and g.role != Role.VOLUNTEER
    }
    site_paths = {
        g.unit.path
        for g in grants
        if g.unit is not None and g.role in (Role.ARMORER, Role.REGIONAL_ADMIN, Role.COMMANDER)
    }
    kept = frozenset(SiteCustodian.objects.filter(user=user).values_list("site_id", flat=True))
    return Scope(
        user_id=user.pk,
        roles=roles,
        everything=everything,
        paths=_outermost(people_paths),
        site_paths=_outermost(site_paths),
        kept_site_ids=kept,
        person_id=user.person_id,
    )


def _region_path(unit: Unit) -> str:
    """The path of the region (top of the tree) `unit` is in."""
    top = unit.path.strip("/").split("/")[0]
    return f"/{top}/"


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """The paths not inside another one of them, sorted."""
    return tuple(sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths)))


def _under(field: str, paths: tuple[str, ...]) -> Q:
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in paths), Q(pk__in=[]))


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
    return people.filter(_under("unit__path", scope.paths) | mine)


def sites_in(scope: Scope, sites: QuerySet[Site] | None = None) -> QuerySet[Site]:
    """The storage sites `scope` may see: those of its subtrees, and those the user keeps."""
    sites = Site.objects.all() if sites is None else sites
    if scope.everything:
        return sites
    return sites.filter(_under("unit__path", scope.site_paths) | Q(pk__in=scope.kept_site_ids))


def items_in(scope: Scope, items: QuerySet[Item] | None = None) -> QuerySet[Item]:
    """The items `scope` may see: those whose home or present site it sees, and those held
    by people it sees (a volunteer sees what they hold)."""
    items = Item.objects.all() if items is None else items
    if scope.everything:
        return items
    sites = sites_in(scope).values("pk")
    return items.filter(
        Q(home_site__in=sites) | Q(site__in=sites) | Q(holder__in=people_in(scope).values("pk"))
    )


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


def require(scope: Scope, action: str, what: str) -> None:
    """Refuse (Forbidden) unless the scope's roles allow `action`."""
    if not scope.may(action):
        held = ", ".join(sorted(scope.roles)) or "no role"
        raise Forbidden.single(what, "role", f"{held} may not {action.replace('.', ' ')}")
