"""Allocation plans (R3): who should be issued a personal weapon, each choice explained, and
the issue tasks a commander's approval creates.

A plan changes state (draft → approved or withdrawn) but is never deleted; its lines, its
tasks and their cancellations are written once and never changed (database triggers refuse it).
Whether a task is done is not stored: it is read from the journal (planning.selectors), so the
armory's issue flow knows nothing of plans.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from muster.planning.choices import LineOutcome, PlanState


class AllocationPlan(models.Model):
    """A proposal for one site's or one region's available items of a category."""

    site = models.ForeignKey(
        "armory.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The site whose items are shared out; empty for a region's plan",
    )
    region = models.ForeignKey("people.Unit", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "people.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Whose volunteers are candidates: the site's unit, or the region",
    )
    category = models.CharField(max_length=40)
    moment = models.DateField(help_text="The day eligibility and scores were worked out")
    policy = models.CharField(max_length=90, help_text="jurisdiction@version in force")
    limit = models.PositiveIntegerField(null=True, blank=True)
    seats = models.PositiveIntegerField(help_text="Items the plan shares out")
    basis = models.JSONField(
        default=dict, help_text="The numbers the seats and shares were worked out from"
    )
    state = models.CharField(max_length=12, choices=PlanState.choices, default=PlanState.DRAFT)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_seq = models.BigIntegerField(
        null=True, blank=True, help_text="Journal seq of plan.approved: later issues do tasks"
    )
    withdrawn_by = models.CharField(max_length=150, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in PlanState]), name="plan_state_known"
            ),
            models.CheckConstraint(
                condition=~Q(state=PlanState.APPROVED) | Q(approved_seq__isnull=False),
                name="plan_approved_has_seq",
            ),
        ]
        indexes = [models.Index(fields=["region", "category", "state"], name="plan_region_idx")]

    def __str__(self) -> str:
        return f"plan {self.pk} ({self.category}, {self.state})"

    @property
    def scope_label(self) -> str:
        return (
            f"site {self.site.code}" if self.site_id and self.site else f"region {self.unit.code}"
        )


class PlanLine(models.Model):
    """One volunteer in a plan: chosen (with the item proposed), or a notable non-choice."""

    plan = models.ForeignKey(AllocationPlan, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField(help_text="1, 2, … chosen first, in rank order")
    outcome = models.CharField(max_length=12, choices=LineOutcome.choices)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    battalion = models.ForeignKey("people.Unit", on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveIntegerField(help_text="Rank within the battalion's candidates")
    score = models.IntegerField()
    score_parts = models.JSONField(default=list, help_text="The score's components explained")
    targets = models.JSONField(default=list, help_text="What the engine allows them")
    step = models.CharField(max_length=400, help_text="The unit-balance step that decided it")
    explanation = models.TextField()
    item = models.ForeignKey(
        "armory.Item", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        "armory.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="plan_line_position"),
            models.UniqueConstraint(fields=["plan", "person"], name="plan_line_person"),
            models.CheckConstraint(
                condition=Q(outcome__in=[o.value for o in LineOutcome]), name="plan_line_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"plan {self.plan_id} line {self.position}: {self.outcome}"


class IssueTask(models.Model):
    """An instruction to issue: made by a plan's approval, never an issue itself."""

    plan = models.ForeignKey(AllocationPlan, on_delete=models.PROTECT, related_name="tasks")
    line = models.OneToOneField(PlanLine, on_delete=models.PROTECT, related_name="task")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=40)
    item = models.ForeignKey(
        "armory.Item",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The item proposed; any item of the category issued to them does the task",
    )
    site = models.ForeignKey("armory.Site", on_delete=models.PROTECT, related_name="+")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "line__position"]
        indexes = [models.Index(fields=["person", "category"], name="issue_task_person_idx")]

    def __str__(self) -> str:
        return f"task {self.pk}: issue {self.category} to {self.person_id}"


class TaskCancellation(models.Model):
    """The later entry that closes a task undone (its plan withdrawn)."""

    task = models.OneToOneField(IssueTask, on_delete=models.PROTECT, related_name="cancellation")
    reason = models.CharField(max_length=300)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"task {self.task_id} cancelled"
