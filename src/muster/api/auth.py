"""Who is calling: an API token (`Authorization: Bearer <token>`, for scripts) or the browser's
signed-in session (for htmx pages; unsafe methods then need the CSRF token)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf


class TokenAuth(HttpBearer):
    """An API token created by its owner; resolved (and checked) by muster.accounts.tokens."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        from muster.accounts.tokens import authenticate_token

        found = authenticate_token(token)
        if found is None:
            return None
        user, stamp = found
        request._muster_stamp = stamp  # type: ignore[attr-defined]  # for api.common.scope
        return user


class SessionAuth(APIKeyCookie):
    """The Django session. Unlike ninja's own, a request with no signed-in session falls
    through to 401 (not a CSRF 403); a signed-in one must pass the CSRF check."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header")
        return user
