"""Witness cosignatures (https://c2sp.org/tlog-cosignature), the Ed25519 `cosignature/v1` type.

A cosignature is a witness's statement that, as of a given time, the checkpoint is the largest
consistent tree head it has seen for that log. It travels as one more signature line on the
checkpoint's signed note (see `muster_verify.note`):

    — <witness name> base64(key ID || timestamp || Ed25519 signature)

- key ID: the first 4 bytes, big-endian, of SHA-256(name || 0x0A || 0x04 || 32-byte public key),
  0x04 being the cosignature/v1 signature type (a log's note keys use 0x01);
- timestamp: the POSIX time of cosigning in seconds, 8 bytes big-endian, at most 2**63-1;
- signature: Ed25519 over the message `cosignature/v1\\ntime <timestamp>\\n` followed by the
  checkpoint's note text (final newline included, signature lines not):

      cosignature/v1
      time 1679315147
      example.com/behind-the-sofa
      20852163
      CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

Witness keys travel as vkeys of type 0x04: `<name>+<key ID, 8 hex digits>+<base64(0x04 || public
key)>`, and signer keys as `PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || 32-byte seed)>`. The
message does not name the witness, so one key must never serve two witnesses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from muster_verify._base64 import encode_base64
from muster_verify.checkpoint import parse_checkpoint
from muster_verify.errors import FormatError, VerificationError
from muster_verify.note import (
    MAX_SIGNATURES,
    SIGNATURE_PREFIX,
    PrivateKey,
    PublicKey,
    Signature,
    check_key_id,
    decode_key,
    ed25519_verifies,
    key_id,
    parse_signature_line,
    public_key_of,
    utf8,
)

ALGORITHM_COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1"
KIND = "cosignature/v1 (0x04, Ed25519)"
MAX_TIMESTAMP = 2**63 - 1
TIMESTAMP_SIZE = 8
ED25519_SIGNATURE_SIZE = 64

_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


def cosignature_key_id(name: str, public_key: bytes) -> int:
    """The key ID of a cosignature/v1 key: SHA-256(name || 0x0A || 0x04 || public key)[:4], as an
    unsigned big-endian integer. It differs from the same key's note (0x01) key ID on purpose."""
    return key_id(name, public_key, ALGORITHM_COSIGNATURE_V1)


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The bytes a witness signs: the `cosignature/v1` header line, the `time` line, then the
    checkpoint's note text. Refuses a text that is not a well-formed checkpoint, since a
    cosignature vouches for a log's tree head and nothing else."""
    _check_timestamp(timestamp)
    parse_checkpoint(checkpoint_text)
    return f"{HEADER}\ntime {timestamp}\n".encode() + utf8(checkpoint_text)


@dataclass(frozen=True)
class CosignatureVerifier(PublicKey):
    """A witness's public key, checking the cosignatures it makes under its name."""

    ALGORITHM: ClassVar[int] = ALGORITHM_COSIGNATURE_V1

    def verify(self, checkpoint_text: str, timestamp: int, signature: bytes) -> bool:
        """Whether `signature` is this witness's Ed25519 signature of the checkpoint text at
        `timestamp`."""
        if not 0 <= timestamp <= MAX_TIMESTAMP or len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        message = cosignature_message(checkpoint_text, timestamp)
        return ed25519_verifies(self.public_key, message, signature)


@dataclass(frozen=True)
class CosignatureSigner(PrivateKey):
    """A witness's private key."""

    ALGORITHM: ClassVar[int] = ALGORITHM_COSIGNATURE_V1

    @property
    def verifier(self) -> CosignatureVerifier:
        """The matching public key, under the same name."""
        return CosignatureVerifier(self.name, public_key_of(self.seed))

    def sign(self, checkpoint_text: str, timestamp: int) -> bytes:
        """The Ed25519 signature of the checkpoint text at `timestamp` (64 bytes)."""
        return self._signature(cosignature_message(checkpoint_text, timestamp))


def generate_cosignature_key(name: str) -> tuple[str, str]:
    """A new random witness key named `name`: (signer key text, verifier key text)."""
    signer = CosignatureSigner(name, Ed25519PrivateKey.generate().private_bytes_raw())
    return signer.encode(), signer.verifier.encode()


def parse_cosignature_verifier_key(text: str) -> CosignatureVerifier:
    """Read a witness vkey `name+hexkeyid+base64(0x04 || public key)`, checking its key ID. A
    log's note key (type 0x01) is refused: it verifies other statements."""
    what = "cosignature verifier key"
    name, stated, key = decode_key(
        text, private=False, algorithm=ALGORITHM_COSIGNATURE_V1, what=what, kind=KIND
    )
    verifier = CosignatureVerifier(name, key)
    check_key_id(name, stated, verifier.key_id, what)
    return verifier


