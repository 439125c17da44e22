"""The states and kinds of the duties app, with their labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AssignmentState(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    CHECKED_IN = "checked_in", _("Checked in")
    CHECKED_OUT = "checked_out", _("Checked out")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


class RequirementKind(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification")
    ELIGIBILITY = "eligibility", _("Eligible for equipment")


class AvailabilityKind(models.TextChoices):
    AVAILABLE = "available", _("Available")
    UNAVAILABLE = "unavailable", _("Unavailable")
    LEAVE = "leave", _("Leave")
