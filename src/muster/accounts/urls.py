"""Sign-in, sign-out, API tokens and the second factor (muster.accounts.views)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from muster.accounts import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_code_view, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.tokens_view, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("totp/", views.totp_view, name="totp"),
]
