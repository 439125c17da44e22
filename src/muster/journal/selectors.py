"""Reads over the journal."""

from __future__ import annotations

from django.db.models import QuerySet

from muster.journal.models import JournalEntry


def entries_about(subject_type: str, subject_id: str | int) -> QuerySet[JournalEntry]:
    """Every entry about one subject, oldest first."""
    return JournalEntry.objects.filter(
        subject_type=subject_type, subject_id=str(subject_id)
    ).order_by("seq")


def journal_size() -> int:
    from muster.journal.models import JournalHead

    head = JournalHead.objects.filter(pk=1).first()
    return head.size if head else 0
