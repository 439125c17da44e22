"""Signing in with a real browser: the login page, a wrong password, then the home page."""

from __future__ import annotations

import pytest

from muster.accounts.models import User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def clerk(db):
    return User.objects.create_user(username="clerk", password=PASSWORD)


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.django_db(transaction=True)
def test_a_wrong_password_is_refused_and_the_right_one_signs_in(page, live_server, clerk, shot):
    sign_in(page, live_server, "clerk", "not the password")
    assert "/accounts/login/" in page.url
    shot("sign-in-refused")

    sign_in(page, live_server, "clerk", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_text("clerk").first.is_visible()
    shot("home-signed-in")
