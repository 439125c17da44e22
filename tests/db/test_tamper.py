"""Tampering behind the application's back, with the database's triggers lifted, is found by
`muster log verify` (or `muster-verify`) from an export, and the message says what and where."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from muster.core.append_only import create_sql, drop_sql
from muster.journal import log
from muster.journal.models import Checkpoint, JournalEntry, LogSubtree, TreeHead
from muster.journal.services import Change, record_changes
from muster_verify.canonical import canonical_bytes

TABLES = [JournalEntry, LogSubtree, Checkpoint, TreeHead]


@pytest.fixture
def exported(db, actor, settings, tmp_path):
    """A log of 600 entries (item chains among them), integrated, its key kept by the auditor."""
    settings.LOG_KEY_FILE = tmp_path / "log.key"
    settings.LOG_ORIGIN = "muster.test/log"
    with transaction.atomic():
        record_changes(
            actor=actor,
            changes=[
                Change("custody.moved", "item", n % 9, {"n": n, "prev": n - 9 if n >= 9 else None})
                for n in range(600)
            ],
        )
    log.integrate()
    key = tmp_path / "auditor.pub"
    key.write_text(log.verifier_key())
    return {"key": key, "tmp": tmp_path, "checkpoint": log.latest_checkpoint().note}


def behind_the_back(*statements: tuple[str, list]) -> None:
    """Run SQL with the append-only triggers lifted, as someone going around Muster would."""
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        for model in TABLES:
            for statement in drop_sql(vendor, model._meta.db_table):
                cursor.execute(statement)
        for sql, params in statements:
            cursor.execute(sql, params)
        for model in TABLES:
            allow_update = model is TreeHead
            for statement in create_sql(vendor, model._meta.db_table, allow_update=allow_update):
                cursor.execute(statement)


def body_of(seq: int) -> dict:
    return json.loads(JournalEntry.objects.get(seq=seq).body)


def verify(exported, since: str | None = None) -> tuple[int, str]:
    directory = exported["tmp"] / "export"
    call_command("log", "export", str(directory), stdout=StringIO(), stderr=StringIO())
    args = ["log", "verify", str(directory), "--key", str(exported["key"])]
    if since is not None:
        kept = exported["tmp"] / "kept-checkpoint"
        kept.write_text(since)
        args += ["--since", str(kept)]
    out = StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as failure:
        return failure.returncode, str(failure)
    return 0, out.getvalue()


def test_an_untouched_log_verifies(exported):
    status, report = verify(exported)
    assert status == 0, report
    assert "600 entries" in report and "9 item custody chains unbroken" in report


def test_an_edited_entry_is_found_at_its_index(exported):
    edited = body_of(123)
    edited["actor"] = "mallory"
    behind_the_back(
        ("UPDATE journal_journalentry SET body = %s WHERE seq = 123",
         [canonical_bytes(edited).decode()]),
    )  # fmt: skip
    status, why = verify(exported)
    assert status == 1
    assert "(entry 123)" in why and "differs from the entries" in why


def test_a_deleted_entry_is_found(exported):
    behind_the_back(("DELETE FROM journal_journalentry WHERE seq = 300", []))
    status, why = verify(exported)
    assert status == 1 and "entry 300" in why


def test_two_swapped_entries_are_found(exported):
    first, second = (JournalEntry.objects.get(seq=s).body for s in (40, 41))
    behind_the_back(
        ("UPDATE journal_journalentry SET body = %s WHERE seq = 40", [second]),
        ("UPDATE journal_journalentry SET body = %s WHERE seq = 41", [first]),
    )
    status, why = verify(exported)
    assert status == 1 and "(entry 40)" in why


def test_a_truncated_tail_is_found(exported):
    behind_the_back(("DELETE FROM journal_journalentry WHERE seq >= 590", []))
    status, why = verify(exported)
    assert status == 1 and "tile/entries/002.p/88: missing (entries 512..599)" in why


def rewrite_history() -> None:
    """Change entry 7 and throw the whole tree away, to integrate and sign it anew."""
    edited = body_of(7)
    edited["data"]["n"] = 700
    behind_the_back(
        ("UPDATE journal_journalentry SET body = %s WHERE seq = 7", [canonical_bytes(edited).decode()]),
        ("DELETE FROM journal_logsubtree", []),
        ("DELETE FROM journal_checkpoint", []),
        ("DELETE FROM journal_treehead", []),
    )  # fmt: skip


def test_a_log_recomputed_and_signed_with_another_key_is_refused(exported, settings):
    rewrite_history()
    settings.LOG_KEY_FILE = Path(exported["tmp"]) / "new.key"  # a fresh key, same origin
    log.integrate()
    status, why = verify(exported)
    assert status == 1 and "checkpoint: no valid signature" in why


def test_a_log_recomputed_with_the_same_key_is_caught_by_a_checkpoint_kept_earlier(exported):
    rewrite_history()
    log.integrate()  # the same key signs the rewritten history
    assert verify(exported)[0] == 0  # consistent in itself…
    status, why = verify(exported, since=exported["checkpoint"])
    assert status == 1 and "since" in why  # …but not with what the auditor kept
