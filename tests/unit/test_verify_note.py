"""Signed notes are read and written byte for byte as Go's sumdb/note does, and a note is only
believed when a known key's signature on it checks out."""

from __future__ import annotations

import base64
import re

import pytest

from muster_verify.errors import FormatError, VerificationError
from muster_verify.note import (
    Signer,
    Verifier,
    generate_key,
    key_id,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
)

# The known answer from the documentation of golang.org/x/mod/sumdb/note: repository golang/mod,
# sumdb/note/note.go (package comment, "Example"; commit 605edab4323bfdf06a0d8ac68b4b18e9e0df249b)
# and sumdb/note/note_test.go (TestNewVerifier, TestSign, TestOpen, TestVerifierList; commit
# 02c991387e35f9e4c0a9b7ce137717055f8d716d). Copied exactly.
PETER_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIGNATURE = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_SIGNATURE = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_LINE = f"— PeterNeumann {PETER_SIGNATURE}\n"
ENOCH_LINE = f"— EnochRoot {ENOCH_SIGNATURE}\n"
SIGNED = TEXT + "\n" + PETER_LINE

PETER = parse_verifier_key(PETER_VERIFIER_KEY)
ENOCH = parse_verifier_key(ENOCH_VERIFIER_KEY)


def test_the_documented_key_has_the_documented_key_id_and_verifier_key():
    signer = parse_signer_key(PETER_SIGNER_KEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == 0xC74F20A3 == PETER.key_id
    assert f"{signer.key_id:08x}" == "c74f20a3"
    assert signer.verifier == PETER
    assert signer.verifier.encode() == PETER_VERIFIER_KEY
    assert signer.encode() == PETER_SIGNER_KEY
    assert key_id("PeterNeumann", PETER.public_key) == 0xC74F20A3


def test_signing_the_documented_text_gives_the_documented_note_exactly():
    signed = sign_note(TEXT, parse_signer_key(PETER_SIGNER_KEY))
    assert signed == SIGNED
    assert signed.encode("utf-8") == (
        b"If you think cryptography is the answer to your problem,\n"
        b"then you don't know what your problem is.\n"
        b"\n"
        b"\xe2\x80\x94 PeterNeumann "  # U+2014, the em dash
        b"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    )


def test_opening_the_documented_note_returns_its_text_and_signer():
    for message in (SIGNED, SIGNED.encode("utf-8")):
        note = open_note(message, [PETER])
        assert note.text == TEXT
        assert [(s.name, s.key_id) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]
        assert note.unverified == ()


def test_signatures_by_unknown_keys_are_ignored():
    doubly_signed = TEXT + "\n" + PETER_LINE + ENOCH_LINE
    note = open_note(doubly_signed, [PETER])
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [(s.name, s.key_id) for s in note.unverified] == [("EnochRoot", 0xAF0CFE78)]
    both = open_note(doubly_signed, [ENOCH, PETER])
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"]
    assert both.unverified == ()


def test_a_note_without_a_signature_by_a_known_key_is_refused():
    with pytest.raises(VerificationError) as refused:
        open_note(TEXT + "\n" + PETER_LINE + ENOCH_LINE, [])
    assert str(refused.value) == (
        "the note has no signature by a known key (signed by: PeterNeumann+c74f20a3, EnochRoot+af0cfe78)"
    )
    # A key is known by its name and key ID together; sharing one is not enough.
    stranger_signer, _ = generate_key("PeterNeumann")
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_note(SIGNED, [parse_signer_key(stranger_signer).verifier])
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_note(SIGNED, [Verifier("PeterNeumann2", PETER.public_key)])


def test_a_tampered_text_is_refused():
    tampered = SIGNED.replace("don't know", "do know")
    with pytest.raises(VerificationError) as refused:
        open_note(tampered, [PETER])
    assert str(refused.value) == (
        "the signature by key PeterNeumann+c74f20a3 (signature line 1) does not verify"
    )


def test_a_tampered_signature_is_refused():
    # From TestOpen: four base64 characters slipped into the signature.
    with pytest.raises(VerificationError, match="does not verify"):
        open_note(TEXT + "\n" + PETER_LINE[:60] + "ABCD" + PETER_LINE[60:], [PETER])
    # And every byte of the signature itself, one bit at a time (the first four are the key ID).
    raw = base64.b64decode(PETER_SIGNATURE)
    for position in range(4, len(raw)):
        changed = bytearray(raw)
        changed[position] ^= 0x01
        line = "— PeterNeumann " + base64.b64encode(bytes(changed)).decode() + "\n"
        with pytest.raises(VerificationError, match="does not verify"):
            open_note(TEXT + "\n" + line, [PETER])


def test_a_signature_under_another_key_name_is_refused():
    renamed = SIGNED.replace("— PeterNeumann", "— CarmenSandiego")
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_note(renamed, [PETER])
    # Even when the verifier is told that name: the key ID covers the name.
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_note(renamed, [Verifier("CarmenSandiego", PETER.public_key)])


def test_one_bad_signature_by_a_known_key_refuses_the_whole_note():
    bad_enoch = ENOCH_LINE[:60] + "ABCD" + ENOCH_LINE[60:]
    with pytest.raises(VerificationError, match=re.escape("EnochRoot+af0cfe78 (signature line 2)")):
        open_note(TEXT + "\n" + PETER_LINE + bad_enoch, [PETER, ENOCH])
    # Unknown to the reader, it is only ignored (TestOpen, "duplicated verified and unverified").
    note = open_note(TEXT + "\n" + PETER_LINE + PETER_LINE + ENOCH_LINE + bad_enoch, [PETER])
    assert len(note.signatures) == 1
    assert len(note.unverified) == 2


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        # Go's TestOpen badMsgs.
        (TEXT, "needs a blank line"),
        (TEXT + "\n", "must end with signature lines"),
        (TEXT + "\n" + PETER_LINE[:-1], "must end with signature lines"),
        ("\x01" + TEXT + "\n" + PETER_LINE, "control character"),
        (
            TEXT
            + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            "must end with signature lines",
        ),
        (
            TEXT
            + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            "not valid base64",
        ),
        (
            TEXT + "\n" + PETER_LINE + "Unexpected line.\n",
            "signature line 2 does not start with an em dash",
        ),
        # And more.
        (TEXT + "\n" + PETER_LINE.replace("—", "-"), "does not start with an em dash"),
        (TEXT + "\n" + PETER_LINE.replace("— ", "—"), "does not start with an em dash"),
        (TEXT + "\n" + "— PeterNeumann\n", "no space between key name and signature"),
        (TEXT + "\n" + "— PeterNeumann \n", "too short"),
        (TEXT + "\n" + "— Peter+Neumann " + PETER_SIGNATURE + "\n", "contains a space, a plus"),
        (TEXT + "\n" + "—  " + PETER_SIGNATURE + "\n", "key name must not be empty"),
        (TEXT + "\n" + "— PeterNeumann " + PETER_SIGNATURE.rstrip("=") + "\n", "not valid base64"),
        (TEXT + "\n" + "— PeterNeumann AAAAAA==\n", "too short"),
        (TEXT + "\n" + PETER_LINE + "\n", "must end with signature lines"),
        (TEXT.replace("\n", "\r\n") + "\r\n" + PETER_LINE, "control character"),
        (TEXT + "\n" + PETER_LINE * 101, "at most 100 signatures"),
        (TEXT + "\n" + PETER_LINE.replace("\n", "\t\n"), "control character"),
    ],
)
def test_malformed_notes_are_refused_with_a_reason(message, reason):
    with pytest.raises(FormatError, match=re.escape(reason)):
        open_note(message, [PETER])


