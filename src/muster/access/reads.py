"""Reading a volunteer's personal record is journaled when someone else reads it (R10): who,
when, and why if they said."""

from __future__ import annotations

from django.db import transaction

from muster.access.scope import Scope
from muster.core.actors import Actor
from muster.journal.services import Change, record_change
from muster.people.models import Person


def record_person_read(*, actor: Actor, scope: Scope, person: Person, why: str = "") -> bool:
    """Journal `person.viewed` unless the reader is the person themselves; returns whether an
    entry was written. Call it from every page, API handler and export that shows a person's
    record (not from lists that show only names)."""
    if scope.person_id == person.pk:
        return False
    with transaction.atomic():
        record_change(
            actor=actor,
            change=Change("person.viewed", "person", person.pk, {"why": why.strip()[:200]}),
        )
    return True
