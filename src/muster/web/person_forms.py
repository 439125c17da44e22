"""Forms changing a person's record: a qualification awarded or revoked, a suspension or
reinstatement, a move to another unit. Every field labelled; the services' errors are shown
beside the fields they name (muster.web.errors.problems_on_form)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from muster.people.choices import UnitRole
from muster.people.models import Unit
from muster.vetting.models import QualificationType

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class QualificationForm(forms.Form):
    qualification = forms.ModelChoiceField(
        label=_("Qualification"),
        queryset=QualificationType.objects.order_by("name"),
        to_field_name="code",
    )
    klass = forms.CharField(
        label=_("Class (e.g. rifle; empty when the qualification has none)"),
        max_length=40,
        required=False,
    )
    obtained_on = forms.DateField(label=_("Obtained on"), widget=DATE)
    expires_on = forms.DateField(
        label=_("Expires on (empty: the qualification's usual validity)"),
        required=False,
        widget=DATE,
    )
    examiner = forms.CharField(label=_("Examiner"), max_length=200, required=False)
    evidence_ref = forms.CharField(
        label=_("Evidence (document reference)"), max_length=200, required=False
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["qualification"]
        field.label_from_instance = lambda t: f"{t.name} ({t.code})"  # type: ignore[attr-defined]


class RevokeForm(forms.Form):
    revoked_on = forms.DateField(label=_("Revoked from"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["revoked_on"].initial = timezone.localdate()


class StatusForm(forms.Form):
    """Suspend or reinstate: the status offered is the one the person may move to."""

    effective_on = forms.DateField(label=_("Effective on"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["effective_on"].initial = timezone.localdate()


class MoveForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("New unit"), queryset=Unit.objects.none())
    role = forms.ChoiceField(label=_("Role in the unit"), choices=UnitRole.choices)
    since = forms.DateField(label=_("Since"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args: object, units: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["since"].initial = timezone.localdate()
