"""The one append-only journal of every change of state.

Each entry's `body` is the RFC 8785 canonical JSON of the whole entry (sequence, time, actor,
kind, subject, data): it is the exact byte string that the transparency log hashes as a leaf.
The other columns repeat parts of it so that they can be queried; `body` is authoritative.
"""

from __future__ import annotations

from django.db import models


class JournalEntry(models.Model):
    seq = models.BigIntegerField(primary_key=True, help_text="0-based, gapless; the log index")
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    kind = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=32)
    subject_id = models.CharField(max_length=64)
    body = models.TextField()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "seq"], name="journal_subject_idx"),
            models.Index(fields=["kind", "seq"], name="journal_kind_idx"),
        ]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.subject_type}:{self.subject_id}"


class JournalHead(models.Model):
    """One row whose lock serialises appends, so that sequence numbers never gap or repeat."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="journal_head_single_row"),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="journal_head_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"journal head at {self.size}"


class LogShard(models.Model):
    """One log origin over a stretch of the journal: its tree holds the entries from `start`
    on, entry `start + i` at index i, until the next shard starts. The first shard starts at 0;
    each later one is begun by `muster log rotate` (e.g. yearly), and its first entry
    (`log.rotated`) commits to the previous shard's final checkpoint."""

    id = models.PositiveSmallIntegerField(primary_key=True, help_text="1, 2, … in order")
    origin = models.CharField(max_length=200, unique=True)
    start = models.BigIntegerField(unique=True, help_text="The journal seq of its index 0")
    started_at = models.DateTimeField()
    previous_final = models.ForeignKey(
        "Checkpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The previous shard's final checkpoint, which this one's first entry names",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(start__gte=0), name="log_shard_start_gte_0")
        ]

    def __str__(self) -> str:
        return f"log {self.origin} from entry {self.start}"


class TreeHead(models.Model):
    """The Merkle tree of one shard (id = the shard's id) over its first `size` entries (RFC
    9162): its root and its frontier (the roots of the complete subtrees covering [0, size),
    largest first, joined). The integrator locks it, so one integration runs at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(max_length=32)
    frontier = models.BinaryField(default=b"")
    integrated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gte=0), name="tree_head_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"tree of {self.size} entries"


class LogSubtree(models.Model):
    """The hash of a complete subtree of a shard's tree: 2**level entries from index
    index * 2**level (level 0 is each entry's leaf hash). Written once, when integration
    completes it; proofs read O(log n) of them."""

    pk = models.CompositePrimaryKey("shard", "level", "index")
    shard = models.PositiveSmallIntegerField()
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"subtree {self.level}/{self.index} of shard {self.shard}"


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note) of the tree at `size`,
    exactly as published."""

    origin = models.CharField(max_length=200)
    size = models.BigIntegerField()
    root = models.BinaryField(max_length=32)
    note = models.TextField(help_text="The signed note, byte for byte")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["size", "id"]
        constraints = [
            models.UniqueConstraint(fields=["origin", "size"], name="checkpoint_origin_size_unique")
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.origin} at {self.size}"


class Cosignature(models.Model):
    """A witness's cosignature (C2SP tlog-cosignature) of a checkpoint: the signature line as
    the witness returned it, verified with the witness's key before it is kept."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.CharField(max_length=200)
    cosigned_at = models.DateTimeField(help_text="The time in the cosignature")
    line = models.TextField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checkpoint", "witness", "cosigned_at"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "line"], name="cosignature_unique")
        ]

    def __str__(self) -> str:
        return f"{self.witness} cosigned {self.checkpoint}"
