"""Forms of the armory's pages (counts, transfers, incidents): every field labelled, the
services' errors shown beside the fields they name."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from muster.armory.models import Category, Site
from muster.web.forms import SecondPersonForm

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

SERIAL_SPLIT = re.compile(r"[\r\n,;]+")


def serial_lines(text: str) -> list[str]:
    """Serials typed or scanned one per line (commas and semicolons also separate them)."""
    return [s.strip() for s in SERIAL_SPLIT.split(text) if s.strip()]


class SerialsField(forms.CharField):
    def __init__(self, label: StrOrPromise, **kwargs: object) -> None:
        super().__init__(
            label=label,
            widget=forms.Textarea(
                attrs={
                    "rows": 4,
                    "autocomplete": "off",
                    "autocapitalize": "characters",
                    "spellcheck": "false",
                }
            ),
            **kwargs,  # type: ignore[arg-type]
        )


class StartCountForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    category = forms.ModelChoiceField(
        label=_("Category (empty: the whole site)"),
        queryset=Category.objects.order_by("code"),
        required=False,
        to_field_name="code",
    )
    counter = forms.CharField(
        label=_("Counter (username)"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )

    def __init__(self, *args: object, sites: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]


class RecordForm(forms.Form):
    serials = SerialsField(_("Serial numbers counted (type or scan, one per line)"))


class ResolveForm(SecondPersonForm):
    resolution = forms.ChoiceField(label=_("Resolution"), choices=())
    note = forms.CharField(
        label=_("What was found or done"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    field_order = ["resolution", "note", "second_username", "second_password"]

    def __init__(
        self, *args: object, choices: Sequence[tuple[str, StrOrPromise]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["resolution"].choices = choices  # type: ignore[attr-defined]


class DispatchForm(forms.Form):
    from_site = forms.ModelChoiceField(label=_("From site"), queryset=Site.objects.none())
    to_site = forms.ModelChoiceField(label=_("To site"), queryset=Site.objects.order_by("code"))
    serials = SerialsField(_("Serial numbers sent (type or scan, one per line)"))

    def __init__(self, *args: object, sites: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["from_site"].queryset = sites  # type: ignore[attr-defined]


class ReceiveForm(forms.Form):
    serials = SerialsField(
        _("Serial numbers that arrived (type or scan, one per line)"), required=False
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    status_to = forms.ChoiceField(label=_("Move the status to"), required=False, choices=())

    def __init__(
        self, *args: object, choices: Sequence[tuple[str, StrOrPromise]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["status_to"]
        field.choices = [("", _("(keep the status)")), *choices]  # type: ignore[attr-defined]
