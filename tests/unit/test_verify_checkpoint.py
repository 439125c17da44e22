"""A checkpoint says which log, how many leaves and their root, in exactly one text; a signed one is
believed only under the log's own key and for the log the auditor asked about."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster_verify.checkpoint import (
    Checkpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from muster_verify.errors import FormatError, VerificationError
from muster_verify.merkle import EMPTY_ROOT, MemoryTree, leaf_hash
from muster_verify.note import Signer, generate_key, parse_signer_key, parse_verifier_key, sign_note

# The example in https://c2sp.org/tlog-checkpoint (repository C2SP/C2SP, tlog-checkpoint.md,
# commit 2793893976c835db049c194d8f2c4f946dcb70ba); its signing key is not published.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
ROOT = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
ORIGIN = "muster.example/log"


@pytest.fixture(scope="module")
def log_key() -> Signer:
    signer_key, _ = generate_key(ORIGIN)
    return parse_signer_key(signer_key)


def test_the_specification_example_reads_as_written():
    checkpoint = parse_checkpoint(SPEC_BODY)
    assert checkpoint == Checkpoint("example.com/behind-the-sofa", 20852163, ROOT)
    assert format_checkpoint(checkpoint) == SPEC_BODY


def test_extension_lines_round_trip_in_order():
    checkpoint = Checkpoint(ORIGIN, 0, EMPTY_ROOT, ("first extension", "— second: with spaces"))
    text = format_checkpoint(checkpoint)
    assert text == (
        "muster.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        "first extension\n— second: with spaces\n"
    )
    assert parse_checkpoint(text) == checkpoint


lines = st.text(
    st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)), min_size=1, max_size=20
)


@given(
    origin=lines,
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root_hash=st.binary(min_size=32, max_size=32),
    extensions=st.lists(lines, max_size=3).map(tuple),
)
def test_every_checkpoint_reads_back_as_itself(origin, size, root_hash, extensions):
    checkpoint = Checkpoint(origin, size, root_hash, extensions)
    assert parse_checkpoint(format_checkpoint(checkpoint)) == checkpoint


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (SPEC_BODY[:-1], "must end with a newline"),
        ("example.com/log\n5\n", "this one has 2 lines"),
        ("\n5\n" + SPEC_BODY.split("\n")[2] + "\n", "line 1 of the checkpoint is empty"),
        (SPEC_BODY + "\n", "line 4 of the checkpoint is empty"),
        (SPEC_BODY + "extension\n\n", "line 5 of the checkpoint is empty"),
        (SPEC_BODY.replace("20852163", "020852163"), "without leading zeros"),
        (SPEC_BODY.replace("20852163", "00"), "without leading zeros"),
        (SPEC_BODY.replace("20852163", "+20852163"), "without leading zeros"),
        (SPEC_BODY.replace("20852163", "-1"), "without leading zeros"),
        (SPEC_BODY.replace("20852163", " 20852163"), "without leading zeros"),
        (SPEC_BODY.replace("20852163", "20852163 "), "without leading zeros"),
        (SPEC_BODY.replace("20852163", "20_852_163"), "without leading zeros"),
        (SPEC_BODY.replace("20852163", "0x13e2e23"), "without leading zeros"),
        (SPEC_BODY.replace("20852163", "٢٠٨"), "without leading zeros"),  # Arabic-Indic digits
        (SPEC_BODY.replace("20852163", str(2**64)), "within 0..2**64-1"),
        (SPEC_BODY.replace("20852163", "9" * 5000), "beyond 2**64-1"),
        (SPEC_BODY.replace("2I=", "2I"), "not valid base64"),
        (SPEC_BODY.replace("2I=", "2J="), "not in canonical base64"),
        (SPEC_BODY.replace("CsUY", "Cs_Y"), "not valid base64"),
        (SPEC_BODY.replace("CsUY", "CsUY\r"), "not valid base64"),
        (SPEC_BODY.replace("CsUYapGG", ""), "has 32 bytes, not 26"),
        (SPEC_BODY.replace("example.com", "example\x00.com"), "contains a control character"),
    ],
)
def test_malformed_checkpoints_are_refused_with_a_reason(text, reason):
    with pytest.raises(FormatError, match=re.escape(reason)):
        parse_checkpoint(text)


def test_a_checkpoint_cannot_be_made_with_a_line_that_would_not_read_back():
    with pytest.raises(FormatError, match="origin must not be empty"):
        Checkpoint("", 1, ROOT)
    with pytest.raises(FormatError, match="contains a control character"):
        Checkpoint("two\nlines", 1, ROOT)
    with pytest.raises(FormatError, match="extension line must not be empty"):
        Checkpoint(ORIGIN, 1, ROOT, ("",))
    with pytest.raises(FormatError, match=re.escape("within 0..2**64-1, not -1")):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(FormatError, match="32 bytes, not 31"):
        Checkpoint(ORIGIN, 1, ROOT[:31])


def test_a_signed_checkpoint_opens_under_the_log_key(log_key):
    tree = MemoryTree(leaf_hash(b"entry %d" % i) for i in range(5))
    checkpoint = Checkpoint(ORIGIN, tree.size, tree.root())
    signed = sign_checkpoint(checkpoint, log_key)
    assert signed.startswith(format_checkpoint(checkpoint) + "\n— muster.example/log ")
    assert open_checkpoint(signed, log_key.verifier) == checkpoint
    assert open_checkpoint(signed.encode("utf-8"), log_key.verifier) == checkpoint


def test_a_witness_cosignature_is_ignored(log_key):
    witness = parse_signer_key(generate_key("witness.example")[0])
    signed = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), log_key, witness)
    assert open_checkpoint(signed, log_key.verifier).size == 1


def test_a_checkpoint_with_a_changed_size_or_root_is_refused(log_key):
    signed = sign_checkpoint(Checkpoint(ORIGIN, 41, ROOT), log_key)
    with pytest.raises(VerificationError, match="does not verify"):
        open_checkpoint(signed.replace("\n41\n", "\n42\n"), log_key.verifier)
    other_root = base64.b64encode(EMPTY_ROOT).decode()
    with pytest.raises(VerificationError, match="does not verify"):
        open_checkpoint(
            signed.replace(base64.b64encode(ROOT).decode(), other_root), log_key.verifier
        )


def test_a_checkpoint_signed_by_another_key_is_refused(log_key):
    impostor = parse_signer_key(generate_key(ORIGIN)[0])
    signed = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), impostor)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_checkpoint(signed, log_key.verifier)


def test_a_checkpoint_of_another_log_is_refused_even_under_the_right_key(log_key):
    signed = sign_checkpoint(Checkpoint("muster.example/other-log", 1, ROOT), log_key)
    with pytest.raises(VerificationError) as refused:
        open_checkpoint(signed, log_key.verifier)
    assert str(refused.value) == (
        "the checkpoint is for log 'muster.example/other-log', not 'muster.example/log'"
    )
    other = open_checkpoint(signed, log_key.verifier, origin="muster.example/other-log")
    assert other.origin == "muster.example/other-log"


def test_a_signed_note_that_is_not_a_checkpoint_is_refused(log_key):
    signed = sign_note("muster.example/log\nnot a size\n", log_key)
    with pytest.raises(FormatError, match="has 2 lines"):
        open_checkpoint(signed, log_key.verifier)


def test_the_verifier_key_text_is_enough_to_check_a_checkpoint(log_key):
    signed = sign_checkpoint(Checkpoint(ORIGIN, 3, ROOT), log_key)
    verifier = parse_verifier_key(log_key.verifier.encode())
    assert open_checkpoint(signed, verifier).root_hash == ROOT
