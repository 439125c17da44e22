"""The sign-in, second-step, token and second-factor forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from muster.accounts.models import User
from muster.accounts.throttle import AccountLocked, check_password
from muster.core.errors import AuthenticationFailed


class LoginForm(forms.Form):
    """Username and password, checked by the throttled `check_password`: `user` is set when
    the password is right (the second step may still be due)."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    user: User | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.user = check_password(username=data["username"], password=data["password"])
        except AuthenticationFailed as error:
            raise forms.ValidationError(refusal_message(error), code=error.code) from None
        return data


def refusal_message(error: AuthenticationFailed) -> str:
    if isinstance(error, AccountLocked) and error.until is not None:
        until = formats.date_format(timezone.localtime(error.until), "DATETIME_FORMAT")
        return str(
            _("This account is locked after repeated failed sign-ins. Try again after %(until)s.")
            % {"until": until}
        )
    if error.problems and error.problems[0].field == "code":
        return str(_("Wrong or expired code."))
    return str(_("Unknown user or wrong password."))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the new token"),
        max_length=100,
        help_text=_("What the token is for, e.g. the script that uses it."),
    )
