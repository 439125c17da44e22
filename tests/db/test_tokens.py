"""API tokens for scripts: made, listed and revoked by their owner only, kept as a hash, and
refused once revoked; through the services, the page and `muster token`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from muster.access.scope import Forbidden
from muster.accounts.models import ApiToken, User
from muster.accounts.tokens import create_token, revoke_token, tokens_of, user_for_token
from muster.core.actors import Actor
from muster.core.errors import NotFound, RegistryError
from muster.journal.models import JournalEntry

PASSWORD = "correct horse battery staple"


@pytest.fixture
def anna(db):
    return User.objects.create_user(username="anna", password=PASSWORD)


@pytest.fixture
def boris(db):
    return User.objects.create_user(username="boris", password=PASSWORD)


def make(user, name="nightly import"):
    return create_token(actor=Actor.for_user(user), user=user, name=name)


def everything_stored():
    """Every value in the token and journal tables, as text."""
    rows = [*ApiToken.objects.values_list(), *JournalEntry.objects.values_list()]
    return " ".join(str(value) for row in rows for value in row)


def test_a_token_is_shown_once_and_kept_only_as_its_hash(anna):
    token, secret = make(anna)

    assert secret.startswith(f"mst_{token.prefix}_") and len(secret) > 40
    assert token.hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in everything_stored()
    assert secret.split("_", 2)[2] not in everything_stored()


def test_a_token_identifies_its_user(anna):
    _, secret = make(anna)

    assert user_for_token(secret) == anna


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: "",
        lambda s: "mst__x",
        lambda s: "not a token",
        lambda s: s.replace("mst_", "xyz_"),
    ],
)
def test_a_wrong_or_malformed_token_identifies_nobody(anna, mangle):
    _, secret = make(anna)

    assert user_for_token(mangle(secret)) is None


def test_a_revoked_token_is_refused(anna):
    token, secret = make(anna)

    revoke_token(actor=Actor.for_user(anna), token_id=token.pk)

    assert user_for_token(secret) is None
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    with pytest.raises(RegistryError, match="already revoked"):
        revoke_token(actor=Actor.for_user(anna), token_id=token.pk)


def test_a_token_of_an_inactive_user_is_refused(anna):
    _, secret = make(anna)
    anna.is_active = False
    anna.save()

    assert user_for_token(secret) is None


def test_another_user_cannot_revoke_a_token(anna, boris):
    token, secret = make(anna)

    with pytest.raises(NotFound):
        revoke_token(actor=Actor.for_user(boris), token_id=token.pk)
    assert user_for_token(secret) == anna


def test_a_token_is_made_only_by_its_owner(anna, boris):
    with pytest.raises(Forbidden):
        create_token(actor=Actor.for_user(boris), user=anna, name="sneaky")
    with pytest.raises(Forbidden):
        create_token(actor=Actor.system("tests"), user=anna, name="sneaky")
    assert not ApiToken.objects.exists()


def test_a_token_needs_a_name(anna):
    with pytest.raises(RegistryError, match="is required"):
        make(anna, name="  ")


def test_list_shows_only_the_owners_tokens_newest_first(anna, boris):
    first, _ = make(anna, "first")
    second, _ = make(anna, "second")
    make(boris, "boris's")

    assert list(tokens_of(anna)) == [second, first]


def test_create_and_revoke_are_journaled_without_the_secret(anna):
    token, secret = make(anna)
    revoke_token(actor=Actor.for_user(anna), token_id=token.pk)

    kinds = [
        (e.kind, e.actor, json.loads(e.body)["data"])
        for e in JournalEntry.objects.filter(subject_type="token").order_by("seq")
    ]
    data = {"user": "anna", "name": "nightly import", "prefix": token.prefix}
    assert kinds == [("token.created", "anna", data), ("token.revoked", "anna", data)]
    assert secret not in everything_stored()


def test_last_used_is_written_at_most_once_a_minute(anna):
    token, secret = make(anna)
    user_for_token(secret)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None

    recent = timezone.now() - dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    user_for_token(secret)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == recent

    old = timezone.now() - dt.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=old)
    user_for_token(secret)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > recent


# --- the page -----------------------------------------------------------------------------------


def signed_in_as(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_page_creates_a_token_and_shows_its_secret_once(anna):
    client = signed_in_as(anna)
    page = client.post("/accounts/tokens/", {"name": "reports"})

    token = ApiToken.objects.get()
    secret = page.text.split('id="new-token">')[1].split("<")[0]
    assert user_for_token(secret) == anna
    assert "no-store" in page["Cache-Control"]
    again = client.get("/accounts/tokens/").text
    assert "reports" in again and secret not in again
    assert f"mst_{token.prefix}_" in again


def test_the_page_labels_its_field_and_shows_errors(anna):
    page = signed_in_as(anna).post("/accounts/tokens/", {"name": ""})

    assert '<label for="id_name"' in page.text
    assert "errorlist" in page.text
    assert not ApiToken.objects.exists()


def test_the_page_revokes_only_the_owners_token(anna, boris):
    token, secret = make(anna)

    assert signed_in_as(boris).post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert user_for_token(secret) == anna
    assert signed_in_as(anna).get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405

    response = signed_in_as(anna).post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert user_for_token(secret) is None


def test_the_page_lists_only_the_users_own_tokens(anna, boris):
    make(boris, "boris's secret script")

    assert "boris&#x27;s secret script" not in signed_in_as(anna).get("/accounts/tokens/").text


# --- the command --------------------------------------------------------------------------------


def muster(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command(*map(str, args), stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def as_anna(anna, monkeypatch):
    monkeypatch.setenv("MUSTER_USER", "anna")
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    return anna


def test_the_command_creates_lists_and_revokes_as_the_signed_in_user(as_anna, boris):
    status, out, _ = muster("token", "create", "backup script")
    assert status == 0
    secret = out.splitlines()[1]
    assert user_for_token(secret) == as_anna
    token = ApiToken.objects.get(user=as_anna)

    status, listed, _ = muster("token", "list")
    assert status == 0 and "backup script" in listed and "active" in listed
    assert secret not in listed

    theirs, _ = make(boris)
    status, _, err = muster("token", "revoke", theirs.pk)
    assert status == 2 and "no such token of yours" in err

    assert muster("token", "revoke", token.pk)[0] == 0
    assert user_for_token(secret) is None
    assert "revoked" in muster("token", "list")[1]


def test_the_command_needs_the_right_password(anna, monkeypatch):
    monkeypatch.setenv("MUSTER_USER", "anna")
    monkeypatch.setenv("MUSTER_PASSWORD", "wrong")

    status, _, err = muster("token", "create", "x")

    assert status == 2 and "unknown user or wrong password" in err
    assert not ApiToken.objects.exists()
