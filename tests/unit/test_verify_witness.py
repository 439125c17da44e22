"""A witness cosigns a log's checkpoint only when the log proves it extends the last one the
witness cosigned, so a log cannot show two histories to the same witness; its cosignatures are
read and written exactly as https://c2sp.org/tlog-cosignature says."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from muster_verify.checkpoint import Checkpoint, format_checkpoint, open_checkpoint
from muster_verify.checkpoint import sign_checkpoint as sign_tree_head
from muster_verify.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    add_cosignatures,
    cosign,
    cosignature_key_id,
    cosignature_message,
    generate_cosignature_key,
    parse_cosignature_signer_key,
    parse_cosignature_verifier_key,
    verify_cosignatures,
)
from muster_verify.errors import FormatError, VerificationError
from muster_verify.merkle import EMPTY_ROOT, MemoryTree, leaf_hash
from muster_verify.note import Signer, key_id, sign_note
from muster_verify.witness import (
    Witness,
    WitnessConflict,
    format_add_checkpoint_request,
    parse_add_checkpoint_request,
)

# The examples in https://c2sp.org/tlog-cosignature (repository C2SP/C2SP, tlog-cosignature.md,
# commit 01194db11950a0ae2b2b2401afa0a4063a822458). The witness's key is not published, so its
# line can be checked for layout (key ID, big-endian timestamp, signature) but not verified.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_MESSAGE = (
    "cosignature/v1\ntime 1679315147\n"
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
SPEC_LOG_LINE = (
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
SPEC_WITNESS_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3"
    "b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SPEC_NOTE = SPEC_BODY + "\n" + SPEC_LOG_LINE + SPEC_WITNESS_LINE

# The example request in https://c2sp.org/tlog-witness (repository C2SP/C2SP, tlog-witness.md,
# commit 055270b5928827a49ee84620903e141c2e97d79f), copied exactly.
SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    + SPEC_BODY
    + "\n"
    + SPEC_LOG_LINE
    + "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/"
    "V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)

ORIGIN = "muster.example/log"
WITNESS_NAME = "oversight.example/w1"
NOW = 1_700_000_000


def _witness_key() -> CosignatureSigner:
    return CosignatureSigner(WITNESS_NAME, hashlib.sha256(b"test witness seed").digest())


def _log_key(name: str = ORIGIN, seed: bytes = b"test log seed") -> Signer:
    return Signer(name, hashlib.sha256(seed).digest())


class Log:
    """A log for the witness to watch: an append-only tree and the key that signs its heads."""

    def __init__(self, key: Signer, prefix: bytes = b"entry") -> None:
        self.key, self.prefix, self.tree = key, prefix, MemoryTree()

    def grow_to(self, size: int) -> Log:
        while self.tree.size < size:
            self.tree.append(leaf_hash(self.prefix + b" %d" % self.tree.size))
        return self

    def checkpoint(self, size: int | None = None) -> str:
        size = self.tree.size if size is None else size
        return sign_tree_head(Checkpoint(self.key.name, size, self.tree.root(size)), self.key)

    def proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return self.tree.consistency_proof(old_size, new_size)


@pytest.fixture
def log() -> Log:
    return Log(_log_key())


@pytest.fixture
def witness(tmp_path, log) -> Witness:
    return Witness(tmp_path / "witness", _witness_key(), [log.key.verifier], clock=lambda: NOW)


# Cosignatures


def test_the_signed_message_is_the_specification_example():
    assert cosignature_message(SPEC_BODY, 1679315147) == SPEC_MESSAGE.encode()


def test_the_specification_cosignature_line_has_the_v1_layout():
    raw = base64.b64decode(SPEC_WITNESS_LINE.split(" ")[2])
    assert len(raw) == 4 + 8 + 64
    # The 8 bytes after the key ID are the big-endian time of the example's signed message.
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    line = cosign(SPEC_BODY, _witness_key(), 1679315147)
    ours = base64.b64decode(line.split(" ")[2])
    assert len(ours) == len(raw)
    assert ours[4:12] == raw[4:12]


def test_the_specification_note_reads_and_its_unknown_witness_is_ignored():
    assert verify_cosignatures(SPEC_NOTE, [_witness_key().verifier]) == {}


def test_the_key_id_commits_to_the_cosignature_v1_type_byte():
    verifier = _witness_key().verifier
    by_hand = hashlib.sha256(WITNESS_NAME.encode() + b"\n\x04" + verifier.public_key).digest()[:4]
    assert verifier.key_id == int.from_bytes(by_hand, "big")
    assert verifier.key_id == cosignature_key_id(WITNESS_NAME, verifier.public_key)
    assert verifier.key_id != key_id(WITNESS_NAME, verifier.public_key)  # the note key's 0x01


def test_the_cosignature_is_ed25519_over_header_time_and_checkpoint(log):
    signer = _witness_key()
    note = log.grow_to(5).checkpoint()
    line = cosign(note, signer, NOW)
    name, encoded = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = base64.b64decode(encoded)
    assert name == WITNESS_NAME
    assert raw[:4] == signer.key_id.to_bytes(4, "big")
    assert raw[4:12] == NOW.to_bytes(8, "big")
    message = b"cosignature/v1\ntime %d\n" % NOW + note.split("\n\n")[0].encode() + b"\n"
    Ed25519PublicKey.from_public_bytes(signer.verifier.public_key).verify(raw[12:], message)


def test_a_fixed_key_and_time_give_the_same_line_every_time():
    # Muster's own regression value, not an external known answer: no published cosignature/v1
    # example also publishes its private key. Ed25519 (RFC 8032) signs deterministically.
    assert cosign(SPEC_BODY, _witness_key(), 1679315147) == (
        "— oversight.example/w1 a1hvtwAAAABkGFDLsmSVS2ZdE1/Ai9CXrnO7QGpkP0eAwB/zlC7RcZS070NuKX69gX"
        "GLWQ8KFMMEu7ta6bT9tVkiBPTR5dsz+Zd8Aw==\n"
    )
    assert _witness_key().verifier.encode() == (
        "oversight.example/w1+6b586fb7+BDCFGQWngK9miUp5o295slKtUhlk5GFvcgaWNFC5ZVep"
    )


def test_keys_round_trip_as_type_0x04_vkeys():
    signer = _witness_key()
    vkey = signer.verifier.encode()
    assert vkey.startswith(f"{WITNESS_NAME}+{signer.key_id:08x}+")
    assert base64.b64decode(vkey.split("+")[2])[0] == 0x04
    assert parse_cosignature_verifier_key(vkey) == signer.verifier
    assert parse_cosignature_signer_key(signer.encode()) == signer
    skey, vkey = generate_cosignature_key("witness.example/fresh")
    assert parse_cosignature_signer_key(skey).verifier == parse_cosignature_verifier_key(vkey)
    assert repr(signer) == f"CosignatureSigner(name={WITNESS_NAME!r})"
    with pytest.raises(FormatError, match="32 bytes, not 31"):
        CosignatureVerifier(WITNESS_NAME, signer.verifier.public_key[:31])
    with pytest.raises(FormatError, match="32 bytes, not 31"):
        CosignatureSigner(WITNESS_NAME, signer.seed[:31])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            _log_key(WITNESS_NAME).verifier.encode(),  # a note (0x01) key
            "unknown key type 0x01, not cosignature/v1",
        ),
        (
            re.sub(r"\+[0-9a-f]{8}\+", "+00000000+", _witness_key().verifier.encode()),
            "the key ID does not match the key",
        ),
        (f"{WITNESS_NAME}+12345678", "a verifier key is name+keyid+key"),
        (f"{WITNESS_NAME}+1234567+BAAA", "must be 8 hex digits"),
        (f"{WITNESS_NAME}+12345678+BAAA", "an Ed25519 key has 32 bytes, not 2"),
        ("a name+12345678+BAAA", "contains a space"),
    ],
)
def test_malformed_witness_keys_are_refused(text, reason):
    with pytest.raises(FormatError, match=re.escape(reason)):
        parse_cosignature_verifier_key(text)


def test_a_cosigned_checkpoint_verifies_and_still_opens_under_the_log_key(log):
    signer = _witness_key()
    note = log.grow_to(7).checkpoint()
    cosigned = add_cosignatures(note, [cosign(note, signer, NOW)])
    assert verify_cosignatures(cosigned, [signer.verifier]) == {WITNESS_NAME: NOW}
    assert open_checkpoint(cosigned, log.key.verifier).size == 7
    assert add_cosignatures(cosigned, [cosign(note, signer, NOW)]) == cosigned


def test_extension_lines_are_covered(log):
    signer = _witness_key()
    text = format_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT, ("extension one",)))
    cosigned = add_cosignatures(
        sign_note(text, log.key), [cosign(sign_note(text, log.key), signer, NOW)]
    )
    assert verify_cosignatures(cosigned, [signer.verifier]) == {WITNESS_NAME: NOW}
    with pytest.raises(VerificationError, match="does not verify"):
        verify_cosignatures(cosigned.replace("extension one", "extension two"), [signer.verifier])


def _retimed(line: str, timestamp: int) -> str:
    name, encoded = line.removesuffix("\n").split(" ")[1:]
    raw = base64.b64decode(encoded)
    raw = raw[:4] + timestamp.to_bytes(8, "big") + raw[12:]
    return f"— {name} {base64.b64encode(raw).decode()}\n"


def _tampered_notes(log: Log) -> dict[str, str]:
    signer = _witness_key()
    note = log.grow_to(7).checkpoint()
    line = cosign(note, signer, NOW)
    raw = base64.b64decode(line.split(" ")[2])
    root = base64.b64encode(log.tree.root()).decode()
    other_root = base64.b64encode(EMPTY_ROOT).decode()
    return {
        "size changed": add_cosignatures(note, [line]).replace("\n7\n", "\n8\n"),
        "root changed": add_cosignatures(note, [line]).replace(root, other_root),
        "timestamp changed": add_cosignatures(note, [_retimed(line, NOW + 1)]),
        "timestamp beyond 2**63-1": add_cosignatures(note, [_retimed(line, 2**63)]),
        "signature truncated": add_cosignatures(
            note, [f"— {WITNESS_NAME} {base64.b64encode(raw[:-1]).decode()}\n"]
        ),
        "untimestamped signature": add_cosignatures(
            note, [f"— {WITNESS_NAME} {base64.b64encode(raw[:4] + raw[12:]).decode()}\n"]
        ),
    }


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("size changed", "does not verify"),
        ("root changed", "does not verify"),
        ("timestamp changed", "does not verify"),
        ("timestamp beyond 2**63-1", "beyond 2**63-1"),
        ("signature truncated", "has 71 bytes after the key ID"),
        ("untimestamped signature", "has 64 bytes after the key ID"),
    ],
)
def test_a_tampered_cosignature_is_refused(log, tamper, reason):
    with pytest.raises(VerificationError, match=re.escape(reason)):
        verify_cosignatures(_tampered_notes(log)[tamper], [_witness_key().verifier])


def test_a_cosignature_by_another_key_is_not_counted(log):
    note = log.grow_to(3).checkpoint()
    impostor = CosignatureSigner(WITNESS_NAME, hashlib.sha256(b"impostor").digest())
    cosigned = add_cosignatures(note, [cosign(note, impostor, NOW)])
    assert verify_cosignatures(cosigned, [_witness_key().verifier]) == {}


def test_a_plain_note_signature_by_the_witness_key_is_not_a_cosignature(log):
    # The same Ed25519 key used as a note key (type 0x01) has another key ID: its line is
    # not taken for a cosignature, and its vkey is refused as a witness key.
    signer = _witness_key()
    as_note_key = Signer(WITNESS_NAME, signer.seed)
    text = format_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT))
    signed = sign_note(text, log.key, as_note_key)
    assert verify_cosignatures(signed, [signer.verifier]) == {}
    with pytest.raises(FormatError, match="key type 0x01"):
        parse_cosignature_verifier_key(as_note_key.verifier.encode())


def test_only_checkpoints_are_cosigned_and_times_stay_in_range(log):
    signer = _witness_key()
    with pytest.raises(FormatError, match="has 2 lines"):
        cosign("muster.example/log\n5\n", signer, NOW)
    with pytest.raises(FormatError, match=re.escape("within 0..2**63-1, not -1")):
        cosign(SPEC_BODY, signer, -1)
    with pytest.raises(FormatError, match=re.escape("within 0..2**63-1")):
        cosign(SPEC_BODY, signer, 2**63)
    assert cosign(SPEC_BODY, signer, 2**63 - 1).endswith("\n")


def test_the_latest_of_two_cosignatures_by_one_witness_is_reported(log):
    signer = _witness_key()
    note = log.grow_to(2).checkpoint()
    cosigned = add_cosignatures(note, [cosign(note, signer, NOW), cosign(note, signer, NOW + 60)])
    assert verify_cosignatures(cosigned, [signer.verifier]) == {WITNESS_NAME: NOW + 60}


def test_cosignatures_go_only_on_a_signed_note_as_whole_lines(log):
    line = cosign(SPEC_BODY, _witness_key(), NOW)
    with pytest.raises(FormatError, match="has no signature lines"):
        add_cosignatures(SPEC_BODY, [line])
    with pytest.raises(FormatError, match="must end with a newline"):
        add_cosignatures(SPEC_NOTE, [line.removesuffix("\n")])
    with pytest.raises(FormatError, match="em dash"):
        add_cosignatures(SPEC_NOTE, ["- witness AAAA\n"])


# The witness


def test_the_witness_cosigns_a_growing_log(witness, log):
    sizes = [0, 1, 3, 7, 8, 16, 17]
    old = 0
    for size in sizes:
        note = log.grow_to(size).checkpoint()
        line = witness.add_checkpoint(note, log.proof(old, size), old)
        cosigned = add_cosignatures(note, [line])
        assert verify_cosignatures(cosigned, [witness.signer.verifier]) == {WITNESS_NAME: NOW}
        assert witness.latest(ORIGIN) == (size, log.tree.root(size))
        old = size


def test_the_witness_knows_nothing_of_a_log_before_its_first_checkpoint(witness, log):
    assert witness.latest(ORIGIN) is None
    assert witness.origins == [ORIGIN]
    witness.add_checkpoint(log.grow_to(4).checkpoint(), [], 0)
    record = witness.record(ORIGIN)
    assert record is not None
    assert (record.size, record.cosigned_at) == (4, NOW)
    assert record.checkpoint_note == log.checkpoint()


def test_the_same_checkpoint_again_is_cosigned_again(tmp_path, log):
    times = iter([NOW, NOW + 30])
    witness = Witness(tmp_path, _witness_key(), [log.key.verifier], clock=lambda: next(times))
    note = log.grow_to(5).checkpoint()
    first = witness.add_checkpoint(note, [], 0)
    again = witness.add_checkpoint(note, [], 5)
    assert first != again
    assert verify_cosignatures(add_cosignatures(note, [again]), [witness.signer.verifier]) == {
        WITNESS_NAME: NOW + 30
    }
    assert witness.latest(ORIGIN) == (5, log.tree.root())


def test_a_wrong_old_size_is_a_conflict_carrying_the_witness_size(witness, log):
    witness.add_checkpoint(log.grow_to(8).checkpoint(), [], 0)
    log.grow_to(12)
    with pytest.raises(WitnessConflict) as conflict:
        witness.add_checkpoint(log.checkpoint(), log.proof(5), 5)
    assert conflict.value.size == 8
    assert "the witness holds size 8" in str(conflict.value)
    assert "retry with a consistency proof from size 8" in str(conflict.value)
    # A log that lost track asks with old size 0, and learns the size the same way.
    with pytest.raises(WitnessConflict) as first_contact:
        witness.add_checkpoint(log.checkpoint(), [], 0)
    assert first_contact.value.size == 8
    witness.add_checkpoint(log.checkpoint(), log.proof(8), 8)
    assert witness.latest(ORIGIN) == (12, log.tree.root())


def test_a_repeat_with_the_previous_old_size_is_a_conflict(witness, log):
    note = log.grow_to(5).checkpoint()
    witness.add_checkpoint(note, [], 0)
    with pytest.raises(WitnessConflict) as conflict:
        witness.add_checkpoint(note, [], 0)
    assert conflict.value.size == 5


def test_a_fork_of_the_same_size_is_refused(witness, log):
    witness.add_checkpoint(log.grow_to(6).checkpoint(), [], 0)
    other = Log(log.key, prefix=b"rewritten").grow_to(6)
    with pytest.raises(VerificationError) as refused:
        witness.add_checkpoint(other.checkpoint(), [], 6)
    assert not isinstance(refused.value, WitnessConflict)
    assert str(refused.value).startswith(
        "checkpoint of size 6 is not consistent with the one of size 6 the witness cosigned: "
        "the log presents two histories"
    )
    assert witness.latest(ORIGIN) == (6, log.tree.root())


def test_a_fork_of_a_larger_size_is_refused(witness, log):
    witness.add_checkpoint(log.grow_to(6).checkpoint(), [], 0)
    other = Log(log.key, prefix=b"rewritten").grow_to(10)
    for proof in (other.proof(6), log.grow_to(10).proof(6)):
        with pytest.raises(VerificationError, match="presents two histories") as refused:
            witness.add_checkpoint(other.checkpoint(), proof, 6)
        assert "checkpoint of size 10 is not consistent with the one of size 6" in str(
            refused.value
        )
    assert witness.latest(ORIGIN) == (6, log.tree.root(6))


def test_a_rollback_is_refused(witness, log):
    witness.add_checkpoint(log.grow_to(9).checkpoint(), [], 0)
    smaller = log.checkpoint(5)
    with pytest.raises(VerificationError, match=r"rollback: .* has size 5, smaller than the old"):
        witness.add_checkpoint(smaller, [], 9)
    with pytest.raises(WitnessConflict, match="will not roll back") as conflict:
        witness.add_checkpoint(smaller, [], 5)
    assert conflict.value.size == 9
    assert witness.latest(ORIGIN) == (9, log.tree.root())


def test_an_unknown_log_is_refused(witness):
    stranger = Log(_log_key("stranger.example/log", b"stranger")).grow_to(2)
    with pytest.raises(
        VerificationError, match=re.escape("does not know log 'stranger.example/log'")
    ):
        witness.add_checkpoint(stranger.checkpoint(), [], 0)
    assert witness.latest("stranger.example/log") is None


def test_a_checkpoint_without_the_log_signature_is_refused(witness, log):
    impostor = Log(_log_key(ORIGIN, b"impostor")).grow_to(3)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        witness.add_checkpoint(impostor.checkpoint(), [], 0)
    note = log.grow_to(3).checkpoint().replace("\n3\n", "\n2\n")
    with pytest.raises(VerificationError, match="does not verify"):
        witness.add_checkpoint(note, [], 0)
    assert witness.latest(ORIGIN) is None


def test_a_first_checkpoint_takes_no_proof_and_a_bad_request_is_refused(witness, log):
    note = log.grow_to(4).checkpoint()
    with pytest.raises(VerificationError, match="should be empty"):
        witness.add_checkpoint(note, [EMPTY_ROOT], 0)
    with pytest.raises(FormatError, match="at most 63 hashes, not 64"):
        witness.add_checkpoint(note, [EMPTY_ROOT] * 64, 0)
    with pytest.raises(FormatError, match="must not be negative"):
        witness.add_checkpoint(note, [], -1)
    empty_with_wrong_root = sign_tree_head(Checkpoint(ORIGIN, 0, log.tree.root()), log.key)
    with pytest.raises(VerificationError):
        witness.add_checkpoint(empty_with_wrong_root, [], 0)
    assert witness.latest(ORIGIN) is None


def test_the_state_survives_a_new_witness_on_the_same_directory(tmp_path, log):
    state = tmp_path / "state"
    first = Witness(state, _witness_key(), [log.key.verifier], clock=lambda: NOW)
    first.add_checkpoint(log.grow_to(10).checkpoint(), [], 0)
    second = Witness(state, _witness_key(), [log.key.verifier], clock=lambda: NOW)
    assert second.latest(ORIGIN) == (10, log.tree.root())
    with pytest.raises(WitnessConflict):
        second.add_checkpoint(log.grow_to(11).checkpoint(), [], 0)
    second.add_checkpoint(log.checkpoint(), log.proof(10), 10)
    assert first.latest(ORIGIN) == (11, log.tree.root())


def test_the_state_is_one_readable_file_per_log_and_no_temporary_is_left(witness, log):
    witness.add_checkpoint(log.grow_to(3).checkpoint(), [], 0)
    files = sorted(p.name for p in witness.state_dir.iterdir())
    assert files == ["muster.example%2Flog.json", "muster.example%2Flog.lock"]
    data = json.loads((witness.state_dir / "muster.example%2Flog.json").read_text())
    assert data["origin"] == ORIGIN
    assert data["size"] == 3
    assert base64.b64decode(data["root_hash"]) == log.tree.root()


@pytest.mark.parametrize(
    "damage",
    [
        "not json",
        '{"version": 1, "origin": "muster.example/log", "size": 3}',
        '{"version": 1, "origin": "another/log", "size": 3, "root_hash": "'
        + base64.b64encode(EMPTY_ROOT).decode()
        + '", "checkpoint": "", "cosigned_at": 0}',
    ],
)
def test_a_damaged_state_file_stops_the_witness_instead_of_resetting_it(witness, log, damage):
    witness.add_checkpoint(log.grow_to(3).checkpoint(), [], 0)
    (witness.state_dir / "muster.example%2Flog.json").write_text(damage)
    with pytest.raises(VerificationError, match="witness state file"):
        witness.latest(ORIGIN)
    with pytest.raises(VerificationError, match="witness state file"):
        witness.add_checkpoint(log.checkpoint(), [], 0)


def test_two_racing_requests_from_the_same_size_cannot_both_be_cosigned(witness, log):
    witness.add_checkpoint(log.grow_to(1).checkpoint(), [], 0)
    log.grow_to(5)
    requests = [(log.checkpoint(3), log.proof(1, 3)), (log.checkpoint(5), log.proof(1, 5))]
    outcomes: list[str] = []

    def submit(note: str, proof: list[bytes]) -> None:
        try:
            witness.add_checkpoint(note, proof, 1)
            outcomes.append("cosigned")
        except WitnessConflict:
            outcomes.append("conflict")
        except Exception as error:  # a thread's exception would otherwise go unseen
            outcomes.append(repr(error))

    threads = [threading.Thread(target=submit, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "cosigned"]
    latest = witness.latest(ORIGIN)
    assert latest is not None and latest[0] in (3, 5)


# The add-checkpoint request body


def test_the_specification_request_reads_as_written():
    old_size, proof, note = parse_add_checkpoint_request(SPEC_REQUEST)
    assert old_size == 20852014
    assert [base64.b64encode(h).decode()[:8] for h in proof] == [
        "PlRNCrwH",
        "jrJZDmY8",
        "5+pKlUdi",
        "/6WVhPs2",
    ]
    assert note.startswith(SPEC_BODY + "\n— example.com/behind-the-sofa ")
    assert format_add_checkpoint_request(old_size, proof, note) == SPEC_REQUEST


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("old 5\n" + SPEC_BODY, "needs a blank line"),
        ("old 05\n\n" + SPEC_BODY, "must be `old <size>`"),
        ("old -1\n\n" + SPEC_BODY, "must be `old <size>`"),
        ("new 5\n\n" + SPEC_BODY, "must be `old <size>`"),
        ("old 5\nAAAA\n\n" + SPEC_BODY, "not a 32-byte hash"),
        ("old 5\nnot base64!\n\n" + SPEC_BODY, "not valid base64"),
        ("old 5\n" + "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" * 64 + "\n", "at most 63"),
    ],
)
def test_a_malformed_request_is_refused(body, reason):
    with pytest.raises(FormatError, match=re.escape(reason)):
        parse_add_checkpoint_request(body)
