"""Forms of the duties pages: every field labelled, the services' errors shown beside the
fields they name. The rules are the services'; these forms only read the input."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from muster.duties.choices import AssignmentState, AvailabilityKind
from muster.duties.models import DutyType, Post
from muster.duties.services import NewRequirement
from muster.web.forms import SecondPersonForm

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
EQUIPMENT_LINE = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(?:[=×x:]\s*(\d+))?\s*$")


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )


class WeekForm(forms.Form):
    unit = forms.CharField(
        label=_("Unit (code)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"list": "duty-units", "autocomplete": "off"}),
    )
    week = forms.CharField(
        label=_("Week (e.g. 2026-W48, or a day in it)"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )


class ShiftForm(forms.Form):
    post = forms.ModelChoiceField(label=_("Post"), queryset=Post.objects.none())
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(
        label=_("Ends at (earlier than the start: the next day)"),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    days = forms.IntegerField(
        label=_("Repeat on how many days in a row"), min_value=1, max_value=14, initial=1
    )
    headcount = forms.IntegerField(label=_("Volunteers needed"), min_value=1, max_value=100)
    qualification = forms.ChoiceField(label=_("Qualification required"), required=False)
    qualification_count = forms.IntegerField(
        label=_("How many of them must hold it (empty: all)"), required=False, min_value=1
    )
    eligibility = forms.ChoiceField(label=_("Eligible for equipment"), required=False)
    eligibility_count = forms.IntegerField(
        label=_("How many of them must be eligible (empty: all)"), required=False, min_value=1
    )
    equipment = forms.CharField(
        label=_("Equipment needed (e.g. radio=1, firearm=2)"), required=False, max_length=200
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=300)

    def __init__(
        self,
        *args: Any,
        posts: Any,
        qualifications: Sequence[tuple[str, str]],
        targets: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = posts  # type: ignore[attr-defined]
        self.fields["qualification"].choices = [("", _("(none)")), *qualifications]  # type: ignore[attr-defined]
        self.fields["eligibility"].choices = [("", _("(none)")), *((t, t) for t in targets)]  # type: ignore[attr-defined]

    def clean_equipment(self) -> list[tuple[str, int]]:
        text = self.cleaned_data.get("equipment") or ""
        found = []
        for part in re.split(r"[,;\n]+", text):
            if not part.strip():
                continue
            match = EQUIPMENT_LINE.match(part)
            if match is None:
                raise forms.ValidationError(
                    _("write each as category=count, e.g. radio=1 (not %(part)s)")
                    % {"part": part.strip()}
                )
            found.append((match[1], int(match[2] or 1)))
        return found

    def spans(self) -> list[tuple[dt.datetime, dt.datetime]]:
        data = self.cleaned_data
        out = []
        for n in range(data["days"]):
            day = data["day"] + dt.timedelta(days=n)
            start = timezone.make_aware(dt.datetime.combine(day, data["start"]))
            end_day = day if data["end"] > data["start"] else day + dt.timedelta(days=1)
            out.append((start, timezone.make_aware(dt.datetime.combine(end_day, data["end"]))))
        return out

    def requirements(self) -> list[NewRequirement]:
        data = self.cleaned_data
        found = []
        if data.get("qualification"):
            code, _sep, klass = data["qualification"].partition("/")
            found.append(NewRequirement("qualification", code, klass, data["qualification_count"]))
        if data.get("eligibility"):
            found.append(
                NewRequirement("eligibility", data["eligibility"], "", data["eligibility_count"])
            )
        return found


class AssignForm(forms.Form):
    person = forms.CharField(
        label=_("Volunteer (national id)"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    reason = forms.CharField(label=_("Note (optional)"), required=False, max_length=300)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label=_("Note (optional)"), required=False, max_length=300)


CORRECTABLE = [
    (AssignmentState.ASSIGNED.value, AssignmentState.ASSIGNED.label),
    (AssignmentState.CHECKED_IN.value, AssignmentState.CHECKED_IN.label),
]


class CorrectForm(forms.Form):
    to_state = forms.ChoiceField(label=_("Put back to"), choices=CORRECTABLE)
    reason = forms.CharField(label=_("Why (what really happened)"), max_length=300)


class AvailabilityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AvailabilityKind.choices)
    starts_at = _datetime_field(_("From"))
    ends_at = _datetime_field(_("Until"))
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=300)
    cancel_assignments = forms.BooleanField(
        label=_("Take them off the shifts they are on in that time"), required=False
    )

    def __init__(self, *args: Any, manager: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not manager:
            del self.fields["cancel_assignments"]


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why it is withdrawn"), max_length=300)


class PostForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    unit = forms.CharField(
        label=_("Unit responsible (code)"),
        max_length=40,
        widget=forms.TextInput(attrs={"list": "duty-units", "autocomplete": "off"}),
    )
    duty_type = forms.ModelChoiceField(
        label=_("Usual duty"), queryset=DutyType.objects.order_by("code"), to_field_name="code"
    )
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    latitude = forms.DecimalField(
        label=_("Latitude"), required=False, max_digits=9, decimal_places=6
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), required=False, max_digits=9, decimal_places=6
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)

    def coordinate(self, name: str) -> Decimal | None:
        value = self.cleaned_data.get(name)
        return None if value is None else Decimal(value)


class DutyTypeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=500)


class ShiftIssueForm(SecondPersonForm):
    serials = forms.CharField(
        label=_("Serial numbers (type or scan, one per line)"),
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )
    field_order = ["serials", "second_username", "second_password"]

    def serial_list(self) -> list[str]:
        return [s for s in re.split(r"[\s,;]+", self.cleaned_data["serials"]) if s]
