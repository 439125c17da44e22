"""Signing in: the throttle that locks an account after repeated failures, the login page, and
the optional TOTP second factor, through every entry point (web, CLI, second person)."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from muster.accounts.models import LoginState, TotpDevice, User
from muster.accounts.services import (
    authenticate_actor,
    authenticate_second_person,
    confirm_second_person,
    grant_role,
)
from muster.accounts.throttle import AccountLocked, check_password
from muster.accounts.totp import confirm_enrolment, current_code, has_second_factor
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed
from muster.journal.models import JournalEntry

PASSWORD = "correct horse battery staple"
WRONG = "not the password"
LIMIT = 3


@pytest.fixture(autouse=True)
def _throttle(settings):
    settings.LOGIN_MAX_FAILURES = LIMIT
    settings.LOGIN_LOCK_MINUTES = 15


@pytest.fixture
def anna(db):
    return User.objects.create_user(username="anna", password=PASSWORD)


@pytest.fixture
def armorer(org, actor):
    user = User.objects.create_user(username="armorer", password=PASSWORD)
    grant_role(actor=actor, username="armorer", role="armorer", unit=org["battalion"])
    return user


def entries(kind, subject="anna"):
    return [
        json.loads(e.body)
        for e in JournalEntry.objects.filter(kind=kind, subject_id=subject).order_by("seq")
    ]


def fail(username="anna", password=WRONG):
    with pytest.raises(AuthenticationFailed) as caught:
        check_password(username=username, password=password)
    return caught.value


def lock_message(error):
    return [str(p) for p in error.problems]


# --- the throttle -------------------------------------------------------------------------------


def test_account_locks_after_max_failures_and_every_failure_is_journaled(anna):
    errors = [fail() for _ in range(LIMIT)]

    assert [type(e) for e in errors] == [AuthenticationFailed] * (LIMIT - 1) + [AccountLocked]
    assert "is locked" in str(errors[-1]) and "try again after" in str(errors[-1])
    failed = entries("user.login_failed")
    assert [e["data"] for e in failed] == [
        {"reason": "password", "failures": n} for n in range(1, LIMIT + 1)
    ]
    (locked,) = entries("user.locked")
    until = LoginState.objects.get(username="anna").locked_until
    assert locked["data"] == {"until": until.isoformat(), "failures": LIMIT}
    assert until - timezone.now() > dt.timedelta(minutes=14)


def test_locked_account_is_refused_with_the_right_password_and_the_same_message(anna):
    for _ in range(LIMIT):
        fail()

    right = fail(password=PASSWORD)
    wrong = fail(password=WRONG)

    assert isinstance(right, AccountLocked) and isinstance(wrong, AccountLocked)
    assert lock_message(right) == lock_message(wrong)
    assert [e["data"]["reason"] for e in entries("user.login_failed")][-2:] == ["locked", "locked"]
    assert len(entries("user.locked")) == 1  # attempts during the lock do not extend it


def test_an_account_locked_while_its_password_was_checked_is_refused(anna, monkeypatch):
    """The hash is checked outside the row lock (so checks do not queue); failures elsewhere
    that lock the account meanwhile still refuse the right password."""
    checking = User.check_password
    meanwhile = [True]

    def others_fail_meanwhile(user, raw):
        right = checking(user, raw)
        if meanwhile.pop() if meanwhile else False:
            for _ in range(LIMIT):
                fail()  # someone guessing at the same time locks the account
        return right

    monkeypatch.setattr(User, "check_password", others_fail_meanwhile)
    refused = fail(password=PASSWORD)

    assert isinstance(refused, AccountLocked)
    assert entries("user.login_failed")[-1]["data"]["reason"] == "locked"


def test_lock_ends_after_its_time(anna):
    for _ in range(LIMIT):
        fail()
    LoginState.objects.filter(username="anna").update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )

    assert check_password(username="anna", password=PASSWORD) == anna
    state = LoginState.objects.get(username="anna")
    assert (state.failures, state.locked_until) == (0, None)


def test_a_wrong_password_after_the_lock_ends_starts_a_fresh_count(anna):
    for _ in range(LIMIT):
        fail()
    LoginState.objects.filter(username="anna").update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )

    assert not isinstance(fail(), AccountLocked)
    assert LoginState.objects.get(username="anna").failures == 1


def test_success_resets_the_count(anna):
    for _ in range(LIMIT - 1):
        fail()
    check_password(username="anna", password=PASSWORD)
    for _ in range(LIMIT - 1):
        assert not isinstance(fail(), AccountLocked)

    assert LoginState.objects.get(username="anna").failures == LIMIT - 1


def test_unknown_username_is_locked_alike_and_nothing_is_journaled(anna):
    before = JournalEntry.objects.count()
    errors = [fail(username="ghost") for _ in range(LIMIT + 1)]

    assert JournalEntry.objects.count() == before
    assert str(errors[0]) == "user ghost, password: unknown user or wrong password"
    assert str(fail(username="anna")) == "user anna, password: unknown user or wrong password"
    assert isinstance(errors[-1], AccountLocked)


def test_inactive_user_is_refused_like_a_wrong_password(anna):
    anna.is_active = False
    anna.save()

    assert str(fail(password=PASSWORD)) == "user anna, password: unknown user or wrong password"
    assert entries("user.login_failed")[-1]["data"]["reason"] == "inactive"


def test_the_cli_obeys_the_lock(anna, monkeypatch):
    for _ in range(LIMIT):
        fail()

    with pytest.raises(AccountLocked):
        authenticate_actor(username="anna", password=PASSWORD, interactive=False)
    monkeypatch.setenv("MUSTER_USER", "anna")
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("token", "list", stdout=StringIO(), stderr=err)
    assert caught.value.returncode == 2
    assert "is locked" in err.getvalue()


def test_the_cli_counts_its_failures(anna):
    for _ in range(LIMIT):
        with pytest.raises(AuthenticationFailed):
            authenticate_actor(username="anna", password=WRONG, interactive=False)

    assert LoginState.objects.get(username="anna").locked_until is not None
    assert len(entries("user.locked")) == 1


def test_the_second_person_obeys_the_lock(anna, monkeypatch):
    for _ in range(LIMIT):
        fail()
    monkeypatch.setenv("MUSTER_SECOND_PASSWORD", PASSWORD)

    with pytest.raises(AccountLocked) as caught:
        authenticate_second_person(username="anna", interactive=False)
    assert caught.value.problems[0].record == "second person anna"


# --- the login page -----------------------------------------------------------------------------


def signed_in(client):
    return "_auth_user_id" in client.session


def test_login_page_labels_every_field(db):
    page = Client().get("/accounts/login/").content.decode()

    assert '<label for="id_username"' in page and '<label for="id_password"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'name="viewport"' in page  # the base layout, readable on a phone


def test_login_signs_in_and_follows_next(anna):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "anna", "password": PASSWORD, "next": "/health"}
    )

    assert response.status_code == 302 and response["Location"] == "/health"
    assert signed_in(client)


def test_login_ignores_a_next_on_another_site(anna):
    response = Client().post(
        "/accounts/login/",
        {"username": "anna", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_login_page_shows_the_error_and_the_lock(anna):
    client = Client()
    page = client.post("/accounts/login/", {"username": "anna", "password": WRONG})
    assert page.status_code == 200 and "Unknown user or wrong password." in page.text
    for _ in range(LIMIT - 1):
        page = client.post("/accounts/login/", {"username": "anna", "password": WRONG})

    right = client.post("/accounts/login/", {"username": "anna", "password": PASSWORD})

    assert "This account is locked" in page.text
    assert "This account is locked" in right.text
    assert not signed_in(client)


def test_login_requires_the_csrf_token(anna):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "anna", "password": PASSWORD})

    assert response.status_code == 403
    assert not signed_in(client)


def test_logout_is_a_post(anna):
    client = Client()
    client.force_login(anna)

    assert client.get("/accounts/logout/").status_code == 405
    assert signed_in(client)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and not signed_in(client)


def test_pages_that_need_a_user_send_to_login_with_next(db):
    response = Client().get("/accounts/tokens/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/tokens/"


# --- the second factor --------------------------------------------------------------------------


def code_ahead(user, steps=1):
    """The code the app will show `steps` × 30 s from now (the current one may be used up)."""
    device = TotpDevice.objects.get(user=user)
    return current_code(device, timezone.now() + dt.timedelta(seconds=30 * steps))


def wrong_code(user):
    device = TotpDevice.objects.get(user=user)
    now = timezone.now()
    taken = {current_code(device, now + dt.timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in taken)


def enrol(client):
    """Through the page: start, read the secret, confirm with the code the app shows."""
    assert client.post("/accounts/totp/", {"action": "start"}).status_code == 302
    page = client.get("/accounts/totp/")
    device = TotpDevice.objects.get()
    assert device.secret in page.text and "<svg" in page.text
    code = current_code(device)
    return client.post("/accounts/totp/", {"action": "confirm", "code": code})


@pytest.fixture
def enrolled(armorer):
    client = Client()
    client.force_login(armorer)
    assert enrol(client).status_code == 302
    return armorer


def test_totp_page_is_forbidden_to_a_volunteer(org, actor):
    User.objects.create_user(username="vol", password=PASSWORD)
    grant_role(actor=actor, username="vol", role="volunteer", unit=org["company"])
    client = Client()
    client.force_login(User.objects.get(username="vol"))

    assert client.get("/accounts/totp/").status_code == 403
    assert client.post("/accounts/totp/", {"action": "start"}).status_code == 403


def test_enrolment_is_confirmed_with_a_code_and_journaled(armorer):
    client = Client()
    client.force_login(armorer)

    assert client.get("/accounts/totp/").status_code == 200
    assert enrol(client)["Location"] == "/accounts/totp/"
    assert has_second_factor(armorer)
    assert len(entries("user.totp_enabled", "armorer")) == 1
    assert TotpDevice.objects.get().secret not in client.get("/accounts/totp/").text


def test_enrolment_is_not_confirmed_by_a_wrong_code(armorer):
    client = Client()
    client.force_login(armorer)
    client.post("/accounts/totp/", {"action": "start"})

    page = client.post("/accounts/totp/", {"action": "confirm", "code": wrong_code(armorer)})

    assert page.status_code == 200 and "Wrong or expired code." in page.text
    assert not has_second_factor(armorer)


def test_login_asks_for_the_code_and_is_not_signed_in_before_it(enrolled):
    client = Client()
    step_one = client.post(
        "/accounts/login/", {"username": "armorer", "password": PASSWORD, "next": "/health"}
    )
    assert step_one["Location"] == "/accounts/login/code/"
    assert not signed_in(client)
    assert client.get("/accounts/tokens/").status_code == 302  # still anonymous
    assert '<label for="id_code"' in client.get("/accounts/login/code/").text

    step_two = client.post("/accounts/login/code/", {"code": code_ahead(enrolled)})

    assert step_two["Location"] == "/health"
    assert signed_in(client)


def test_a_code_is_accepted_once(enrolled):
    code = code_ahead(enrolled)
    first, second = Client(), Client()
    for client in (first, second):
        client.post("/accounts/login/", {"username": "armorer", "password": PASSWORD})
        client.post("/accounts/login/code/", {"code": code})

    assert signed_in(first) and not signed_in(second)


def test_wrong_codes_count_as_failures_until_a_right_one_resets_them(enrolled):
    client = Client()
    client.post("/accounts/login/", {"username": "armorer", "password": PASSWORD})
    for _ in range(LIMIT - 1):
        page = client.post("/accounts/login/code/", {"code": wrong_code(enrolled)})
        assert "Wrong or expired code." in page.text
    assert LoginState.objects.get(username="armorer").failures == LIMIT - 1

    client.post("/accounts/login/code/", {"code": code_ahead(enrolled)})

    assert signed_in(client)
    assert LoginState.objects.get(username="armorer").failures == 0


def test_wrong_codes_lock_the_account(enrolled):
    client = Client()
    client.post("/accounts/login/", {"username": "armorer", "password": PASSWORD})
    for _ in range(LIMIT):
        page = client.post("/accounts/login/code/", {"code": wrong_code(enrolled)})

    assert "This account is locked" in page.text
    assert [e["data"]["reason"] for e in entries("user.login_failed", "armorer")] == ["code"] * 3
    assert len(entries("user.locked", "armorer")) == 1
    again = client.post("/accounts/login/", {"username": "armorer", "password": PASSWORD})
    assert "This account is locked" in again.text and not signed_in(client)


def test_the_password_alone_does_not_reset_the_count_of_wrong_codes(enrolled):
    client = Client()
    for _ in range(LIMIT):
        client.post("/accounts/login/", {"username": "armorer", "password": PASSWORD})
        client.post("/accounts/login/code/", {"code": wrong_code(enrolled)})

    assert LoginState.objects.get(username="armorer").locked_until is not None


def test_the_cli_asks_a_user_with_a_second_factor_for_the_code(enrolled):
    with pytest.raises(AuthenticationFailed) as caught:
        authenticate_actor(username="armorer", password=PASSWORD, interactive=False)

    assert caught.value.problems[0].field == "code"


def test_the_cli_accepts_the_code_when_interactive(enrolled, monkeypatch):
    code = code_ahead(enrolled)
    monkeypatch.setattr("getpass.getpass", lambda prompt: code)

    actor = authenticate_actor(username="armorer", password=PASSWORD, interactive=True)

    assert actor.user_id == enrolled.pk


def test_the_second_factor_is_disabled_only_with_a_valid_code(enrolled):
    client = Client()
    client.force_login(enrolled)

    refused = client.post("/accounts/totp/", {"action": "disable", "code": wrong_code(enrolled)})
    assert refused.status_code == 200 and has_second_factor(enrolled)

    client.post("/accounts/totp/", {"action": "disable", "code": code_ahead(enrolled)})
    assert not has_second_factor(enrolled)
    assert len(entries("user.totp_disabled", "armorer")) == 1
    response = Client().post("/accounts/login/", {"username": "armorer", "password": PASSWORD})
    assert response["Location"] == "/"


def test_confirming_twice_is_refused(enrolled):
    with pytest.raises(Exception, match="no enrolment is waiting"):
        confirm_enrolment(actor=Actor.for_user(enrolled), user=enrolled, code=code_ahead(enrolled))


def test_the_second_person_confirms_with_the_password_alone_even_with_a_second_factor(enrolled):
    actor = confirm_second_person(username="armorer", password=PASSWORD)

    assert actor.user_id == enrolled.pk
    with pytest.raises(AuthenticationFailed) as caught:
        confirm_second_person(username="armorer", password=WRONG)
    assert caught.value.problems[0].record == "second person armorer"


# --- Django's own entry points (the admin), with the throttled backend -------------------------


@pytest.fixture
def throttled_backend(settings):
    settings.AUTHENTICATION_BACKENDS = ["muster.accounts.backends.ThrottledBackend"]


def test_the_throttled_backend_obeys_the_lock(anna, throttled_backend):
    assert authenticate(username="anna", password=PASSWORD) == anna
    for _ in range(LIMIT):
        assert authenticate(username="anna", password=WRONG) is None

    assert authenticate(username="anna", password=PASSWORD) is None
    assert len(entries("user.locked")) == 1


def test_the_throttled_backend_refuses_a_user_with_a_second_factor(enrolled, throttled_backend):
    assert authenticate(username="armorer", password=PASSWORD) is None
