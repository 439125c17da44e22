"""Users and what they may act as.

A user account is separate from a volunteer's registry record: staff, auditors and HQ may
have no record, and most volunteers have no account. `person` links the two where both exist.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from muster.accounts.choices import Role


class User(AbstractUser):
    person = models.OneToOneField(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )


class RoleGrant(models.Model):
    """A role held by a user over a scope: a unit subtree (or everything, when unit is empty)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    unit = models.ForeignKey("people.Unit", null=True, blank=True, on_delete=models.PROTECT)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="accounts_grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} over {self.unit or 'everything'}"
