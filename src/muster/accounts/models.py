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


class LoginState(models.Model):
    """Failed sign-ins in a row for one username, and how long it is locked.

    Keyed by the username as typed rather than by the user, so that an unknown username is
    throttled and locked exactly like a real one and the lock does not reveal which exist.
    """

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.username}: {self.failures} failure(s)"


class TotpDevice(models.Model):
    """A user's TOTP second factor (RFC 6238); it counts only once confirmed with a code."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The time step of the last code accepted: a code is good once, never replayed.
    last_step = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed_at else "pending"
        return f"TOTP of {self.user} ({state})"


class ApiToken(models.Model):
    """A credential for scripts. Only the SHA-256 of the token is kept; the secret is shown
    once, when it is made. `prefix` (not secret) finds the row and names it in lists."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
