"""API tokens for scripts: made, listed and revoked by their owner, kept only as a hash.

A token reads `mst_<prefix>_<secret>`. The prefix (not secret) finds the row; the SHA-256 of
the whole token is compared in constant time. The secret is returned once, by `create_token`,
and is never stored nor journaled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from muster.access.scope import Forbidden
from muster.accounts.models import ApiToken, LoginState, User
from muster.core import rows
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed, NotFound, RegistryError
from muster.core.reference import STAMP_SQL
from muster.journal.services import Change, record_change

SCHEME = "mst"
# last_used_at is written at most this often per token, so that using a token stays a read.
TOUCH_EVERY = dt.timedelta(minutes=1)
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _prefix_of(raw: str) -> str | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1]


def user_for_token(raw: str) -> User | None:
    """The active user whose unrevoked token this is, else None; None too while the account
    is locked after failed sign-ins (the lock stops every way in)."""
    found = authenticate_token(raw)
    return found[0] if found is not None else None


def authenticate_token(raw: str) -> tuple[User, str | None] | None:
    """As `user_for_token`, with the reference stamp read in the same statement (for
    access.scope.scope_of). One prepared statement reads the token, its user, the lock and
    the stamp; the hash is compared in constant time; last_used_at moves at most once a
    minute."""
    prefix = _prefix_of(raw.strip())
    found = _token_row(prefix) if prefix else None
    token, user, lock, stamp = found if found is not None else (None, None, None, None)
    expected = token.hash if token is not None else _DUMMY_HASH
    matches = hmac.compare_digest(expected, hash_token(raw.strip()))
    if token is None or user is None or not matches or token.revoked_at is not None:
        return None
    now = timezone.now()
    if not user.is_active or (lock is not None and lock > now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_EVERY)
        ).update(last_used_at=now)
    return user, stamp


def _token_row(prefix: str) -> tuple[ApiToken, User, dt.datetime | None, str | None] | None:
    """The token with this prefix, its user, and when the user's sign-in lock ends (None
    without a lock row); the lock row is keyed by username (accounts.throttle)."""
    tokens, users = ApiToken._meta.db_table, User._meta.db_table
    states = LoginState._meta.db_table
    sql = (
        f"SELECT {rows.select_list(ApiToken)}, {rows.select_list(User)}, {STAMP_SQL}, "
        f"{rows.select_list(LoginState)} "
        f'FROM "{tokens}" JOIN "{users}" ON "{users}"."id" = "{tokens}"."user_id" '
        f'LEFT JOIN "{states}" ON "{states}"."username" = "{users}"."username" '
        f'WHERE "{tokens}"."prefix" = %s'
    )
    with rows.cursor() as cursor:
        cursor.execute(sql, [prefix])
        got = cursor.fetchone()
    if got is None:
        return None
    split = len(ApiToken._meta.concrete_fields)
    state_at = split + len(User._meta.concrete_fields)
    (token,) = rows.instances(ApiToken, [got[:split]])
    (user,) = rows.instances(User, [got[split:state_at]])
    stamp = got[state_at]
    state_at += 1
    state = rows.instances(LoginState, [got[state_at:]])[0] if got[state_at] is not None else None
    token._state.fields_cache["user"] = user
    return token, user, state.locked_until if state is not None else None, stamp


def confirm_second_person_by_token(raw: str) -> Actor:
    """The second person of a two-person action, proved by their own API token (a script
    acting for two people holds both tokens): the token must be theirs and in force, and
    their account active and not locked."""
    user = user_for_token(raw)
    if user is None:
        raise AuthenticationFailed.single(
            "second person", "second_token", "is not an API token in force of an active account"
        )
    return Actor.for_user(user)


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they stay as a record)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


@transaction.atomic
def create_token(*, actor: Actor, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`, made by that user: the row and the token itself, which is
    shown this once and never again."""
    record = f"token {name!r}"
    if actor.user_id != user.pk:
        raise Forbidden.single(record, "user", "a token is made only by its owner")
    name = name.strip()
    if not name:
        raise RegistryError.single(record, "name", "is required")
    if len(name) > 100:
        raise RegistryError.single(record, "name", "at most 100 characters")
    while True:
        prefix = secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    raw = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, hash=hash_token(raw))
    record_change(
        actor=actor,
        change=Change(
            "token.created",
            "token",
            token.pk,
            {"user": user.get_username(), "name": name, "prefix": prefix},
        ),
    )
    return token, raw


@transaction.atomic
def revoke_token(*, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens; anyone else's is not found. Once only."""
    record = f"token {token_id}"
    token = (
        ApiToken.objects.select_for_update()
        .filter(pk=token_id, user_id=actor.user_id)
        .select_related("user")
        .first()
        if actor.user_id is not None
        else None
    )
    if token is None:
        raise NotFound.single(record, "id", "no such token of yours", token_id)
    if token.revoked_at is not None:
        raise RegistryError.single(record, "revoked_at", "is already revoked")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_change(
        actor=actor,
        change=Change(
            "token.revoked",
            "token",
            token.pk,
            {"user": token.user.get_username(), "name": token.name, "prefix": token.prefix},
        ),
    )
    return token
