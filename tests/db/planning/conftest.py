"""Fixtures of the planning tests, from planning_world.py."""

from planning_world import accounts, battalions, young_rifleman  # noqa: F401
