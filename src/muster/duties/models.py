"""Duties (R9): duty types, posts, shifts with their requirements, assignments and their
history, availability and leave, and the equipment issued for a shift.

Nothing here is ever deleted (the database refuses it, see migration 0002). Current-state rows
(types, posts, shifts, assignments) change only through the services, each change a journal
entry; the rest is append-only: an assignment's every state is an AssignmentEvent, a
cancellation or correction is a new state with a reason, and an availability entry is
withdrawn by an AvailabilityWithdrawal, never edited.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from muster.duties.choices import AssignmentState, AvailabilityKind, RequirementKind

# The states in which an assignment holds its place on the shift and counts for the rules
# (headcount, double-booking, rest, hours a week).
ACTIVE_STATES = (
    AssignmentState.ASSIGNED,
    AssignmentState.CHECKED_IN,
    AssignmentState.CHECKED_OUT,
)


class DutyType(models.Model):
    """A kind of duty (street patrol, infrastructure protection, fire watch, …): data."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    """A named place duty is stood at (a water pumping station, a district), with an address
    or coordinates, and the unit responsible for it."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    unit = models.ForeignKey("people.Unit", on_delete=models.PROTECT, related_name="duty_posts")
    duty_type = models.ForeignKey(
        DutyType, on_delete=models.PROTECT, related_name="posts", help_text="Its usual duty"
    )
    address = models.CharField(max_length=300, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    notes = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="post_has_a_place",
                condition=~Q(address="") | Q(latitude__isnull=False, longitude__isnull=False),
            ),
            models.CheckConstraint(
                name="post_coordinates_in_range",
                condition=(
                    Q(latitude__isnull=True, longitude__isnull=True)
                    | Q(
                        latitude__gte=-90,
                        latitude__lte=90,
                        longitude__gte=-180,
                        longitude__lte=180,
                    )
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Shift(models.Model):
    """A post manned from `starts_at` to `ends_at` by `headcount` volunteers."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="shifts")
    duty_type = models.ForeignKey(DutyType, on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    headcount = models.PositiveSmallIntegerField()
    notes = models.CharField(max_length=300, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="shift_ends_after_it_starts", condition=Q(ends_at__gt=F("starts_at"))
            ),
            models.CheckConstraint(name="shift_needs_someone", condition=Q(headcount__gte=1)),
            models.CheckConstraint(
                name="shift_cancelled_with_a_reason",
                condition=Q(cancelled_at__isnull=True, cancel_reason="")
                | (Q(cancelled_at__isnull=False) & ~Q(cancel_reason="")),
            ),
        ]
        indexes = [
            models.Index(fields=["starts_at"], name="shift_start_idx"),
            models.Index(fields=["post", "starts_at"], name="shift_post_start_idx"),
        ]

    def __str__(self) -> str:
        return f"shift {self.pk}"


class ShiftRequirement(models.Model):
    """`count` of the shift's assignees must hold a qualification (`code`, of class `klass`
    when given) or be eligible for an equipment target (`code` like firearm/rifle)."""

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="requirements")
    kind = models.CharField(max_length=16, choices=RequirementKind.choices)
    code = models.CharField(max_length=81)
    klass = models.CharField("class", max_length=40, blank=True)
    count = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["shift", "pk"]
        constraints = [models.CheckConstraint(name="requirement_count", condition=Q(count__gte=1))]

    def __str__(self) -> str:
        return f"{self.count} × {self.kind} {self.code}"


class ShiftEquipment(models.Model):
    """`count` items of an equipment category the shift needs (e.g. one radio)."""

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="equipment")
    category = models.CharField(max_length=40)
    count = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["shift", "pk"]
        constraints = [models.CheckConstraint(name="equipment_count", condition=Q(count__gte=1))]

    def __str__(self) -> str:
        return f"{self.count} × {self.category}"


class Assignment(models.Model):
    """A volunteer on a shift, in its current state; its history is in `events`."""

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="assignments")
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="duty_assignments"
    )
    state = models.CharField(max_length=16, choices=AssignmentState.choices)
    suggested = models.BooleanField(default=False, help_text="From an accepted suggested roster")
    assigned_by = models.CharField(max_length=150)
    assigned_at = models.DateTimeField()
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True, help_text="Of the last change")
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["shift", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "person"],
                condition=~Q(state=AssignmentState.CANCELLED),
                name="assignment_once_per_shift",
            ),
            models.CheckConstraint(
                name="assignment_times_follow_state",
                condition=Q(state=AssignmentState.CHECKED_IN, checked_in_at__isnull=False)
                | Q(
                    state=AssignmentState.CHECKED_OUT,
                    checked_in_at__isnull=False,
                    checked_out_at__isnull=False,
                )
                | ~Q(state__in=[AssignmentState.CHECKED_IN, AssignmentState.CHECKED_OUT]),
            ),
        ]
        indexes = [
            models.Index(fields=["person", "state"], name="assignment_person_idx"),
            models.Index(fields=["shift", "state"], name="assignment_shift_idx"),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk}"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class AssignmentEvent(models.Model):
    """One step of an assignment's history (append-only): the first has an empty from_state."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=16, choices=AssignmentState.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=AssignmentState.choices)
    at = models.DateTimeField(help_text="When it happened")
    reason = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assignment", "pk"]

    def __str__(self) -> str:
        return f"{self.assignment_id}: {self.from_state or '—'} → {self.to_state}"


class Availability(models.Model):
    """A volunteer's availability, unavailability or leave for a period (append-only);
    withdrawn by a later AvailabilityWithdrawal."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="duty_availability"
    )
    kind = models.CharField(max_length=16, choices=AvailabilityKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "starts_at", "pk"]
        verbose_name_plural = "availability"
        constraints = [
            models.CheckConstraint(
                name="availability_ends_after_it_starts", condition=Q(ends_at__gt=F("starts_at"))
            )
        ]
        indexes = [models.Index(fields=["person", "ends_at"], name="availability_person_idx")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.person_id}"


class AvailabilityWithdrawal(models.Model):
    availability = models.OneToOneField(
        Availability, on_delete=models.PROTECT, related_name="withdrawal"
    )
    reason = models.CharField(max_length=300)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"withdrawal of {self.availability_id}"


class ShiftIssue(models.Model):
    """An item issued to an assignee for their shift (append-only); the item's custody is the
    armory's, due back at the shift's end."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="issues")
    item = models.ForeignKey("armory.Item", on_delete=models.PROTECT, related_name="shift_issues")
    issued_at = models.DateTimeField()
    due_at = models.DateTimeField()
    actor = models.CharField(max_length=150)

    class Meta:
        ordering = ["assignment", "pk"]

    def __str__(self) -> str:
        return f"item {self.item_id} for {self.assignment_id}"
