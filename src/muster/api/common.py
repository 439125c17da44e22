"""What every handler needs: the caller, their scope and actor, and items named by serial
within that scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.http import HttpRequest

from muster.access.scope import Scope, items_in, scope_of
from muster.accounts.models import User
from muster.accounts.services import confirm_second_person
from muster.armory.models import Item
from muster.armory.selectors import items_by_serials
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed, NotFound, Problem


def user_of(request: HttpRequest) -> User:
    user: Any = getattr(request, "auth", None) or request.user
    return user


def scope(request: HttpRequest) -> Scope:
    """The caller's scope, worked out once per request."""
    found: Scope | None = getattr(request, "_muster_scope", None)
    if found is None:
        found = scope_of(user_of(request))
        request._muster_scope = found  # type: ignore[attr-defined]
    return found


def actor(request: HttpRequest) -> Actor:
    return Actor.for_user(user_of(request))


def second_person(request: HttpRequest, username: str | None, password: str | None) -> Actor | None:
    """The second person (two-person rule), proved by their own password, or None when none is
    named: throttled like any sign-in (accounts.services.confirm_second_person)."""
    if not username:
        return None
    try:
        return confirm_second_person(username=username, password=password or "")
    except AuthenticationFailed as error:  # name the request's field
        raise AuthenticationFailed(
            [replace(p, field="second_password") for p in error.problems], code=error.code
        ) from None


def visible_items(scope_: Scope, serials: Sequence[str], model: str | None) -> list[Item]:
    """The items with these serials, each one the caller may see (else NotFound, as if the
    item did not exist)."""
    items = items_by_serials(list(serials), model)
    seen = set(
        items_in(scope_, Item.objects.filter(pk__in=[i.pk for i in items])).values_list(
            "pk", flat=True
        )
    )
    hidden = [i for i in items if i.pk not in seen]
    if hidden:
        raise NotFound(
            [
                Problem(f"item {i.serial}", "serial", "no item has this serial number")
                for i in hidden
            ]
        )
    return items
