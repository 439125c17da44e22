"""The armory: catalogue, storage sites, items and lots, and what happens to them.

Item and LotBalance hold *current* custody for fast reads and locking; the journal holds every
custody event (subject `item`/`lot`), from which the current state can be replayed. Rows here
are never deleted (a trigger refuses it): a disposed item stays, with place `disposed`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from muster.armory.choices import (
    Condition,
    CountStatus,
    IncidentKind,
    IncidentStatus,
    IssueKind,
    Place,
    Tracking,
    VarianceKind,
    VarianceResolution,
)


class Category(models.Model):
    """An equipment category; its code is the one the policy uses (firearm, drone, …)."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    tracking = models.CharField(max_length=16, choices=Tracking.choices)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.code


class EquipmentModel(models.Model):
    """A make and model with its legal class and attributes (calibre, magazine capacity, …)."""

    code = models.CharField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="models")
    manufacturer = models.CharField(max_length=200, blank=True)
    legal_class = models.CharField(max_length=40, blank=True)
    weapon_class = models.CharField(
        max_length=40, blank=True, help_text="The policy class decided for it, e.g. rifle"
    )
    attributes = models.JSONField(default=dict, blank=True)
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def target(self) -> str:
        """The eligibility target: "firearm/rifle", or the category alone."""
        return (
            f"{self.category.code}/{self.weapon_class}" if self.weapon_class else self.category.code
        )


class Site(models.Model):
    """A storage site (arms room, armory, base) with certified security conditions."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    unit = models.ForeignKey("people.Unit", on_delete=models.PROTECT, related_name="sites")
    security_level = models.CharField(max_length=40)
    certified_on = models.DateField()
    certification_expires = models.DateField(null=True, blank=True)
    address = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SiteCustodian(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="custodians")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="custody_of")
    since = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "user"], name="site_custodian_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} custodian of {self.site}"


class SiteCapacity(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="capacities")
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    max_items = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "category"], name="site_capacity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.site}: {self.max_items} × {self.category}"


class Kit(models.Model):
    """Serialized items issued and returned together (a rifle with its optic and magazines)."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class Item(models.Model):
    """One serialized item and where it is now: exactly one place, enforced by a constraint."""

    # No index of its own: item_serial_unique (model, serial) serves lookups by model.
    model = models.ForeignKey(
        EquipmentModel, on_delete=models.PROTECT, related_name="items", db_index=False
    )
    serial = models.CharField(max_length=80)
    registration = models.CharField(max_length=40, blank=True, help_text="Vehicles")
    place = models.CharField(max_length=16, choices=Place.choices)
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
        help_text="The site it is at; in transit, the site it left",
        db_index=False,  # item_site_idx (site, place) serves lookups by site
    )
    transit_to = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="incoming"
    )
    holder = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    home_site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        related_name="home_items",
        help_text="The site accountable for it (where it returns to)",
    )
    condition = models.CharField(max_length=24, choices=Condition.choices)
    issue_kind = models.CharField(max_length=16, choices=IssueKind.choices, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    emergency = models.BooleanField(default=False, help_text="Issued without the usual checks")
    kit = models.ForeignKey(
        Kit, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    version = models.PositiveIntegerField(default=0, help_text="Bumped by every custody change")
    last_seq = models.BigIntegerField(
        null=True, blank=True, help_text="Journal seq of the last event"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["model", "serial"], name="item_serial_unique"),
            models.UniqueConstraint(
                fields=["registration"],
                condition=~Q(registration=""),
                name="item_registration_unique",
            ),
            models.CheckConstraint(
                name="item_in_exactly_one_place",
                condition=(
                    Q(
                        place=Place.SITE,
                        site__isnull=False,
                        holder__isnull=True,
                        transit_to__isnull=True,
                    )
                    | Q(
                        place=Place.PERSON,
                        site__isnull=True,
                        holder__isnull=False,
                        transit_to__isnull=True,
                    )
                    | Q(
                        place=Place.IN_TRANSIT,
                        site__isnull=False,
                        holder__isnull=True,
                        transit_to__isnull=False,
                    )
                    | Q(
                        place__in=[Place.MAINTENANCE, Place.LOST, Place.STOLEN, Place.DISPOSED],
                        site__isnull=True,
                        holder__isnull=True,
                        transit_to__isnull=True,
                    )
                ),
            ),
            models.CheckConstraint(
                name="item_issue_only_when_held",
                condition=Q(place=Place.PERSON, issued_at__isnull=False)
                | Q(issue_kind="", due_at__isnull=True, emergency=False) & ~Q(place=Place.PERSON),
            ),
        ]
        indexes = [
            models.Index(fields=["site", "place"], name="item_site_idx"),
            models.Index(fields=["place", "due_at"], name="item_due_idx"),
            models.Index(fields=["serial"], name="item_serial_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model_id}:{self.serial}"


class Lot(models.Model):
    """A batch of a quantity item (ammunition) sharing a lot number."""

    model = models.ForeignKey(EquipmentModel, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=80)
    received_total = models.PositiveBigIntegerField(default=0)
    expended_total = models.PositiveBigIntegerField(default=0)
    written_off_total = models.PositiveBigIntegerField(
        default=0, help_text="Lost, stolen, disposed"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "lot_number"], name="lot_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.model_id} lot {self.lot_number}"


class LotBalance(models.Model):
    """How many of a lot are at one site or with one person; never negative (database check)."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)
    holder = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT)
    quantity = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="lot_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(site__isnull=False, holder__isnull=True)
                | Q(site__isnull=True, holder__isnull=False),
                name="lot_balance_one_place",
            ),
            models.UniqueConstraint(
                fields=["lot", "site"],
                condition=Q(site__isnull=False),
                name="lot_balance_site_unique",
            ),
            models.UniqueConstraint(
                fields=["lot", "holder"],
                condition=Q(holder__isnull=False),
                name="lot_balance_holder_unique",
            ),
        ]
        indexes = [models.Index(fields=["holder"], name="lot_balance_holder_idx")]

    def __str__(self) -> str:
        return f"{self.lot}: {self.quantity} at {self.site_id or self.holder_id}"


class QuotaUsage(models.Model):
    """Items of a category issued at once in a region, checked against the policy's quota."""

    region = models.ForeignKey("people.Unit", on_delete=models.PROTECT)
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    issued = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "category"], name="quota_usage_unique"),
            models.CheckConstraint(condition=Q(issued__gte=0), name="quota_usage_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id}/{self.category_id}: {self.issued}"


class Shipment(models.Model):
    """A batch received at a site against a reference; discrepancies are kept with it."""

    reference = models.CharField(max_length=80)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="shipments")
    received_by = models.CharField(max_length=150)
    received_at = models.DateTimeField(auto_now_add=True)
    expected_lines = models.PositiveIntegerField(default=0)
    received_lines = models.PositiveIntegerField(default=0)
    discrepancies = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "reference"], name="shipment_reference_unique")
        ]

    def __str__(self) -> str:
        return f"shipment {self.reference} at {self.site_id}"


