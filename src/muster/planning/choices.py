from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PlanState(models.TextChoices):
    """A plan is a draft until a commander approves or withdraws it; it is never deleted."""

    DRAFT = "draft", pgettext_lazy("plan state", "Draft")
    APPROVED = "approved", pgettext_lazy("plan state", "Approved")
    WITHDRAWN = "withdrawn", pgettext_lazy("plan state", "Withdrawn")


class LineOutcome(models.TextChoices):
    """What the plan says of one volunteer: a seat, or why not (a notable non-choice)."""

    CHOSEN = "chosen", _("Chosen")
    NO_SEAT = "no_seat", _("Not chosen: the battalion's seats went to higher ranks")
    NO_ITEM = "no_item", _("Not chosen: no available item they may hold")


class TaskState(models.TextChoices):
    """Worked out when read (see planning.selectors): open until the person is issued such an
    item through the normal issue flow (done) or the plan is withdrawn (cancelled)."""

    OPEN = "open", pgettext_lazy("task state", "Open")
    DONE = "done", pgettext_lazy("task state", "Done")
    CANCELLED = "cancelled", pgettext_lazy("task state", "Cancelled")
