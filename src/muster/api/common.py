"""What every handler needs: the caller, their scope and actor, and items named by serial
within that scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.http import HttpRequest

from muster.access.scope import Scope, scope_of, unseen_items
from muster.accounts.models import User
from muster.accounts.services import confirm_second_person
from muster.accounts.tokens import confirm_second_person_by_token
from muster.api.schemas import SecondPerson
from muster.armory.models import Item
from muster.armory.selectors import items_by_serials
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed, NotFound, Problem
from muster.core.reference import UNREAD


def user_of(request: HttpRequest) -> User:
    user: Any = getattr(request, "auth", None) or request.user
    return user


def scope(request: HttpRequest) -> Scope:
    """The caller's scope, worked out once per request."""
    found: Scope | None = getattr(request, "_muster_scope", None)
    if found is None:
        found = scope_of(user_of(request), stamp=getattr(request, "_muster_stamp", UNREAD))
        request._muster_scope = found  # type: ignore[attr-defined]
    return found


def actor(request: HttpRequest) -> Actor:
    return Actor.for_user(user_of(request))


def second_person(payload: SecondPerson) -> Actor | None:
    """The second person (two-person rule) named in the request, or None when none is named.

    They prove who they are with their own password (throttled like any sign-in:
    accounts.services.confirm_second_person) or with their own API token
    (accounts.tokens.confirm_second_person_by_token), never both."""
    record = "second person"
    if payload.second_token:
        if payload.second_username or payload.second_password:
            raise AuthenticationFailed.single(
                record, "second_token", "give a token or a username and password, not both"
            )
        return confirm_second_person_by_token(payload.second_token)
    if not payload.second_username:
        if payload.second_password:
            raise AuthenticationFailed.single(
                record, "second_username", "name the second person whose password this is"
            )
        return None
    try:
        return confirm_second_person(
            username=payload.second_username, password=payload.second_password or ""
        )
    except AuthenticationFailed as error:  # name the request's field
        raise AuthenticationFailed(
            [replace(p, field="second_password") for p in error.problems], code=error.code
        ) from None


def visible_items(scope_: Scope, serials: Sequence[str], model: str | None) -> list[Item]:
    """The items with these serials, each one the caller may see (else NotFound, as if the
    item did not exist)."""
    items = items_by_serials(list(serials), model)
    hidden = unseen_items(scope_, items)
    if hidden:
        raise NotFound(
            [
                Problem(f"item {i.serial}", "serial", "no item has this serial number")
                for i in hidden
            ]
        )
    return items
