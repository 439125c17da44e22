"""The registry: units in a tree, volunteers, and their unit and status histories.

Person holds the current state for fast reads; Membership and StatusChange are the append-only
history it is derived from, and every change is also in the journal.
"""

from __future__ import annotations

from django.db import models

from muster.people.choices import PersonStatus, UnitKind, UnitRole


class Unit(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # "/<id>/<id>/…/" from the root: a subtree is one indexed prefix match.
    path = models.CharField(max_length=400, db_index=True, editable=False)
    jurisdiction = models.CharField(
        max_length=40, blank=True, help_text="Policy jurisdiction; set on regions, inherited below"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Person(models.Model):
    national_id = models.CharField(max_length=32, unique=True)
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    patronymic = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=200, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="people")
    unit_role = models.CharField(max_length=20, choices=UnitRole.choices, default=UnitRole.MEMBER)
    status = models.CharField(max_length=16, choices=PersonStatus.choices, db_index=True)
    joined_on = models.DateField(help_text="Date the person joined the force")
    prior_service_months = models.PositiveIntegerField(default=0)
    combat_experience_months = models.PositiveIntegerField(default=0)
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_name", "national_id"]
        indexes = [
            models.Index(fields=["unit", "status"], name="person_unit_status_idx"),
            # The roster's order: its first page is read from the index, not sorted.
            models.Index(fields=["family_name", "given_name", "id"], name="person_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name} ({self.national_id})"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family_name, self.given_name, self.patronymic) if p)


class Membership(models.Model):
    """A person's placement in a unit from `since` until the next membership starts."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=UnitRole.choices)
    since = models.DateField()
    reason = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "since", "id"]
        indexes = [models.Index(fields=["person", "since"], name="membership_person_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.unit_id} as {self.role} since {self.since}"


class StatusChange(models.Model):
    """One step of the status lifecycle; the first has an empty `from_status`."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=PersonStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=PersonStatus.choices)
    effective_on = models.DateField()
    reason = models.CharField(max_length=300)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "effective_on", "id"]

    def __str__(self) -> str:
        return (
            f"{self.person_id}: {self.from_status or '—'} → {self.to_status} on {self.effective_on}"
        )
