"""Migration 0006 (log shards) keeps a log that already has a tree: it becomes shard 1 under
the origin of its checkpoints, with every stored subtree hash."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from muster.journal import log
from muster.journal.models import LogShard, LogSubtree
from muster_verify import merkle

BEFORE = [("journal", "0005_cosignatures")]


@pytest.mark.django_db(transaction=True)
def test_a_log_with_a_tree_becomes_shard_one(actor, settings, tmp_path):
    settings.LOG_KEY_FILE = tmp_path / "log.key"
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("journal")
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        leaves = [merkle.leaf_hash(b"%d" % n) for n in range(3)]
        old.get_model("journal", "Subtree").objects.bulk_create(
            [
                *(
                    old.get_model("journal", "Subtree")(level=0, index=n, hash=leaf)
                    for n, leaf in enumerate(leaves)
                ),
                old.get_model("journal", "Subtree")(
                    level=1, index=0, hash=merkle.node_hash(leaves[0], leaves[1])
                ),
            ]
        )
        old.get_model("journal", "TreeHead").objects.create(
            id=1, size=3, root=merkle.root(leaves), frontier=b""
        )
        old.get_model("journal", "Checkpoint").objects.create(
            origin="kept.example/log", size=3, root=merkle.root(leaves), note="…",
            signed_at="2026-01-01T00:00:00Z",
        )  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    shard = LogShard.objects.get()
    assert (shard.id, shard.origin, shard.start) == (1, "kept.example/log", 0)
    stored = {(s.shard, s.level, s.index): bytes(s.hash) for s in LogSubtree.objects.all()}
    assert stored == {
        (1, 0, 0): leaves[0],
        (1, 0, 1): leaves[1],
        (1, 0, 2): leaves[2],
        (1, 1, 0): merkle.node_hash(leaves[0], leaves[1]),
    }
    assert log.inclusion_proof(2, 3, shard) == [merkle.node_hash(leaves[0], leaves[1])]
