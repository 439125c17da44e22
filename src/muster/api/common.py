"""What every handler needs: the caller, their scope and actor, and the units, sites, people
and items a request names, found within that scope (else NotFound, as if they did not exist)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.http import HttpRequest

from muster.access.scope import (
    Scope,
    people_in,
    scope_of,
    sites_in,
    units_for,
    units_in,
    unseen_items,
    visible,
)
from muster.accounts.models import User
from muster.accounts.services import confirm_second_person
from muster.accounts.tokens import confirm_second_person_by_token
from muster.api.schemas import SecondPerson
from muster.armory.models import Item, Site
from muster.armory.selectors import items_by_serials
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed, NotFound, Problem
from muster.core.reference import UNREAD
from muster.people.models import Person, Unit

# What an ItemOut reads besides the item itself.
ITEM_RELATED = ("model__category", "site", "home_site", "transit_to")


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


def one_item(scope_: Scope, serial: str, model: str | None) -> Item:
    """The item with this serial (of `model`, where two models share it) the caller sees."""
    (item,) = visible_items(scope_, [serial], model)
    return item


def fresh_items(items: Sequence[Item]) -> list[Item]:
    """The items as they are now, ready for ItemOut, by model and serial."""
    return list(
        Item.objects.select_related(*ITEM_RELATED)
        .filter(pk__in=[i.pk for i in items])
        .order_by("model__code", "serial")
    )


def unit_by_code(scope_: Scope, code: str, field: str = "unit", *, to: str | None = None) -> Unit:
    """The unit with this code the caller sees, or (`to` an action) where their roles giving
    that action reach; else NotFound naming `field`."""
    units = units_in(scope_) if to is None else units_for(scope_, to)
    found = units.filter(code=code).first()
    if found is None:
        raise NotFound.single(f"unit {code}", field, "no unit has this code")
    return found


def site_by_code(scope_: Scope, code: str) -> Site:
    """The storage site with this code the caller sees (its unit with it)."""
    found = sites_in(scope_).select_related("unit").filter(code=code).first()
    if found is None:
        raise NotFound.single(f"site {code}", "site", "no storage site has this code")
    return found


def person_by_id(scope_: Scope, person_id: int) -> Person:
    """The person the caller sees (their unit with them)."""
    people = people_in(scope_, Person.objects.select_related("unit"))
    return visible(people, person_id, f"person {person_id}")
