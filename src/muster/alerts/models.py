"""Alerts (R7): a condition someone must act on, raised by the alert job, and its life as
entries.

An `Alert` is raised once per *occurrence* of a condition: its `key` names the occurrence (an
item's checkout due at a given time, one qualification record, a site's category not counted
since a given count, one variance, one shift), so a condition has at most one alert still to
be dealt with (a partial unique constraint on `key` over open and acknowledged alerts). Its
life is a list of `AlertEntry` rows, never changed: acknowledged (by whom, when, note), then
resolved (by whom, or by the job when the condition cleared, with a note). `state`, `cleared`
and `changed_at` repeat the entries for fast reads, like Item repeats custody; every change
writes its entry, those columns and a journal entry (`alert.*`) in one transaction. Nothing is
deleted: a trigger refuses DELETE on both tables and UPDATE on the entries.

Who must act is the alert's `unit` (the site's unit for items, counts and variances; the
person's unit for qualifications; the post's unit for shifts), with the person's unit in
`person_path` where a person is concerned (muster.alerts.audience). The paths are copied from
the units (a unit never moves) so that the alerts a scope sees are one indexed query.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from muster.alerts.choices import ACTIVE, AlertKind, AlertState, EntryAction


class Alert(models.Model):
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    key = models.CharField(max_length=200, help_text="Names the occurrence of the condition")
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    cleared = models.BooleanField(
        default=False, help_text="Resolved by the job because the condition no longer held"
    )
    unit = models.ForeignKey(
        "people.Unit", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    unit_path = models.CharField(max_length=400, help_text="The path of `unit`")
    site = models.ForeignKey(
        "armory.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site_path = models.CharField(max_length=400, blank=True, help_text="The site's unit's path")
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person_path = models.CharField(
        max_length=400, blank=True, help_text="The person's unit's path when raised"
    )
    item = models.ForeignKey(
        "armory.Item", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    count = models.ForeignKey(
        "armory.InventoryCount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    variance = models.ForeignKey(
        "armory.Variance", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # No foreign key: the duties app is written separately, and alerts must work without it.
    shift_id = models.BigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField()
    changed_at = models.DateTimeField(help_text="When the state last changed")

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(state__in=ACTIVE), name="alert_one_active_per_key"
            ),
        ]
        indexes = [
            # The dashboard's panel and the alerts still to be dealt with, newest first.
            models.Index(
                fields=["kind", "raised_at"],
                condition=Q(state__in=ACTIVE),
                name="alert_active_idx",
            ),
            models.Index(fields=["key", "state"], name="alert_key_idx"),
            models.Index(fields=["state", "raised_at"], name="alert_state_idx"),
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.kind}, {self.state})"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


class AlertEntry(models.Model):
    """One step of an alert's life: acknowledged or resolved, by whom, when, and why."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="entries")
    action = models.CharField(max_length=16, choices=EntryAction.choices)
    actor = models.CharField(max_length=150, help_text="A username, or system:alerts (the job)")
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()
    seq = models.BigIntegerField(help_text="The journal entry recording it")

    class Meta:
        ordering = ["alert", "at", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.action} by {self.actor}"