def parse_cosignature_signer_key(text: str) -> CosignatureSigner:
    """Read a witness signer key `PRIVATE+KEY+name+hexkeyid+base64(0x04 || seed)`, checking that
    its key ID matches the public key derived from the seed."""
    what = "cosignature signer key"
    name, stated, seed = decode_key(
        text, private=True, algorithm=ALGORITHM_COSIGNATURE_V1, what=what, kind=KIND
    )
    signer = CosignatureSigner(name, seed)
    check_key_id(name, stated, signer.key_id, what)
    return signer


def cosign(checkpoint_note: str, signer: CosignatureSigner, timestamp: int) -> str:
    """The cosignature line (ending in a newline) of `signer` on the checkpoint at `timestamp`.
    `checkpoint_note` is the log's signed note or just its text; signature lines already on it
    are not covered. The caller must first have checked the log's signature and consistency:
    cosigning is the witness's word that it did."""
    text, _ = _split_note(checkpoint_note)
    signature = signer.sign(text, timestamp)
    raw = signer.key_id.to_bytes(4, "big") + timestamp.to_bytes(TIMESTAMP_SIZE, "big") + signature
    return f"{SIGNATURE_PREFIX}{signer.name} {encode_base64(raw)}\n"


def add_cosignatures(signed_note: str, lines: Iterable[str]) -> str:
    """The signed note with the cosignature `lines` appended (a line already there is not added
    twice). Each line is checked for form only: verify them with `verify_cosignatures`."""
    _, signatures = _split_note(signed_note)
    if not signatures:
        raise FormatError("cosignatures go on a signed note; this one has no signature lines")
    present = set(signatures)
    added = []
    for line in lines:
        if not line.endswith("\n"):
            raise FormatError(f"a signature line must end with a newline: {line!r}")
        parse_signature_line(line[:-1], len(present) + 1)
        if line[:-1] not in present:
            present.add(line[:-1])
            added.append(line)
    if len(present) > MAX_SIGNATURES:
        raise FormatError(f"a signed note may carry at most {MAX_SIGNATURES} signatures")
    return signed_note + "".join(added)


def verify_cosignatures(note_text: str, verifiers: Iterable[CosignatureVerifier]) -> dict[str, int]:
    """Check the cosignatures on a signed checkpoint against the known witness keys. Returns
    each witness that cosigned it, by name, with the time it did (the latest, if twice).
    Lines by unknown keys, the log's own among them, are ignored: check the log's signature with
    `muster_verify.checkpoint.open_checkpoint`. Raises VerificationError if a known witness's
    cosignature does not verify, FormatError if the note or the checkpoint is malformed."""
    known: dict[tuple[str, int], CosignatureVerifier] = {}
    for verifier in verifiers:
        pair = (verifier.name, verifier.key_id)
        if known.setdefault(pair, verifier) != verifier:
            raise VerificationError(
                f"two different witness keys share the name and key ID {pair[0]}+{pair[1]:08x}"
            )
    text, lines = _split_note(note_text)
    parse_checkpoint(text)
    cosigned: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        signature = parse_signature_line(line, number)
        witness = known.get((signature.name, signature.key_id))
        if witness is None:
            continue
        timestamp = _verify_line(text, witness, signature, number)
        cosigned[witness.name] = max(timestamp, cosigned.get(witness.name, timestamp))
    return cosigned


def _verify_line(
    text: str, verifier: CosignatureVerifier, signature: Signature, number: int
) -> int:
    """Check one cosignature line by a known witness; returns its timestamp."""
    where = f"the cosignature by {verifier.name}+{verifier.key_id:08x} (signature line {number})"
    raw = signature.signature
    if len(raw) != TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE:
        raise VerificationError(
            f"{where} has {len(raw)} bytes after the key ID, not a timestamp and an Ed25519 "
            f"signature ({TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE})"
        )
    timestamp = int.from_bytes(raw[:TIMESTAMP_SIZE], "big")
    if timestamp > MAX_TIMESTAMP:
        raise VerificationError(f"{where} has a timestamp beyond 2**63-1")
    if not verifier.verify(text, timestamp, raw[TIMESTAMP_SIZE:]):
        raise VerificationError(f"{where} does not verify")
    return timestamp


def _split_note(note: str) -> tuple[str, list[str]]:
    """A checkpoint note's text and its signature lines (without their newlines); a bare text
    has none. A checkpoint has no empty line, so its text ends at the first blank line."""
    if not note.endswith("\n"):
        raise FormatError("a checkpoint note must end with a newline")
    split = note.find("\n\n")
    if split < 0:
        return note, []
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise FormatError("a signed note must end with signature lines, not a blank line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise FormatError(f"a signed note may carry at most {MAX_SIGNATURES} signatures")
    return text, lines


def _check_timestamp(timestamp: int) -> None:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise FormatError(f"a cosignature timestamp must be within 0..2**63-1, not {timestamp}")
