"""An authentication backend for Django's own entry points (the admin's sign-in page).

It obeys the sign-in throttle, and refuses users with a second factor, who must sign in
through /accounts/login/ where the code is asked for.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from muster.accounts.models import User
from muster.accounts.throttle import check_password
from muster.accounts.totp import has_second_factor
from muster.core.errors import AuthenticationFailed


class ThrottledBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        try:
            user = check_password(username=username, password=password)
        except AuthenticationFailed:
            return None
        return None if has_second_factor(user) else user
