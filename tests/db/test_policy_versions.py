"""Loading policy versions and finding the one in force."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import muster.policy
from muster.core.errors import PolicyError
from muster.journal.models import JournalEntry
from muster.policy.selectors import policy_in_force, version_in_force
from muster.policy.services import load_policy
from muster.vetting.models import QualificationType

EXAMPLES = Path(muster.policy.__file__).parent / "examples"
NATIONAL = (EXAMPLES / "national-2026.yaml").read_text()


def test_loading_declares_qualification_types_and_is_journaled(db, actor):
    version, created = load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")
    assert created and version.ref == "national@2026.1"
    assert QualificationType.objects.get(code="firearms_training").classes == ["rifle", "pistol"]
    entry = JournalEntry.objects.get(kind="policy.loaded")
    assert entry.subject_id == "national@2026.1"


def test_loading_the_same_text_twice_changes_nothing(db, actor):
    load_policy(actor=actor, text=NATIONAL, source="a.yaml")
    entries = JournalEntry.objects.count()
    _, created = load_policy(actor=actor, text=NATIONAL, source="a.yaml")
    assert not created
    assert JournalEntry.objects.count() == entries


def test_a_loaded_version_never_changes(db, actor):
    load_policy(actor=actor, text=NATIONAL, source="a.yaml")
    edited = NATIONAL.replace("per_region: 300", "per_region: 301")
    assert edited != NATIONAL
    with pytest.raises(PolicyError, match="already loaded with different content"):
        load_policy(actor=actor, text=edited, source="b.yaml")


def test_a_draft_is_not_loaded_into_force(db, actor):
    with pytest.raises(PolicyError, match="draft"):
        load_policy(
            actor=actor, text=(EXAMPLES / "draft-2027-simplified.yaml").read_text(), source="d.yaml"
        )


def test_the_version_in_force_follows_effective_dates(db, actor):
    load_policy(actor=actor, text=NATIONAL, source="a.yaml")
    later = NATIONAL.replace('version: "2026.1"', 'version: "2027.1"').replace(
        "effective_from: 2026-01-01", "effective_from: 2027-01-01"
    )
    assert later.count("2027.1") == 1
    load_policy(actor=actor, text=later, source="b.yaml")
    assert version_in_force("national", dt.date(2026, 6, 1)).version == "2026.1"
    assert policy_in_force("national", dt.date(2027, 1, 1)).version == "2027.1"
    with pytest.raises(PolicyError, match="no policy is in force on 2025-12-31"):
        version_in_force("national", dt.date(2025, 12, 31))
