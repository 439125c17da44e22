"""Sign-in (password, then the code when the user has a second factor), API tokens and the
second factor's enrolment. Thin adapters over throttle, totp and tokens."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from muster.accounts import totp
from muster.accounts.forms import CodeForm, LoginForm, TokenForm, refusal_message
from muster.accounts.models import User
from muster.accounts.throttle import AccountLocked
from muster.accounts.tokens import create_token, revoke_token, tokens_of
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed, DomainError, NotFound

# Between the password and the code: whose password was right, when, and where to go next.
PENDING = "muster_pending_sign_in"
PENDING_SECONDS = 300


def _next_url(request: HttpRequest) -> str:
    """Where to go after signing in: `next` when it is on this site, else the home page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _sign_in(request: HttpRequest, user: User) -> None:
    auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and form.user is not None:
        target = _next_url(request)
        if totp.has_second_factor(form.user):
            request.session[PENDING] = {"user": form.user.pk, "at": time.time(), "next": target}
            return redirect("login_code")
        _sign_in(request, form.user)
        return redirect(target)
    next_value = request.POST.get("next") or request.GET.get("next") or ""
    return render(request, "accounts/login.html", {"form": form, "next": next_value})


def _pending_user(request: HttpRequest) -> tuple[User, str] | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return (user, str(pending.get("next") or "")) if user is not None else None


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_code_view(request: HttpRequest) -> HttpResponse:
    """The second step: the session is not signed in until the code is right."""
    pending = _pending_user(request)
    if pending is None:
        messages.error(request, _("Please sign in again."))
        return redirect("login")
    user, target = pending
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            totp.check_code(user=user, code=form.cleaned_data["code"])
        except AccountLocked as error:
            request.session.pop(PENDING, None)
            context = {"form": LoginForm(), "next": target, "refusal": refusal_message(error)}
            return render(request, "accounts/login.html", context)
        except AuthenticationFailed as error:
            form.add_error("code", refusal_message(error))
        else:
            request.session.pop(PENDING, None)
            _sign_in(request, user)
            return redirect(target or resolve_url(settings.LOGIN_REDIRECT_URL))
    return render(request, "accounts/login_code.html", {"form": form})


@login_required
@never_cache
def tokens_view(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens; a new token's secret is shown in this response only."""
    user = _user(request)
    form = TokenForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = create_token(
                actor=Actor.for_user(user), user=user, name=form.cleaned_data["name"]
            )
        except DomainError as error:
            for problem in error.problems:
                form.add_error("name" if problem.field == "name" else None, problem.rule)
        else:
            context.update(created=token, secret=secret, form=TokenForm())
    context["tokens"] = list(tokens_of(user))
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    user = _user(request)
    try:
        token = revoke_token(actor=Actor.for_user(user), token_id=token_id)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("tokens")


@sensitive_post_parameters("code")
@login_required
@never_cache
def totp_view(request: HttpRequest) -> HttpResponse:
    """Enrol in (start, confirm) or disable the second factor."""
    user = _user(request)
    if not (totp.may_enrol(user) or totp.has_second_factor(user)):
        raise PermissionDenied
    actor = Actor.for_user(user)
    action = request.POST.get("action") if request.method == "POST" else None
    form = CodeForm(request.POST if action in ("confirm", "disable") else None)
    if request.method == "POST":
        try:
            if action == "start":
                totp.start_enrolment(user=user)
                return redirect("totp")
            if action in ("confirm", "disable") and form.is_valid():
                code = form.cleaned_data["code"]
                if action == "confirm":
                    totp.confirm_enrolment(actor=actor, user=user, code=code)
                    messages.success(request, _("The second factor is on."))
                else:
                    totp.disable_second_factor(actor=actor, user=user, code=code)
                    messages.success(request, _("The second factor is off."))
                return redirect("totp")
        except DomainError as error:
            for problem in error.problems:
                if problem.field == "code":
                    form.add_error("code", _("Wrong or expired code."))
                else:
                    form.add_error(None, problem.rule)
    device = totp.device_of(user)
    context: dict[str, Any] = {"form": form, "device": device}
    if device is not None and device.confirmed_at is None:
        context.update(secret=device.secret, qr=totp.qr_svg(device))
    return render(request, "accounts/totp.html", context)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required has let only a signed-in user through
    return user
