from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Tracking(models.TextChoices):
    SERIALIZED = "serialized", _("Serialized (counted by serial number)")
    QUANTITY = "quantity", _("Quantity (lots, counted by number)")


class Place(models.TextChoices):
    """Where an item is: exactly one of these at every moment."""

    SITE = "site", _("At a storage site")
    PERSON = "person", _("Issued to a person")
    IN_TRANSIT = "in_transit", _("In transit between sites")
    MAINTENANCE = "maintenance", _("In maintenance")
    LOST = "lost", _("Lost")
    STOLEN = "stolen", _("Stolen")
    DISPOSED = "disposed", _("Disposed")


class Condition(models.TextChoices):
    SERVICEABLE = "serviceable", _("Serviceable")
    UNSERVICEABLE = "unserviceable", _("Unserviceable")
    AWAITING_INSPECTION = "awaiting_inspection", _("Awaiting inspection")


class IssueKind(models.TextChoices):
    ASSIGNMENT = "assignment", _("Assignment (long-term, on the hand receipt)")
    CHECKOUT = "checkout", _("Checkout (for a shift or a few hours, due back)")


class CountStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("count status", "Open")
    CLOSED = "closed", pgettext_lazy("count status", "Closed")


class VarianceKind(models.TextChoices):
    MISSING = "missing", _("Missing (expected, not counted)")
    UNEXPECTED = "unexpected", _("Unexpected (counted, not on record)")
    MISLOCATED = "mislocated", _("Mis-located (on record at another place)")
    QUANTITY = "quantity", _("Quantity differs")


class VarianceResolution(models.TextChoices):
    FOUND = "found", _("Found")
    REPORTED_LOST = "reported_lost", _("Reported lost")
    CORRECTION = "correction", _("Record corrected")


class IncidentKind(models.TextChoices):
    LOSS = "loss", _("Loss")
    THEFT = "theft", _("Theft")
    DAMAGE = "damage", _("Damage")
    MISUSE = "misuse", _("Misuse")


class IncidentStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("incident status", "Open")
    INVESTIGATING = "investigating", pgettext_lazy("incident status", "Investigating")
    CLOSED = "closed", pgettext_lazy("incident status", "Closed")