def test_a_note_that_is_not_utf8_is_refused():
    with pytest.raises(FormatError, match="must be UTF-8"):
        open_note(b"\xff" + SIGNED.encode("utf-8"), [PETER])
    with pytest.raises(FormatError, match="cannot be encoded as UTF-8"):
        open_note("\ud800" + SIGNED, [PETER])


def test_mangled_keys_are_refused():
    # Go's TestNewVerifier and TestNewSigner: every proper substring, and every byte plus one.
    for key, parse in [
        (PETER_VERIFIER_KEY, parse_verifier_key),
        (PETER_SIGNER_KEY, parse_signer_key),
    ]:
        mangled = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)}
        mangled.discard(key)
        mangled |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
        accepted = []
        for text in mangled:
            try:
                parse(text)
            except FormatError:
                continue
            accepted.append(text)
        assert accepted == []


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        # From TestNewVerifier: a wrong length key and an unknown algorithm, with key IDs that match.
        # Go reads the first one's base64 loosely; its unused bits are not zero, so it fails earlier here.
        (
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "not in canonical base64",
        ),
        (
            f"PeterNeumann+{key_id('PeterNeumann', PETER.public_key + b'x'):08x}+"
            + base64.b64encode(b"\x01" + PETER.public_key + b"x").decode(),
            "32 bytes, not 33",
        ),
        (
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "unknown key type 0x65, not 0x01, Ed25519",
        ),
        (
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "key ID does not match",
        ),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "contains a space"),
        ("PeterNeumann", "name+keyid+key"),
    ],
)
def test_bad_verifier_keys_are_refused_with_a_reason(key, reason):
    with pytest.raises(FormatError, match=re.escape(reason)):
        parse_verifier_key(key)


