"""Units and accounts: creating units and reading one, users and their role grants, and the
caller's own API tokens.

Each handler narrows to the caller's scope (muster.access.scope) and calls the same service
the command line and the web application call (muster.people.services,
muster.accounts.services and muster.accounts.tokens)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import (
    Forbidden,
    Scope,
    reach_of,
    require,
    require_grantable,
    units_for,
    units_in,
)
from muster.accounts.choices import Role
from muster.accounts.models import ApiToken, RoleGrant, User
from muster.accounts.services import create_user, grant_role
from muster.accounts.tokens import create_token, revoke_token, tokens_of
from muster.api.common import actor, scope, unit_by_code, user_of
from muster.api.people import router as people_router
from muster.api.schemas import UnitOut, responses
from muster.core.errors import NotFound
from muster.people.choices import UnitKind
from muster.people.models import Unit
from muster.people.services import create_unit

router = Router(tags=["administration"])


# Units ----------------------------------------------------------------------------------------


class UnitIn(Schema):
    code: str = Field(min_length=1, max_length=40, examples=["R1-B4"])
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(max_length=16, description=", ".join(UnitKind.values))
    parent: str | None = Field(None, max_length=40, description="parent unit code (not a region)")
    jurisdiction: str = Field("", max_length=40, description="policy jurisdiction (regions)")


class UnitDetailOut(UnitOut):
    parent: str | None
    members: int

    @staticmethod
    def resolve_parent(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_members(obj: Any) -> int:
        return int(obj.people.count())


# POST /units shares its path with GET /units (muster.api.people): ninja serves a path from one
# router's view, so this operation is added to that router.
@people_router.post(
    "/units",
    response=responses(201, UnitDetailOut),
    summary="Create a unit",
    tags=["administration"],
)
def add_unit(request: HttpRequest, payload: UnitIn) -> Status[Unit]:
    """Add a unit under a parent the caller sees; a region (no parent) only by those who see
    everything."""
    the_scope = scope(request)
    require(the_scope, "units.change", f"unit {payload.code}")
    parent = (
        unit_by_code(the_scope, payload.parent, "parent", to="units.change")
        if payload.parent
        else None
    )
    if parent is None and reach_of(the_scope, "units.change") is not None:
        raise Forbidden.single(
            f"unit {payload.code}", "parent", "name a parent unit of yours: HQ creates regions"
        )
    unit = create_unit(
        actor=actor(request),
        code=payload.code,
        name=payload.name,
        kind=payload.kind,
        parent=parent,
        jurisdiction=payload.jurisdiction,
    )
    return Status(201, Unit.objects.select_related("parent").get(pk=unit.pk))


@router.get("/units/{code}", response=responses(200, UnitDetailOut), summary="One unit")
def unit_detail(request: HttpRequest, code: str) -> Unit:
    """One unit the caller sees, by its code, with its parent and head count."""
    return unit_by_code(scope(request), code)


# Accounts -------------------------------------------------------------------------------------


class UserIn(Schema):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(min_length=1, max_length=200, description="checked by the validators")
    email: str = Field("", max_length=254, pattern=r"^[^\s@]+@[^\s@]+$|^$")


class GrantIn(Schema):
    role: str = Field(max_length=32, description=", ".join(Role.values))
    unit: str | None = Field(None, max_length=40, description="unit code; none: everything")


class GrantOut(Schema):
    role: str
    unit: str | None
    granted_at: dt.datetime

    @staticmethod
    def resolve_unit(obj: Any) -> str | None:
        return obj.unit.code if obj.unit_id else None


class UserOut(Schema):
    id: int
    username: str
    email: str
    is_active: bool
    person_id: int | None
    grants: list[GrantOut] = Field(description="the grants the caller sees")

    @staticmethod
    def resolve_grants(obj: Any, context: dict[str, Any]) -> list[Any]:
        return list(_grants_seen(scope(context["request"])).filter(user=obj))


def _grants_seen(the_scope: Scope) -> QuerySet[RoleGrant]:
    """Every grant for those who see everything, else those on a unit of the scope."""
    grants = RoleGrant.objects.select_related("unit").order_by("role", "unit__path")
    if the_scope.everything:
        return grants
    return grants.filter(unit__in=units_in(the_scope).values("pk"))


@router.get("/users", response=responses(200, list[UserOut]), summary="Accounts and roles")
@paginate(LimitOffsetPagination)
def list_users(request: HttpRequest) -> QuerySet[User]:
    """Accounts and their role grants: every one for HQ staff and auditors; for a regional
    administrator, those holding a role in their region."""
    the_scope = scope(request)
    users = User.objects.order_by("username")
    if the_scope.everything:
        return users
    require(the_scope, "users.change", "users")
    region = RoleGrant.objects.filter(unit__in=units_for(the_scope, "users.change").values("pk"))
    return users.filter(pk__in=region.values("user_id"))


@router.post("/users", response=responses(201, UserOut), summary="Create an account")
def add_user(request: HttpRequest, payload: UserIn) -> Status[User]:
    """A new account with no role yet; the password must pass the password validators."""
    the_scope = scope(request)
    require(the_scope, "users.change", f"user {payload.username}")
    user = create_user(
        actor=actor(request),
        username=payload.username,
        password=payload.password,
        email=payload.email,
    )
    return Status(201, user)


@router.post("/users/{username}/roles", response=responses(200, UserOut), summary="Grant a role")
def add_grant(request: HttpRequest, username: str, payload: GrantIn) -> User:
    """Let a user act in a role over a unit subtree (no unit: everything, for HQ staff only).
    A regional administrator grants within their region, and never a role that sees
    everything; granting a role already held changes nothing."""
    the_scope = scope(request)
    record = f"user {username}"
    require(the_scope, "users.change", record)
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound.single(record, "username", "no such user", username)
    unit = unit_by_code(the_scope, payload.unit, to="users.change") if payload.unit else None
    require_grantable(the_scope, payload.role, unit, record)
    grant_role(actor=actor(request), username=username, role=payload.role, unit=unit)
    return user


# The caller's API tokens ----------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100, description="what the token is for")


class TokenCreatedOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never again")


@router.get(
    "/tokens", summary="Your API tokens", response=responses(200, list[TokenOut]), tags=["tokens"]
)
@paginate(LimitOffsetPagination)
def list_tokens(request: HttpRequest) -> QuerySet[ApiToken]:
    """The caller's own tokens, newest first, revoked ones included (never their secrets)."""
    return tokens_of(user_of(request))


@router.post(
    "/tokens",
    summary="Make an API token",
    response=responses(201, TokenCreatedOut),
    tags=["tokens"],
)
def add_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """Make a token for the caller, signed in with their session: the answer holds the token
    this once. A token cannot make another, so revoking a leaked one ends the leak."""
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        raise Forbidden.single(
            f"token {payload.name!r}",
            "Authorization",
            "a token is made from a signed-in session (or `muster token create`), not with "
            "another token",
        )
    token, raw = create_token(actor=actor(request), user=user_of(request), name=payload.name)
    fields = TokenOut.model_validate(token, from_attributes=True).model_dump()
    return Status(201, {**fields, "token": raw})


@router.post(
    "/tokens/{token_id}/revoke",
    summary="Revoke one of your API tokens",
    response=responses(200, TokenOut),
    tags=["tokens"],
)
def revoke_own_token(request: HttpRequest, token_id: int) -> ApiToken:
    """Revoke one of the caller's own tokens: it stops working at once (anyone else's: 404)."""
    return revoke_token(actor=actor(request), token_id=token_id)
