"""Every command and setting a user can reach is documented, so the docs cannot drift."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from django.core.management import get_commands

from muster.cli import MUSTER_COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def muster_commands() -> set[str]:
    return {name for name, app in get_commands().items() if app.startswith("muster.")}


def test_every_muster_command_is_listed_by_muster_help():
    assert muster_commands() == set(MUSTER_COMMANDS)


def test_every_muster_command_is_in_the_readme():
    missing = [name for name in muster_commands() if f"`muster {name}" not in README]
    assert not missing, f"README does not document: {missing}"


def test_every_setting_read_from_the_environment_is_in_the_readme():
    sources = "\n".join(p.read_text() for p in (ROOT / "src" / "muster").rglob("*.py"))
    sources += (ROOT / "scripts" / "test.sh").read_text() + (
        ROOT / "scripts" / "with-postgres.sh"
    ).read_text()
    names = set(re.findall(r"[\"'{$](MUSTER_[A-Z_]+)\b", sources))
    internal = {"MUSTER_TEST_ENGINE", "MUSTER_TEST_SQLITE_PATH", "MUSTER_NEW_PASSWORD"}
    missing = sorted(n for n in names - internal if n not in README)
    assert not missing, f"README does not document: {missing}"


def test_the_readme_starts_with_the_two_commands():
    block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()[1:]]
    assert commands == ["make demo", "make test"]


def test_muster_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "muster.cli", "--help"], capture_output=True, text=True, check=True
    )
    for name in MUSTER_COMMANDS:
        assert f"  {name} " in result.stdout
