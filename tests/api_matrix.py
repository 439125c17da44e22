"""Calling the API as a user, and walking a roles × endpoints matrix: each role's answer to
each call, asserted at once (every test of who may call what uses this)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from muster.accounts.models import User
from muster.accounts.tokens import create_token
from muster.core.actors import Actor

API = "/api/v1"
# The matrices' columns: one account per role, in two regions' worlds.
ROLES = ("hq", "auditor", "admin1", "commander", "vet", "armorer", "vol")

Call = tuple[str, str, str, Any]  # (name, method, path under /api/v1, body)


def token_for(username: str, name: str = "tests") -> str:
    user = User.objects.get(username=username)
    _, raw = create_token(actor=Actor.for_user(user), user=user, name=name)
    return raw


def client_for(username: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(username)}")


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    """GET, or POST as JSON (as multipart when the body carries an uploaded file)."""
    if method == "get":
        return client.get(f"{API}{path}")
    if isinstance(body, dict) and any(isinstance(v, SimpleUploadedFile) for v in body.values()):
        return client.post(f"{API}{path}", body)
    return client.post(f"{API}{path}", body or {}, "application/json")


def walk(
    username: str,
    calls: Iterable[Call],
    expected: Mapping[str, Sequence[int]],
    roles: Sequence[str] = ROLES,
) -> None:
    """Make every call as `username`, each rolled back so that all see the same world, and
    assert the statuses are the ones `expected` gives that role (its column)."""
    client = client_for(username)
    column = roles.index(username)
    got, wanted = {}, {}
    for name, method, path, body in calls:
        with transaction.atomic():
            response = send(client, method, path, body)
            transaction.set_rollback(True)
        got[name] = response.status_code
        wanted[name] = expected[name][column]
        if response.status_code >= 400:
            assert response.json()["code"] in {"invalid", "forbidden", "not_found"}, name
    assert got == wanted
