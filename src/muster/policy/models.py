"""Loaded policy versions: immutable, one per (jurisdiction, version)."""

from __future__ import annotations

from django.db import models


class PolicyVersion(models.Model):
    jurisdiction = models.CharField(max_length=40)
    version = models.CharField(max_length=40)
    effective_from = models.DateField()
    title = models.CharField(max_length=300, blank=True)
    document = models.JSONField(help_text="The validated document, as loaded")
    source = models.TextField(help_text="The file exactly as it was loaded")
    sha256 = models.CharField(max_length=64)
    loaded_by = models.CharField(max_length=150)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["jurisdiction", "effective_from", "loaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "version"], name="policy_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction}@{self.version}"

    @property
    def ref(self) -> str:
        return f"{self.jurisdiction}@{self.version}"
