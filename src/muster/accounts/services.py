"""Proving who is acting, for commands run outside the web application."""

from __future__ import annotations

import getpass
import os
from dataclasses import replace

from django.db import transaction

from muster.accounts.choices import Role
from muster.accounts.models import RoleGrant, User
from muster.accounts.throttle import check_password
from muster.accounts.totp import has_second_factor, require_code
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed, Problem, RegistryError
from muster.journal.services import Change, record_change
from muster.people.models import Unit


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
    user = check_password(username=username, password=password)
    if has_second_factor(user):
        code = getpass.getpass(f"One-time code for {username}: ") if interactive else None
        require_code(user, code)
    return Actor.for_user(user)


def authenticate_second_person(*, username: str, interactive: bool) -> Actor:
    """Check the second person's own password (two-person integrity): from
    MUSTER_SECOND_PASSWORD, else a prompt of its own; never the acting user's password."""
    record = f"second person {username}"
    password = os.environ.get("MUSTER_SECOND_PASSWORD")
    if password is None and interactive:
        password = getpass.getpass(f"Password for the second person, {username}: ")
    if not password:
        raise AuthenticationFailed.single(
            record, "password", "a password is required (prompt, or MUSTER_SECOND_PASSWORD)"
        )
    return confirm_second_person(username=username, password=password)


def confirm_second_person(*, username: str, password: str) -> Actor:
    """The second person of a two-person action, proved by their own password on the same
    screen or command: throttled like any sign-in, but without asking for their TOTP code."""
    record = f"second person {username}"
    if not password:
        raise AuthenticationFailed.single(record, "password", "a password is required")
    try:
        user = check_password(username=username, password=password)
    except AuthenticationFailed as error:
        raise type(error)(
            [replace(p, record=record) for p in error.problems], code=error.code
        ) from None
    # With a second factor, the password alone does not reset the failures in a row: only a
    # complete sign-in does, or else this path would lift the throttle on guessing codes.
    return Actor.for_user(user)


@transaction.atomic
def create_user(*, actor: Actor, username: str, password: str, email: str = "") -> User:
    """A new account; the password must pass Django's validators."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    record = f"user {username}"
    if User.objects.filter(username=username).exists():
        raise RegistryError.single(record, "username", "is taken")
    try:
        validate_password(password)
    except ValidationError as error:
        raise RegistryError(
            [Problem(record, "password", message) for message in error.messages]
        ) from None
    user = User.objects.create_user(username=username, password=password, email=email)
    record_change(
        actor=actor,
        change=Change("user.created", "user", username, {"username": username, "email": email}),
    )
    return user


@transaction.atomic
def grant_role(*, actor: Actor, username: str, role: str, unit: Unit | None) -> RoleGrant:
    """Let a user act in `role` over a unit subtree (everything when unit is None)."""
    record = f"user {username}"
    user = User.objects.filter(username=username).first()
    if user is None:
        raise RegistryError.single(record, "username", "no such user")
    if role not in Role.values:
        raise RegistryError.single(record, "role", f"must be one of {', '.join(Role.values)}", role)
    grant, created = RoleGrant.objects.get_or_create(user=user, role=role, unit=unit)
    if created:
        record_change(
            actor=actor,
            change=Change(
                "role.granted",
                "user",
                username,
                {"role": role, "unit": unit.code if unit else None},
            ),
        )
    return grant