class Transfer(models.Model):
    """Items and quantities dispatched from one site to another, and what arrived."""

    from_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="transfers_out")
    to_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="transfers_in")
    dispatched_by = models.CharField(max_length=150)
    dispatched_at = models.DateTimeField(auto_now_add=True)
    received_by = models.CharField(max_length=150, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    items = models.ManyToManyField(Item, blank=True, related_name="transfers")
    discrepancies = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"transfer {self.pk} {self.from_site_id}→{self.to_site_id}"


class InventoryCount(models.Model):
    """A count of a site (all of it, or one category), blind unless policy says otherwise."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="counts")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT)
    counter = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="counts")
    blind = models.BooleanField(default=True)
    status = models.CharField(max_length=8, choices=CountStatus.choices, default=CountStatus.OPEN)
    started_by = models.CharField(max_length=150)
    started_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.CharField(max_length=150, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "category"],
                condition=Q(status="open"),
                name="one_open_count_per_scope",
            ),
            # NULLs are distinct in a unique index, so the rule above misses full-site counts.
            models.UniqueConstraint(
                fields=["site"],
                condition=Q(status="open", category__isnull=True),
                name="one_open_full_count_per_site",
            ),
        ]

    def __str__(self) -> str:
        return f"count {self.pk} at {self.site_id}"


class CountRecord(models.Model):
    """One thing the counter saw: a serial number, or a lot and a quantity."""

    count = models.ForeignKey(InventoryCount, on_delete=models.PROTECT, related_name="records")
    serial = models.CharField(max_length=80, blank=True)
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT)
    quantity = models.PositiveBigIntegerField(null=True, blank=True)
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.count_id}: {self.serial or self.lot_id}"


class Variance(models.Model):
    """A difference between a count and the record; closed only by an authorised resolution."""

    count = models.ForeignKey(InventoryCount, on_delete=models.PROTECT, related_name="variances")
    kind = models.CharField(max_length=16, choices=VarianceKind.choices)
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT)
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT)
    serial = models.CharField(max_length=80, blank=True)
    expected = models.BigIntegerField(default=0)
    counted = models.BigIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)
    resolution = models.CharField(max_length=16, choices=VarianceResolution.choices, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.serial or self.lot_id} in count {self.count_id}"


class Incident(models.Model):
    kind = models.CharField(max_length=16, choices=IncidentKind.choices)
    status = models.CharField(
        max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    summary = models.CharField(max_length=500)
    opened_by = models.CharField(max_length=150)
    opened_at = models.DateTimeField(auto_now_add=True)
    items = models.ManyToManyField(Item, blank=True, related_name="incidents")
    people = models.ManyToManyField("people.Person", blank=True, related_name="incidents")

    def __str__(self) -> str:
        return f"incident {self.pk} ({self.kind}, {self.status})"


class IncidentNote(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField()
    status_to = models.CharField(max_length=16, choices=IncidentStatus.choices, blank=True)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"note on {self.incident_id}"
