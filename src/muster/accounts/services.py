"""Proving who is acting, for commands run outside the web application."""

from __future__ import annotations

import getpass
import os

from django.contrib.auth import authenticate

from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed


def authenticate_actor(*, username: str | None, password: str | None, interactive: bool) -> Actor:
    """Check a username and password and return the actor to journal.

    The password comes from the argument, else MUSTER_PASSWORD, else a prompt when interactive:
    an actor is proved, never just named.
    """
    username = username or os.environ.get("MUSTER_USER")
    if not username:
        raise AuthenticationFailed.single(
            "acting user", "--user", "name the acting user with --user or MUSTER_USER"
        )
    if password is None:
        password = os.environ.get("MUSTER_PASSWORD")
    if password is None and interactive:
        password = getpass.getpass(f"Password for {username}: ")
    if not password:
        raise AuthenticationFailed.single(
            f"user {username}", "password", "a password is required (prompt, or MUSTER_PASSWORD)"
        )
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise AuthenticationFailed.single(
            f"user {username}", "password", "unknown user or wrong password"
        )
    return Actor.for_user(user)
