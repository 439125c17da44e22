"""Who sees an alert, who must act on it, and whom it is mailed to — all from access.scope.

Whose alert it is, per kind (the roles over the alert's units, as each role's grant reaches:
`Scope.grants`, the reach `reach_of`/`may_at` use; a vetting officer reaches their region):

| kind | must act |
|---|---|
| overdue, recall | armorers of the item's home site (by unit, or as its custodian), commanders of the holder's unit |
| count_overdue | armorers of the site |
| variance | armorers of the site, commanders of the site's unit |
| expiring | vetting officers and commanders of the person's unit |
| understaffed | commanders of the post's unit |

Those who must act see the alert on their dashboard and get it in their e-mail digest; they
acknowledge and resolve it. Everyone whose scope covers it sees it too (read-only): an alert
about a site for those who see the site (`sees_site`), about a person for those who see the
person's unit (`sees_person`), about a shift for those who see the post's unit; HQ staff and
auditors see every alert. A volunteer acts on none and sees none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from muster.access.scope import Forbidden, Scope, scope_of
from muster.accounts.choices import Role
from muster.accounts.models import User
from muster.alerts.choices import AlertKind
from muster.alerts.models import Alert

# Which unit of the alert each role acts over: "unit" (the alert's unit: the site's, the
# person's or the post's) or "person" (the unit of the person concerned, e.g. the holder).
MUST_ACT: dict[str, tuple[tuple[str, str], ...]] = {
    AlertKind.OVERDUE: ((Role.ARMORER, "unit"), (Role.COMMANDER, "person")),
    AlertKind.RECALL: ((Role.ARMORER, "unit"), (Role.COMMANDER, "person")),
    AlertKind.COUNT_OVERDUE: ((Role.ARMORER, "unit"),),
    AlertKind.VARIANCE: ((Role.ARMORER, "unit"), (Role.COMMANDER, "unit")),
    AlertKind.EXPIRING: ((Role.VETTING_OFFICER, "person"), (Role.COMMANDER, "person")),
    AlertKind.UNDERSTAFFED: ((Role.COMMANDER, "unit"),),
}
ACTING_ROLES = frozenset(role for pairs in MUST_ACT.values() for role, _ in pairs)


def _path(alert: Alert, which: str) -> str:
    return alert.unit_path if which == "unit" else alert.person_path


def _reaches(scope: Scope, role: str, path: str) -> bool:
    """A grant of `role` whose reach (None: everywhere) covers the unit at `path`."""
    return bool(path) and any(
        held == role and (reach is None or path.startswith(reach)) for held, reach in scope.grants
    )


def acts_on(scope: Scope, alert: Alert) -> bool:
    """Whether the scope's user is one of those who must act on `alert` (see MUST_ACT)."""
    for role, which in MUST_ACT.get(alert.kind, ()):
        if _reaches(scope, role, _path(alert, which)):
            return True
        if (
            role == Role.ARMORER
            and which == "unit"
            and alert.site_id in scope.kept_site_ids
            and Role.ARMORER in scope.roles
        ):
            return True
    return False


def require_to_act(scope: Scope, alert: Alert) -> None:
    """Refuse (Forbidden) an acknowledgement or resolution by someone who need not act."""
    if not acts_on(scope, alert):
        wanted = " or ".join(sorted({role for role, _ in MUST_ACT.get(alert.kind, ())}))
        raise Forbidden.single(
            f"alert {alert.pk}",
            "role",
            f"only those who must act on a {alert.kind} alert ({wanted} over its unit) "
            "acknowledge or resolve it",
        )


def _prefixes(field: str, paths: Iterable[str]) -> Q:
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in paths), Q(pk__in=[]))


def alerts_in(scope: Scope, alerts: QuerySet[Alert] | None = None) -> QuerySet[Alert]:
    """The alerts `scope` sees (see the module's docstring), as one filter on copied paths."""
    alerts = Alert.objects.all() if alerts is None else alerts
    if scope.everything:
        return alerts
    seen = (
        _prefixes("site_path", scope.site_paths)
        | _prefixes("person_path", scope.paths)
        | (
            Q(site_path="", person_path="")
            & _prefixes("unit_path", sorted({*scope.paths, *scope.site_paths}))
        )
    )
    if scope.kept_site_ids:
        seen |= Q(site_id__in=sorted(scope.kept_site_ids))
    return alerts.filter(seen)


def sees_alerts(scope: Scope) -> bool:
    """The alerts pages are for those whose scope reaches units or sites (not a volunteer's)."""
    return scope.everything or bool(scope.paths or scope.site_paths or scope.kept_site_ids)


def _ancestors(path: str) -> list[str]:
    """ "/1/5/9/" → "/1/", "/1/5/", "/1/5/9/"."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


class Recipients:
    """Every active user who holds a role that acts on some kind, with their scope, indexed by
    where each such grant reaches: who must act on an alert is a few dictionary lookups."""

    def __init__(self, users: Sequence[User] | None = None) -> None:
        if users is None:
            users = list(
                User.objects.filter(is_active=True, grants__role__in=ACTING_ROLES)
                .distinct()
                .order_by("pk")
            )
        self.users = {user.pk: user for user in users}
        self.scopes = {user.pk: scope_of(user) for user in users}
        self._by_reach: dict[tuple[str, str | None], set[int]] = defaultdict(set)
        self._keepers: dict[int, set[int]] = defaultdict(set)
        for pk, scope in self.scopes.items():
            for role, reach in scope.grants:
                self._by_reach[(role, reach)].add(pk)
            if Role.ARMORER in scope.roles:
                for site in scope.kept_site_ids:
                    self._keepers[site].add(pk)

    def of(self, alert: Alert) -> set[int]:
        """The ids of the users who must act on `alert` (as `acts_on` decides, by lookup)."""
        found: set[int] = set()
        for role, which in MUST_ACT.get(alert.kind, ()):
            path = _path(alert, which)
            if path:
                found |= self._by_reach.get((role, None), set())
                for above in _ancestors(path):
                    found |= self._by_reach.get((role, above), set())
            if role == Role.ARMORER and which == "unit" and alert.site_id is not None:
                found |= self._keepers.get(alert.site_id, set())
        return found
