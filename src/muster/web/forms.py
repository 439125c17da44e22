"""Forms of the armorer's flows: every field labelled, errors shown beside it."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from muster.armory.choices import Condition, IssueKind


class SecondPersonForm(forms.Form):
    """The second person confirms on the same screen with their own username and password."""

    second_username = forms.CharField(
        label=_("Second person: username"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    second_password = forms.CharField(
        label=_("Second person: own password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if bool(data.get("second_username")) != bool(data.get("second_password")):
            raise forms.ValidationError(
                _("The second person gives both their username and their own password.")
            )
        return data


class IssueForm(SecondPersonForm):
    person = forms.CharField(
        label=_("Volunteer (national id)"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    serials = forms.CharField(
        label=_("Serial numbers (type or scan, one per line)"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label=_("Kind of issue"),
        choices=[
            (IssueKind.CHECKOUT.value, _("Checkout (for a shift, due back)")),
            (IssueKind.ASSIGNMENT.value, _("Assignment (long-term, on the hand receipt)")),
        ],
    )
    hours = forms.IntegerField(
        label=_("Hours (checkout; empty: the policy's maximum)"), required=False, min_value=1
    )
    purpose = forms.CharField(label=_("Purpose"), required=False, max_length=200)
    field_order = [
        "person",
        "serials",
        "kind",
        "hours",
        "purpose",
        "second_username",
        "second_password",
    ]

    def serial_list(self) -> list[str]:
        return [s for s in re.split(r"[\s,;]+", self.cleaned_data["serials"]) if s]


class ReturnPersonForm(forms.Form):
    person = forms.CharField(
        label=_("Volunteer (national id)"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


CONDITIONS = [(c.value, c.label) for c in Condition]
