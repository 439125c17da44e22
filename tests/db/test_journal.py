"""The journal: gapless, canonical, written with the change, and refused any edit."""

from __future__ import annotations

import json

import pytest
import rfc8785
from django.db import DatabaseError, connection, transaction

from muster.journal.models import JournalEntry, JournalHead
from muster.journal.services import Change, JournalOutsideTransaction, record_change, record_changes
from muster.people.models import Person, StatusChange
from muster.people.services import change_status


def test_entries_are_numbered_without_gaps_from_zero(db, actor):
    with transaction.atomic():
        record_changes(
            actor=actor, changes=[Change("test.happened", "test", i, {"i": i}) for i in range(5)]
        )
    with transaction.atomic():
        record_change(actor=actor, change=Change("test.happened", "test", 5, {"i": 5}))
    assert list(JournalEntry.objects.values_list("seq", flat=True)) == [0, 1, 2, 3, 4, 5]
    assert JournalHead.objects.get().size == 6


def test_body_is_rfc8785_canonical_json_of_the_whole_entry(db, actor):
    with transaction.atomic():
        entry = record_change(
            actor=actor,
            change=Change("test.happened", "test", "x", {"b": "Ї", "a": [1, {"z": 2, "y": None}]}),
        )
    assert JournalEntry.objects.get(seq=entry.seq).body == entry.body  # as stored
    document = json.loads(entry.body)
    assert rfc8785.dumps(document).decode() == entry.body
    assert entry.body.startswith('{"actor":"system:tests","at":"')
    assert document["data"] == {"a": [1, {"y": None, "z": 2}], "b": "Ї"}
    assert document["seq"] == entry.seq and document["kind"] == "test.happened"
    assert document["subject"] == {"id": "x", "type": "test"}


def test_every_stored_body_is_the_canonical_entry_of_its_own_row(db, actor):
    # One change at a time (one statement on PostgreSQL, the number joined into the body in
    # SQL) and several at once (numbers reserved first), across one- and two-digit numbers.
    with transaction.atomic():
        for i in range(7):
            record_change(actor=actor, change=Change("test.one", "item", i, {"n": i}))
        record_changes(
            actor=actor, changes=[Change("test.many", "lot", i, {"n": [i]}) for i in range(7)]
        )
    for entry in JournalEntry.objects.order_by("seq"):
        document = json.loads(entry.body)
        assert rfc8785.dumps(document).decode() == entry.body
        assert (document["seq"], document["kind"], document["actor"]) == (
            entry.seq, entry.kind, entry.actor,
        )  # fmt: skip
        assert document["subject"] == {"type": entry.subject_type, "id": entry.subject_id}
    assert JournalEntry.objects.count() == 14


def test_journaling_outside_a_transaction_is_refused(transactional_db, actor):
    with pytest.raises(JournalOutsideTransaction):
        record_change(actor=actor, change=Change("test.happened", "test", 1, {}))


def test_a_state_change_and_its_entry_commit_together(make_person, actor, today):
    person = make_person()
    before = JournalHead.objects.get().size
    change_status(
        actor=actor, person=person, to_status="suspended", effective_on=today, reason="inquiry"
    )
    entry = JournalEntry.objects.get(seq=before)
    assert entry.kind == "person.suspended"
    assert json.loads(entry.body)["data"] == {
        "effective_on": today.isoformat(),
        "from": "active",
        "reason": "inquiry",
        "to": "suspended",
    }


def test_a_refused_change_leaves_no_entry(make_person, actor, today):
    person = make_person(status="discharged")
    before = JournalHead.objects.get().size
    with pytest.raises(Exception, match="discharge is final"):
        change_status(
            actor=actor, person=person, to_status="active", effective_on=today, reason="oops"
        )
    assert JournalHead.objects.get().size == before
    assert JournalEntry.objects.count() == before
    assert Person.objects.get(pk=person.pk).status == "discharged"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_journalentry SET actor = 'mallory'",
        "DELETE FROM journal_journalentry",
        "UPDATE people_statuschange SET reason = 'rewritten'",
        "DELETE FROM people_membership",
        "UPDATE people_membership SET role = 'commander'",
    ],
)
def test_the_database_refuses_to_edit_history(make_person, statement):
    make_person()
    table = statement.split()[1] if statement.startswith("UPDATE") else statement.split()[2]
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert table  # the statement named a history table


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only")
def test_postgresql_refuses_to_truncate_the_journal(make_person):
    make_person()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE journal_journalentry")
    assert JournalEntry.objects.exists()
    assert StatusChange.objects.exists()


def test_concurrent_writers_get_distinct_gapless_sequence_numbers(transactional_db, actor):
    from concurrent.futures import ThreadPoolExecutor

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with transaction.atomic():
                    record_change(
                        actor=actor, change=Change("test.happened", "test", f"{n}-{i}", {})
                    )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(writer, range(6)))
    seqs = list(JournalEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(90))
    assert JournalHead.objects.get().size == 90
    assert len(set(JournalEntry.objects.values_list("subject_id", flat=True))) == 90
