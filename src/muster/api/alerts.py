"""Alerts: listed for whoever must act, acknowledged and resolved (R7)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["alerts"])
