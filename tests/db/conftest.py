"""Database tests build their worlds from tests/worlds.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(fast_password_hashing):
    """Every database test hashes passwords fast (see worlds.fast_password_hashing)."""
