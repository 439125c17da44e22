"""Policy simulation (what changes if a draft takes effect) and allocation plans (R6, R3)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["planning"])
