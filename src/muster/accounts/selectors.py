"""What a user may act as, over which part of the organisation."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from muster.accounts.models import RoleGrant, User
from muster.core.errors import NotFound, Problem
from muster.people.models import Unit


def roles_over(user_id: int | None, unit: Unit) -> set[str]:
    """Roles the user holds over `unit`: grants on the unit, on an ancestor, or on everything."""
    if user_id is None:
        return set()
    ancestors = [int(part) for part in unit.path.strip("/").split("/") if part]
    return set(
        RoleGrant.objects.filter(
            Q(unit__isnull=True) | Q(unit_id__in=ancestors), user_id=user_id
        ).values_list("role", flat=True)
    )


def users_by_username(usernames: Sequence[str]) -> list[User]:
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    missing = [name for name in usernames if name not in users]
    if missing:
        raise NotFound([Problem(f"user {name}", "username", "no such user") for name in missing])
    return [users[name] for name in usernames]
