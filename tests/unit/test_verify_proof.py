"""C2SP tlog-proofs of single entries, and item bundles that prove a whole custody chain."""

from __future__ import annotations

import json

import pytest

from muster_verify import merkle
from muster_verify.checkpoint import Checkpoint, sign_checkpoint
from muster_verify.errors import VerificationError
from muster_verify.note import generate_key, parse_signer_key, parse_verifier_key
from muster_verify.proof import (
    Proof,
    format_bundle,
    format_proof,
    parse_proof,
    verify_bundle,
    verify_proof,
)

ORIGIN = "muster.test/log"


def entry(seq: int, item: int, prev: int | None, serial: str = "R-1") -> bytes:
    body = {
        "actor": "armorer",
        "at": "2026-11-22T07:00:00.000000Z",
        "data": {"model": "RFL-556", "prev": prev, "serial": serial},
        "kind": "custody.issued",
        "seq": seq,
        "subject": {"id": str(item), "type": "item"},
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@pytest.fixture
def log():
    """A log of 40 entries: item 7 (R-1) at 3, 10, 21 and 33; other items elsewhere."""
    private, public = generate_key(ORIGIN)
    chain: dict[int, int | None] = {3: None, 10: 3, 21: 10, 33: 21}
    entries = [
        entry(seq, 7, chain[seq]) if seq in chain else entry(seq, 100 + seq, None, f"X{seq}")
        for seq in range(40)
    ]
    tree = merkle.MemoryTree(merkle.leaf_hash(e) for e in entries)
    note = sign_checkpoint(Checkpoint(ORIGIN, 40, tree.root()), parse_signer_key(private))

    def proof(seq: int, size: int = 40, signed: str | None = None) -> Proof:
        return Proof(seq, entries[seq], tuple(tree.inclusion_proof(seq, size)), signed or note)

    return {
        "verifier": parse_verifier_key(public),
        "signer": parse_signer_key(private),
        "proof": proof,
        "tree": tree,
    }


def test_a_proof_round_trips_and_verifies(log):
    proof = log["proof"](21)
    text = format_proof(proof)
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert "\nindex 21\n" in text
    parsed = parse_proof(text)
    assert parsed == proof
    assert verify_proof(parsed, log["verifier"]).size == 40


def test_a_proof_with_a_changed_entry_or_hash_is_refused(log):
    proof = log["proof"](21)
    changed = Proof(
        21, proof.entry.replace(b"armorer", b"mallory"), proof.hashes, proof.checkpoint_note
    )
    with pytest.raises(VerificationError, match="does not lead to the root"):
        verify_proof(changed, log["verifier"])
    flipped = bytes([proof.hashes[0][0] ^ 1]) + proof.hashes[0][1:]
    with pytest.raises(VerificationError):
        verify_proof(
            Proof(21, proof.entry, (flipped, *proof.hashes[1:]), proof.checkpoint_note),
            log["verifier"],
        )


def test_a_proof_checked_with_another_key_is_refused(log):
    _, stranger = generate_key(ORIGIN)
    with pytest.raises(VerificationError):
        verify_proof(log["proof"](21), parse_verifier_key(stranger))


def test_a_bundle_proves_the_whole_chain(log):
    text = format_bundle("RFL-556", "R-1", [log["proof"](s) for s in (3, 10, 21, 33)])
    history = verify_bundle(text, log["verifier"])
    assert [e["seq"] for e in history.events] == [3, 10, 21, 33]
    assert history.checkpoint.size == 40


@pytest.mark.parametrize(
    ("events", "why"),
    [
        ((3, 21, 33), "follows entry 10, not 3: an event is missing"),
        ((10, 21, 33), "follows entry 3, not None"),
        ((3, 10, 33, 21), "follows entry 21, not 10"),
        ((3, 10, 21, 34), "is not about the same item"),
    ],
)
def test_a_bundle_with_an_event_left_out_or_foreign_is_refused(log, events, why):
    text = format_bundle("RFL-556", "R-1", [log["proof"](s) for s in events])
    with pytest.raises(VerificationError, match=why):
        verify_bundle(text, log["verifier"])


def test_a_bundle_mixing_checkpoints_is_refused(log):
    older = sign_checkpoint(Checkpoint(ORIGIN, 30, log["tree"].root(30)), log["signer"])
    proofs = [log["proof"](3, 30, older), log["proof"](10, 30, older), log["proof"](21)]
    with pytest.raises(VerificationError, match=r"event 3 \(entry 21\): proved against another"):
        verify_bundle(format_bundle("RFL-556", "R-1", proofs), log["verifier"])
