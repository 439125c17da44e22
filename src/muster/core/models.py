"""The one table the core owns: the stamp that says when reference data last changed."""

from __future__ import annotations

from django.db import models


class ReferenceStamp(models.Model):
    """One row whose `stamp` a database trigger replaces with a fresh random value whenever a
    reference table (units, role grants, policy versions, sites, custodians, the catalogue)
    changes, in the changing transaction. A process may keep what it read of those tables for
    as long as the stamp it read them under is still the stamp (see `muster.core.reference`)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    stamp = models.CharField(max_length=36)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="reference_stamp_single_row"),
        ]

    def __str__(self) -> str:
        return f"reference data stamp {self.stamp}"
