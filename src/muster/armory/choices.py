from django.db import models


class Tracking(models.TextChoices):
    SERIALIZED = "serialized", "Serialized (counted by serial number)"
    QUANTITY = "quantity", "Quantity (lots, counted by number)"


class Place(models.TextChoices):
    """Where an item is: exactly one of these at every moment."""

    SITE = "site", "At a storage site"
    PERSON = "person", "Issued to a person"
    IN_TRANSIT = "in_transit", "In transit between sites"
    MAINTENANCE = "maintenance", "In maintenance"
    LOST = "lost", "Lost"
    STOLEN = "stolen", "Stolen"
    DISPOSED = "disposed", "Disposed"


class Condition(models.TextChoices):
    SERVICEABLE = "serviceable", "Serviceable"
    UNSERVICEABLE = "unserviceable", "Unserviceable"
    AWAITING_INSPECTION = "awaiting_inspection", "Awaiting inspection"


class IssueKind(models.TextChoices):
    ASSIGNMENT = "assignment", "Assignment (long-term, on the hand receipt)"
    CHECKOUT = "checkout", "Checkout (for a shift or a few hours, due back)"


class CountStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class VarianceKind(models.TextChoices):
    MISSING = "missing", "Missing (expected, not counted)"
    UNEXPECTED = "unexpected", "Unexpected (counted, not on record)"
    MISLOCATED = "mislocated", "Mis-located (on record at another place)"
    QUANTITY = "quantity", "Quantity differs"


class VarianceResolution(models.TextChoices):
    FOUND = "found", "Found"
    REPORTED_LOST = "reported_lost", "Reported lost"
    CORRECTION = "correction", "Record corrected"


class IncidentKind(models.TextChoices):
    LOSS = "loss", "Loss"
    THEFT = "theft", "Theft"
    DAMAGE = "damage", "Damage"
    MISUSE = "misuse", "Misuse"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    CLOSED = "closed", "Closed"
