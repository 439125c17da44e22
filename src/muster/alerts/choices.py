from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    """What an alert is about: each kind has one source (muster.alerts.sources)."""

    OVERDUE = "overdue", _("Overdue return")
    RECALL = "recall", _("Recall")
    EXPIRING = "expiring", _("Qualification expiring")
    COUNT_OVERDUE = "count_overdue", _("Count overdue")
    VARIANCE = "variance", _("Unresolved variance")
    UNDERSTAFFED = "understaffed", _("Shift understaffed")


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class EntryAction(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


# Alerts still to be dealt with: one per condition at most (a partial unique constraint).
ACTIVE = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
