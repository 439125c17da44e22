"""Duties: duty types, posts, shifts, assignments, availability, check-in/out, suggested rosters, iCalendar (R9)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["duties"])
