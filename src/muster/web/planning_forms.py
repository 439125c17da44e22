"""Forms of the planning pages (a draft simulated, allocation plans): every field labelled,
the services' errors shown beside the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muster.armory.models import Category, Site
from muster.imports.uploads import max_bytes
from muster.people.models import Unit
from muster.planning.services import REASON_MAX

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
YAML_ACCEPT = ".yaml,.yml,application/yaml,text/yaml,text/plain"


class RegionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.name}"


class SimulateForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Draft policy (YAML)"),
        widget=forms.ClearableFileInput(attrs={"accept": YAML_ACCEPT}),
    )
    at = forms.DateField(
        label=gettext_lazy("As if in force on (empty: today)"), required=False, widget=DATE
    )
    region = RegionChoice(
        label=gettext_lazy("Region (empty: all you may see)"),
        queryset=Unit.objects.none(),
        required=False,
        to_field_name="code",
    )

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > max_bytes():
            raise forms.ValidationError(
                _("The file is %(size)s; the largest accepted here is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes())}
            )
        return upload


class ExportForm(forms.Form):
    """The report again, as a file: the draft's text travels in the page (nothing is kept)."""

    draft = forms.CharField(widget=forms.HiddenInput, max_length=2_000_000)
    source = forms.CharField(widget=forms.HiddenInput, max_length=200, required=False)
    at = forms.DateField(widget=forms.HiddenInput, required=False)
    region = forms.CharField(widget=forms.HiddenInput, max_length=40, required=False)
    fmt = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[("pdf", "PDF"), ("xlsx", "XLSX")],
    )


class PlanForm(forms.Form):
    site = forms.ModelChoiceField(
        label=gettext_lazy("Site whose items are shared out"),
        queryset=Site.objects.none(),
        required=False,
        to_field_name="code",
    )
    region = RegionChoice(
        label=gettext_lazy("…or a region: the items of all its sites"),
        queryset=Unit.objects.none(),
        required=False,
        to_field_name="code",
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=Category.objects.order_by("code"),
        to_field_name="code",
        initial="firearm",
    )
    limit = forms.IntegerField(
        label=gettext_lazy("Propose at most (empty: every seat)"), required=False, min_value=1
    )

    def __init__(self, *args: Any, sites: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("site")) == bool(data.get("region")):
            raise forms.ValidationError(_("Choose a site or a region, not both."))
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why it is withdrawn"),
        max_length=REASON_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class TaskFilterForm(forms.Form):
    site = forms.ModelChoiceField(
        label=gettext_lazy("Site"),
        queryset=Site.objects.none(),
        required=False,
        to_field_name="code",
    )
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("any"))],
    )

    def __init__(self, *args: Any, sites: Any, states: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["state"].choices = [("", _("any")), *states]  # type: ignore[attr-defined]
