"""What a scope opens in the web application (used by the navigation and the pages)."""

from __future__ import annotations

from muster.access.scope import Forbidden, Scope, counts_in
from muster.accounts.choices import Role

AUDIT_ROLES = frozenset({Role.AUDITOR, Role.HQ_STAFF})


def sees_people(scope: Scope) -> bool:
    return scope.everything or bool(scope.paths)


def sees_items(scope: Scope) -> bool:
    return scope.everything or bool(scope.site_paths) or bool(scope.kept_site_ids)


def only_themselves(scope: Scope) -> bool:
    """A volunteer with no wider role: their own record is their home."""
    return scope.person_id is not None and not sees_people(scope) and not sees_items(scope)


def may_audit(scope: Scope) -> bool:
    return bool(scope.roles & AUDIT_ROLES)


def require_audit(scope: Scope) -> None:
    """The auditor's page is for auditors and HQ staff (403 for everyone else)."""
    if not may_audit(scope):
        held = ", ".join(sorted(scope.roles)) or "no role"
        raise Forbidden.single("audit", "role", f"{held} may not open the auditor's page")


IMPORT_ACTIONS = ("people.change", "vetting.change", "custody.change")


def may_import(scope: Scope) -> bool:
    """Imports write people, qualifications or items: for those who may change one of them."""
    return any(scope.may(action) for action in IMPORT_ACTIONS)


def counts_open_to(scope: Scope) -> bool:
    """Counts are for those who see sites, and for a counter assigned one (who may see no
    site otherwise)."""
    return sees_items(scope) or (scope.user_id is not None and counts_in(scope).exists())
