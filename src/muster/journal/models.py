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
