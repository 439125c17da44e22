"""The duties' refusal of bad input (a refusal by the rostering rules is a Decision, not this)."""

from __future__ import annotations

from muster.core.errors import DomainError


class DutyError(DomainError):
    """Duty types, posts, shifts, assignments and availability."""
