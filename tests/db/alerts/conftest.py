"""The alert tests' fixtures live in alert_world.py (a module name of its own, so test modules
can import its helpers without colliding with the other conftest modules)."""

from alert_world import alerts, no_duties, world

__all__ = ["alerts", "no_duties", "world"]
