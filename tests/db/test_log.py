"""The transparency log over the journal: the tree integrated after commit equals the one an
auditor recomputes from the entries, checkpoints verify with the public key, proofs come from
the stored subtrees, and nothing stored can be changed."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from muster.core.append_only import create_sql, drop_sql
from muster.journal import log
from muster.journal.models import Checkpoint, JournalEntry, LogSubtree, TreeHead
from muster.journal.services import Change, record_changes
from muster_verify import merkle
from muster_verify.checkpoint import open_checkpoint
from muster_verify.note import parse_verifier_key


@pytest.fixture(autouse=True)
def _signing_key(settings, tmp_path):
    settings.LOG_KEY_FILE = tmp_path / "log-signing.key"
    settings.LOG_ORIGIN = "muster.test/log"


def journal(actor, count: int, start: int = 0) -> None:
    with transaction.atomic():
        record_changes(
            actor=actor,
            changes=[
                Change("test.happened", "item", n % 7, {"n": n, "note": "Ї" * (n % 3)})
                for n in range(start, start + count)
            ],
        )


def recomputed_root() -> bytes:
    bodies = JournalEntry.objects.order_by("seq").values_list("body", flat=True)
    return merkle.root([merkle.leaf_hash(body.encode("utf-8")) for body in bodies])


def test_the_integrated_tree_is_the_tree_of_the_entries(db, actor):
    journal(actor, 300)

    done = log.integrate(batch=64)  # several batches, one transaction each

    assert (done.old_size, done.size) == (0, 300)
    assert done.root == recomputed_root() == bytes(TreeHead.objects.get().root)
    # every complete subtree is stored once: 300 leaves, 150 pairs, 75, 37, 18, 9, 4, 2, 1
    assert LogSubtree.objects.count() == 300 + 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1


def test_integrating_again_extends_the_tree_and_signs_only_when_it_grew(db, actor):
    journal(actor, 13)
    first = log.integrate()
    assert log.integrate().checkpoint is None  # nothing new: no second checkpoint
    journal(actor, 20, start=13)

    second = log.integrate()

    assert (second.old_size, second.size) == (13, 33)
    assert second.root == recomputed_root()
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [13, 33]
    proof = log.consistency_proof(13, 33)
    merkle.verify_consistency(13, 33, first.root, second.root, proof)


def test_a_checkpoint_verifies_with_the_public_key_alone(db, actor):
    journal(actor, 5)
    done = log.integrate()
    verifier = parse_verifier_key(log.verifier_key())

    opened = open_checkpoint(done.checkpoint.note, verifier)

    assert (opened.origin, opened.size, opened.root_hash) == ("muster.test/log", 5, done.root)
    assert verifier.name == "muster.test/log"


def test_every_entry_has_an_inclusion_proof_from_the_stored_subtrees(db, actor):
    journal(actor, 37)
    done = log.integrate()
    for entry in JournalEntry.objects.order_by("seq"):
        proof = log.inclusion_proof(entry.seq, done.size)
        leaf = merkle.leaf_hash(entry.body.encode("utf-8"))
        merkle.verify_inclusion(leaf, entry.seq, done.size, proof, done.root)


def test_a_gap_in_the_journal_stops_integration_and_names_the_entry(db, actor):
    journal(actor, 10)
    table = JournalEntry._meta.db_table
    with connection.cursor() as cursor:
        for statement in drop_sql(connection.vendor, table):
            cursor.execute(statement)
        cursor.execute(f"DELETE FROM {table} WHERE seq = 4")
        for statement in create_sql(connection.vendor, table):
            cursor.execute(statement)

    with pytest.raises(log.LogError, match="journal entry 4, seq: is missing"):
        log.integrate()
    assert not Checkpoint.objects.exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_logsubtree SET hash = hash",
        "DELETE FROM journal_logsubtree",
        "UPDATE journal_checkpoint SET note = 'forged'",
        "DELETE FROM journal_checkpoint",
        "DELETE FROM journal_treehead",
        "DELETE FROM journal_logshard",
        "UPDATE journal_logshard SET start = 5",
    ],
)
def test_the_database_refuses_to_change_the_tree(db, actor, statement):
    journal(actor, 3)
    log.integrate()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert LogSubtree.objects.count() == 3 + 1 and Checkpoint.objects.count() == 1


def test_a_key_made_for_another_origin_is_refused(db, actor, settings):
    journal(actor, 2)
    log.integrate()
    settings.LOG_ORIGIN = "elsewhere.example/log"
    with pytest.raises(log.LogError, match=r"first origin is 'muster\.test/log'"):
        log.integrate()


@pytest.mark.django_db(transaction=True)
def test_two_integrators_at_once_take_turns(actor):
    import threading

    journal(actor, 2_000)
    errors = []

    def integrator() -> None:
        try:
            log.integrate(batch=100)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=integrator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert TreeHead.objects.get().size == 2_000
    assert bytes(TreeHead.objects.get().root) == recomputed_root()
    assert LogSubtree.objects.count() == 2 * 2_000 - bin(2_000).count("1")
