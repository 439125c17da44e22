"""What shows that an item's history leaves nothing out: a closed count commits to the last
entry of every item it answers for (`count.heads`), a rotated log begins with every item's
last entry (`log.heads`), and an item's proof bundle carries the latest such attestation. A
full verification of the log checks each one against the chains."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.core.management import call_command

from muster.accounts.models import User
from muster.armory.models import Item
from muster.armory.proofs import item_bundle
from muster.armory.selectors import item_heads
from muster.armory.services.counts import close_count, record_count, start_count
from muster.armory.services.custody import Returned, issue_items, return_items
from muster.core.actors import Actor
from muster.journal import log
from muster.journal.models import JournalEntry, LogShard
from muster.journal.services import HEADS_PER_ENTRY, heads_changes
from muster_verify.errors import VerificationError
from muster_verify.note import parse_verifier_key
from muster_verify.proof import verify_bundle
from muster_verify.verify import verify_export


@pytest.fixture(autouse=True)
def _log_key(settings, tmp_path):
    settings.LOG_KEY_FILE = tmp_path / "log.key"
    settings.LOG_ORIGIN = "muster.test/log"


def issue(armory, person, serial):
    issue_items(
        actor=armory["armorer"], second=armory["commander"], person=person,
        item_ids=[Item.objects.get(serial=serial).pk], kind="checkout", hours=8,
    )  # fmt: skip


def give_back(armory, person, serial):
    return_items(
        actor=armory["armorer"], second=armory["commander"], person=person,
        returns=[Returned(Item.objects.get(serial=serial).pk)],
    )  # fmt: skip


def counted(armory):
    """A count of the vault: every rifle seen but R0002, which is out with the rifleman."""
    counter = User.objects.create_user(username="counter", password="x" * 12)
    count = start_count(
        actor=armory["armorer"], site=armory["vault"], counter=counter, category=None
    )
    seen = [f"R{n:04d}" for n in range(1, 11) if n != 2]
    record_count(actor=Actor.for_user(counter), count=count, serials=seen)
    close_count(actor=Actor.for_user(counter), count=count)
    return count


def key():
    return parse_verifier_key(log.verifier_key())


def test_a_closed_count_commits_to_the_last_entry_of_every_item_it_answers_for(
    armory, rifleman, tmp_path
):
    issue(armory, rifleman, "R0002")
    count = counted(armory)

    (heads,) = JournalEntry.objects.filter(kind="count.heads", subject_id=str(count.pk))
    listed = json.loads(heads.body)["data"]
    expected = {str(item.pk): item.last_seq for item in Item.objects.all()}
    assert dict(listed["heads"]) == expected and len(expected) == 10
    assert (listed["part"], listed["parts"]) == (1, 1)
    issued = Item.objects.get(serial="R0002")
    assert JournalEntry.objects.get(seq=issued.last_seq).kind == "custody.issued"

    log.export(tmp_path / "export")
    report = verify_export(tmp_path / "export", log.verifier_key())
    assert report.heads_checked == 10


def test_heads_are_split_over_entries_within_the_size_limit():
    many = [(str(n), 10_000_000_000 + n) for n in range(HEADS_PER_ENTRY * 2 + 1)]
    changes = heads_changes("count.heads", "count", 1, reversed(many))
    assert [(c.data["part"], c.data["parts"], len(c.data["heads"])) for c in changes] == [
        (1, 3, HEADS_PER_ENTRY),
        (2, 3, HEADS_PER_ENTRY),
        (3, 3, 1),
    ]
    assert [pair for c in changes for pair in c.data["heads"]] == many  # in id order
    assert max(len(json.dumps(c.data)) for c in changes) < 65_535 - 500


def test_the_bundle_shows_no_event_is_left_out_up_to_the_count(armory, rifleman, tmp_path):
    issue(armory, rifleman, "R0002")
    count = counted(armory)
    rifle = Item.objects.get(serial="R0002")

    bundle = item_bundle(rifle)

    heads = JournalEntry.objects.get(kind="count.heads", subject_id=str(count.pk))
    assert (bundle.events, bundle.attestation) == (2, heads.seq)
    history = verify_bundle(bundle.text, key())
    assert [e["kind"] for e in history.events] == ["custody.received", "custody.issued"]
    assert history.complete_through == heads.seq

    # Leave the issue out: the chain is still whole, but the count says it was the last event.
    proofs = bundle.text.split("c2sp.org/tlog-proof@v1\n")
    without_issue = "c2sp.org/tlog-proof@v1\n".join([proofs[0], proofs[1], proofs[3]])
    with pytest.raises(VerificationError, match="which the bundle does not hold: an event is left"):
        verify_bundle(without_issue, key())


def test_events_after_the_count_are_shown_and_the_attestation_still_holds(armory, rifleman):
    counted(armory)
    issue(armory, rifleman, "R0003")
    give_back(armory, rifleman, "R0003")

    bundle = item_bundle(Item.objects.get(serial="R0003"))

    history = verify_bundle(bundle.text, key())
    assert [e["kind"] for e in history.events] == [
        "custody.received", "custody.issued", "custody.returned",
    ]  # fmt: skip
    assert history.complete_through == bundle.attestation
    assert history.events[0]["seq"] < history.complete_through < history.events[1]["seq"]


def test_an_item_no_count_answered_for_has_no_attestation(armory):
    bundle = item_bundle(Item.objects.get(serial="R0001"))
    assert bundle.attestation is None
    assert verify_bundle(bundle.text, key()).complete_through is None


# --- rotation ------------------------------------------------------------------------------


def test_a_rotated_log_continues_every_chain_and_both_logs_verify(armory, rifleman, tmp_path):
    issue(armory, rifleman, "R0001")
    old_key = log.verifier_key()
    new = log.rotate("muster.test/log/2027", actor=Actor.system("tests"), heads=item_heads)
    give_back(armory, rifleman, "R0001")
    log.integrate()

    first, second = LogShard.objects.order_by("id")
    assert (second.start, second.previous_final.size) == (new.start, new.start)
    rotated = JournalEntry.objects.get(seq=new.start)
    assert rotated.kind == "log.rotated"
    assert json.loads(rotated.body)["data"]["previous"]["checkpoint"] == first_final(first)

    log.export(tmp_path / "old", shard=first)
    log.export(tmp_path / "new")
    assert verify_export(tmp_path / "old", old_key).size == new.start
    report = verify_export(tmp_path / "new", log.verifier_key(), previous_key_text=old_key)
    assert report.offset == new.start and report.previous_signed
    assert report.heads_checked == 10 and report.previous.origin == "muster.test/log"

    # The rifle's history spans both logs: one checkpoint each, one chain.
    bundle = item_bundle(Item.objects.get(serial="R0001"))
    keys = [parse_verifier_key(old_key), parse_verifier_key(log.verifier_key())]
    history = verify_bundle(bundle.text, keys)
    assert [e["kind"] for e in history.events] == [
        "custody.received", "custody.issued", "custody.returned",
    ]  # fmt: skip
    assert [c.origin for c in history.checkpoints] == ["muster.test/log", "muster.test/log/2027"]
    log_heads = JournalEntry.objects.get(kind="log.heads")
    assert history.complete_through == log_heads.seq
    with pytest.raises(VerificationError, match="no key given for it"):
        verify_bundle(bundle.text, keys[1:])


def first_final(shard: LogShard) -> str:
    return log.latest_checkpoint(shard).note


def test_the_sealed_log_takes_no_more_entries(armory, rifleman):
    log.rotate("muster.test/log/2027", actor=Actor.system("tests"), heads=item_heads)
    first = LogShard.objects.get(id=1)
    sealed = log.latest_checkpoint(first).size
    issue(armory, rifleman, "R0004")
    log.integrate()
    assert log.latest_checkpoint(first).size == sealed
    assert log.latest_checkpoint().size == JournalEntry.objects.count() - sealed


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        ("muster.test/log", "is already one of this log's origins"),
        ("two words", "contains a space"),
        ("", "must not be empty"),
    ],
)
def test_a_bad_new_origin_is_refused_and_nothing_changes(armory, origin, reason):
    log.integrate()
    before = JournalEntry.objects.count()
    with pytest.raises(log.LogError, match=reason):
        log.rotate(origin, actor=Actor.system("tests"), heads=item_heads)
    assert LogShard.objects.count() == 1 and JournalEntry.objects.count() == before


def test_the_commands_rotate_prove_and_verify_a_bundle(armory, rifleman, tmp_path, capsys):
    issue(armory, rifleman, "R0005")
    counted(armory)
    old_key = log.verifier_key()
    call_command("log", "rotate", "muster.test/log/2027")
    out = capsys.readouterr().out
    assert "sealed muster.test/log at" in out and "began muster.test/log/2027" in out
    call_command("log", "prove", "R0005", "--out", str(tmp_path / "R0005.proof"))
    out = capsys.readouterr().out
    assert "2 event(s) of VPR-223 R0005" in out and "complete through entry" in out

    (tmp_path / "old.pub").write_text(old_key)
    verified = subprocess.run(
        [sys.executable, "-m", "muster_verify", str(tmp_path / "R0005.proof"),
         "--key", str(tmp_path / "old.pub"), "--key", log.verifier_key()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert (
        "VPR-223 R0005" in verified.stdout and "no event is left out up to entry" in verified.stdout
    )
    missing_key = subprocess.run(
        [sys.executable, "-m", "muster_verify", str(tmp_path / "R0005.proof"),
         "--key", log.verifier_key()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert missing_key.returncode == 1 and "no key given for it" in missing_key.stderr


def test_the_attestation_is_found_in_whichever_part_lists_the_item(armory, rifleman):
    from muster.armory.services.catalogue import NewItem, receive_items

    receive_items(
        actor=armory["armorer"], site=armory["vault"], reference="SHIP-R",
        items=[NewItem("RAD-DMR", f"RAD{n:03d}") for n in range(150)],
    )  # fmt: skip
    count = counted(armory)
    parts = list(
        JournalEntry.objects.filter(kind="count.heads", subject_id=str(count.pk)).order_by("seq")
    )
    assert len(parts) == 3  # 160 items, 64 a part
    for serial in ("R0001", "RAD070", "RAD149"):
        item = Item.objects.get(serial=serial)
        bundle = item_bundle(item)
        listing = next(p for p in parts if f'["{item.pk}",' in p.body)
        assert bundle.attestation == listing.seq
        assert verify_bundle(bundle.text, key()).complete_through == listing.seq