def test_a_signer_key_must_name_itself_private():
    with pytest.raises(FormatError, match=re.escape("PRIVATE+KEY+name")):
        parse_signer_key(PETER_VERIFIER_KEY)
    with pytest.raises(FormatError, match=re.escape("PRIVATE+KEY+name")):
        parse_signer_key(PETER_SIGNER_KEY.replace("PRIVATE+KEY", "PUBLIC+KEY"))


def test_a_generated_key_signs_notes_its_verifier_key_opens():
    signer_key, verifier_key = generate_key("muster.example/log")
    signer, verifier = parse_signer_key(signer_key), parse_verifier_key(verifier_key)
    assert signer.verifier == verifier
    assert verifier_key.startswith(f"muster.example/log+{verifier.key_id:08x}+")
    assert signer_key.startswith(f"PRIVATE+KEY+muster.example/log+{verifier.key_id:08x}+")
    signed = sign_note(
        "one\n\ntwo, after an empty line\n", signer, parse_signer_key(PETER_SIGNER_KEY)
    )
    note = open_note(signed, [verifier, PETER])
    assert note.text == "one\n\ntwo, after an empty line\n"
    assert [s.name for s in note.signatures] == ["muster.example/log", "PeterNeumann"]


def test_the_private_seed_stays_out_of_the_repr():
    signer = parse_signer_key(PETER_SIGNER_KEY)
    assert repr(signer) == "Signer(name='PeterNeumann')"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no final newline", "must end with a newline"),
        ("a tab\there\n", "control character"),
        ("\ud800\n", "cannot be encoded as UTF-8"),
    ],
)
def test_texts_that_cannot_be_signed_are_refused(text, reason):
    with pytest.raises(FormatError, match=re.escape(reason)):
        sign_note(text, parse_signer_key(PETER_SIGNER_KEY))


class CollidingVerifier(Verifier):
    """Stands in for a real key ID collision, which takes some 2**32 tries to find."""

    @property
    def key_id(self) -> int:
        return PETER.key_id


def test_two_different_keys_under_one_name_and_key_id_are_ambiguous():
    with pytest.raises(VerificationError, match="two different verifier keys share"):
        open_note(SIGNED, [PETER, CollidingVerifier("PeterNeumann", bytes(32))])
    # The same key listed twice is harmless.
    assert open_note(SIGNED, [PETER, PETER]).text == TEXT


def test_key_names_must_be_usable_in_a_signature_line():
    for name in ["", "a b", "a+b", "a\u00a0b", "a\u3000b", "tab\tname", "nul\x00"]:
        with pytest.raises(FormatError):
            Signer(name, bytes(32))
