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
from muster.accounts.models import ApiToken, User
from muster.core.actors import Actor
from muster.core.errors import NotFound, RegistryError
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
    """The active user whose unrevoked token this is, else None.

    The hash is compared in constant time; last_used_at moves at most once a minute.
    """
    prefix = _prefix_of(raw.strip())
    token = (
        ApiToken.objects.select_related("user").filter(prefix=prefix).first() if prefix else None
    )
    expected = token.hash if token is not None else _DUMMY_HASH
    matches = hmac.compare_digest(expected, hash_token(raw.strip()))
    if token is None or not matches or token.revoked_at is not None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_EVERY)
        ).update(last_used_at=now)
    return token.user


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
