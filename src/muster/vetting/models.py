"""Qualification types (data) and the append-only record of qualifications and revocations."""

from __future__ import annotations

from django.db import models


class QualificationType(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    # e.g. weapon classes for firearms training, licence categories for driving.
    classes = models.JSONField(default=list, blank=True)
    default_validity_months = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Qualification(models.Model):
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="qualifications"
    )
    qualification_type = models.ForeignKey(QualificationType, on_delete=models.PROTECT)
    klass = models.CharField("class", max_length=40, blank=True)
    obtained_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    examiner = models.CharField(max_length=200, blank=True)
    evidence_ref = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "obtained_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "qualification_type", "klass", "obtained_on"],
                name="qualification_natural_key",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gt=models.F("obtained_on")),
                name="qualification_expires_after_obtained",
            ),
        ]

    def __str__(self) -> str:
        klass = f"/{self.klass}" if self.klass else ""
        return f"{self.qualification_type_id}{klass} of {self.person_id} on {self.obtained_on}"


class QualificationRevocation(models.Model):
    qualification = models.OneToOneField(
        Qualification, on_delete=models.PROTECT, related_name="revocation"
    )
    revoked_on = models.DateField()
    reason = models.CharField(max_length=300)
    actor = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"revocation of {self.qualification_id} on {self.revoked_on}"
