"""What a scope opens in the web application (used by the navigation and the pages)."""

from __future__ import annotations

from muster.access.scope import Scope, counts_in, sees_items, sees_people


def only_themselves(scope: Scope) -> bool:
    """A volunteer with no wider role: their own record is their home."""
    return scope.person_id is not None and not sees_people(scope) and not sees_items(scope)


IMPORT_ACTIONS = ("people.change", "vetting.change", "custody.change")


def may_import(scope: Scope) -> bool:
    """Imports write people, qualifications or items: for those who may change one of them."""
    return any(scope.may(action) for action in IMPORT_ACTIONS)


def counts_open_to(scope: Scope) -> bool:
    """Counts are for those who see sites, and for a counter assigned one (who may see no
    site otherwise)."""
    return sees_items(scope) or (scope.user_id is not None and counts_in(scope).exists())
