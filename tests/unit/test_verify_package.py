"""The verifier stands on its own: an auditor can install and run it without Django or Muster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_verify_export import export
from test_verify_tiles import journal_entries

from muster_verify.note import generate_key, parse_signer_key

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


ROOT = Path(__file__).resolve().parents[2]


def test_the_verifier_installs_alone_and_verifies_an_export(tmp_path):
    """`scripts/verifier-wheel.sh` builds a wheel of muster_verify alone; installed in a fresh
    environment with only its one dependency, its command verifies an export, and neither
    Django nor Muster is there to import."""
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [ROOT / "scripts" / "verifier-wheel.sh", tmp_path / "dist"], check=True, cwd=ROOT,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("muster_verify-*.whl")
    env = tmp_path / "auditor"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "-p", env / "bin" / "python", wheel], check=True,
        capture_output=True,
    )  # fmt: skip
    installed = subprocess.run(
        [env / "bin" / "python", "-c", "import importlib.metadata as m; "
         "print(sorted(d.metadata['Name'].lower() for d in m.distributions()))"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert "muster-verify" in installed and "cryptography" in installed
    assert "django" not in installed and "'muster'" not in installed

    signer = parse_signer_key(generate_key("muster.example/log")[0])
    export(tmp_path / "export", journal_entries(300), signer)
    done = subprocess.run(
        [env / "bin" / "muster-verify", tmp_path / "export", "--key", signer.verifier.encode()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "tree size  300 entries" in done.stdout
