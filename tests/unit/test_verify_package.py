"""The verifier stands on its own: an auditor can install and run it without Django or Muster."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "muster_verify",
    "muster_verify.errors",
    "muster_verify.merkle",
    "muster_verify.note",
    "muster_verify.checkpoint",
    "muster_verify.cosignature",
    "muster_verify.witness",
    "muster_verify.proof",
    "muster_verify.tiles",
    "muster_verify.canonical",
    "muster_verify.verify",
    "muster_verify.cli",
]


@pytest.mark.parametrize("module", MODULES)
def test_importing_the_verifier_loads_neither_django_nor_muster(module):
    probe = (
        f"import sys, {module}\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'muster'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []
