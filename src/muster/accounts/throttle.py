"""Signing in with a password, throttled: every entry point (the web login, the CLI, the second
person's confirmation) goes through `check_password`, so all of them obey the same lock.

Invariants:
- LOGIN_MAX_FAILURES failures in a row lock the username for LOGIN_LOCK_MINUTES; a complete
  sign-in (password, and the code when the user has a second factor) resets the count;
- a locked username is refused with the same message whatever the password, and an unknown
  username is counted and locked like a real one, so neither reveals which accounts exist;
- each failure of a real account is journaled (`user.login_failed`), and so is the lock
  (`user.locked`), in the transaction that counts it; unknown usernames are not journaled.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from muster.accounts.models import LoginState, User
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed, Problem
from muster.journal.services import Change, record_change

SIGN_IN = Actor.system("sign-in")
WRONG = "unknown user or wrong password"


class AccountLocked(AuthenticationFailed):
    """Too many failed sign-ins in a row: refused until the lock ends, whatever the password."""

    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.code = "locked"


def _locked(username: str, until: dt.datetime) -> AccountLocked:
    error = AccountLocked([Problem(f"user {username}", "username", lock_rule(until))])
    error.until = until
    return error


def lock_rule(until: dt.datetime) -> str:
    return (
        "is locked after repeated failed sign-ins; "
        f"try again after {timezone.localtime(until):%Y-%m-%d %H:%M %Z}"
    )


def check_password(*, username: str, password: str) -> User:
    """The user whose password this is, else AuthenticationFailed (AccountLocked while locked).

    A user with a confirmed second factor is not yet signed in: the caller must then pass
    `check_code` (muster.accounts.totp), and the count is reset only when that succeeds.
    """
    from muster.accounts.totp import has_second_factor

    # The password hash (Argon2, ~0.2 s of CPU) is checked outside the row lock, so that
    # checks of one account (a second person confirming many issues) do not queue behind each
    # other; the count and the lock are then read again under the lock and decide.
    if locked_until(username) is not None:
        return _refuse_while_locked(username)
    user = User.objects.filter(username=username).first()
    if user is None:
        User().set_password(password)  # as long as a real check, so timing says nothing
        reason = "password"
    elif not user.check_password(password):
        reason = "password"
    elif not user.is_active:
        reason = "inactive"
    else:
        reason = ""
    with transaction.atomic():
        state = _state_for_update(username)
        if state.locked_until is not None and state.locked_until > timezone.now():
            refusal: AuthenticationFailed = _locked_attempt(user, state)
        elif reason:
            refusal = _fail(state, user, reason)
        else:
            assert user is not None
            if not has_second_factor(user):
                _reset(state)
            return user
    raise refusal


def _refuse_while_locked(username: str) -> User:
    """Refuse an attempt on a locked account (journaled for a real user), checking nothing."""
    with transaction.atomic():
        state = _state_for_update(username)
        refusal = _locked_attempt(User.objects.filter(username=username).first(), state)
    raise refusal


def _locked_attempt(user: User | None, state: LoginState) -> AuthenticationFailed:
    assert state.locked_until is not None
    if user is not None:
        _journal_failure(user, "locked", state)
    return _locked(state.username, state.locked_until)


def record_failure(*, user: User, reason: str) -> AuthenticationFailed:
    """Count a failure of `user`'s sign-in (a wrong code), lock if it is one too many, and
    return the error to raise (after this transaction commits)."""
    with transaction.atomic():
        state = _state_for_update(user.get_username())
        if state.locked_until is not None and state.locked_until > timezone.now():
            return _locked_attempt(user, state)
        return _fail(state, user, reason)


def record_success(*, user: User) -> None:
    """A complete sign-in: the failures in a row start again from zero."""
    with transaction.atomic():
        _reset(_state_for_update(user.get_username()))


def locked_until(username: str) -> dt.datetime | None:
    """When the lock on `username` ends, or None when it is not locked now."""
    until = (
        LoginState.objects.filter(username=username).values_list("locked_until", flat=True).first()
    )
    return until if until is not None and until > timezone.now() else None


def _state_for_update(username: str) -> LoginState:
    LoginState.objects.get_or_create(username=username)
    state = LoginState.objects.select_for_update().get(username=username)
    if state.locked_until is not None and state.locked_until <= timezone.now():
        # The lock has run out: the next attempt starts a fresh count.
        state.failures = 0
        state.locked_until = None
        state.save(update_fields=["failures", "locked_until"])
    return state


def _reset(state: LoginState) -> None:
    if state.failures or state.locked_until is not None:
        state.failures = 0
        state.locked_until = None
        state.save(update_fields=["failures", "locked_until"])


def _fail(state: LoginState, user: User | None, reason: str) -> AuthenticationFailed:
    """One more failure in a row; the lock when it reaches the limit. Returns the error."""
    now = timezone.now()
    state.failures += 1
    state.last_failure_at = now
    if state.failures >= settings.LOGIN_MAX_FAILURES:
        state.locked_until = now + dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    state.save(update_fields=["failures", "last_failure_at", "locked_until"])
    if user is not None:
        _journal_failure(user, reason, state)
        if state.locked_until is not None:
            record_change(
                actor=SIGN_IN,
                change=Change(
                    "user.locked",
                    "user",
                    user.get_username(),
                    {"until": state.locked_until.isoformat(), "failures": state.failures},
                ),
            )
    if state.locked_until is not None:
        return _locked(state.username, state.locked_until)
    record = f"user {state.username}"
    field = "code" if reason == "code" else "password"
    rule = "wrong or expired code" if reason == "code" else WRONG
    return AuthenticationFailed([Problem(record, field, rule)])


def _journal_failure(user: User, reason: str, state: LoginState) -> None:
    record_change(
        actor=SIGN_IN,
        change=Change(
            "user.login_failed",
            "user",
            user.get_username(),
            {"reason": reason, "failures": state.failures},
        ),
    )
