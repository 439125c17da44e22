"""Signed notes (https://c2sp.org/signed-note) with Ed25519 keys, byte for byte as Go's
golang.org/x/mod/sumdb/note writes and reads them.

A signed note is a text ending in a newline, then a blank line, then one or more signature lines:

    If you think cryptography is the answer to your problem,
    then you don't know what your problem is.

    — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=

A signature line is an em dash (U+2014), a space, the key name, a space, and the base64 of the
4-byte key ID followed by the Ed25519 signature of the text's UTF-8 bytes (final newline
included, blank line not). The whole note is UTF-8 with no control character but newline.

A key is a name and an Ed25519 key pair. Its key ID is the first 4 bytes, big-endian, of
SHA-256(name || 0x0A || 0x01 || 32-byte public key), 0x01 being Ed25519's signature type.
Keys travel as text:

- verifier key: `<name>+<key ID, 8 hex digits>+<base64(0x01 || public key)>`
- signer key:   `PRIVATE+KEY+<name>+<key ID, 8 hex digits>+<base64(0x01 || 32-byte seed)>`

Opening a note checks every signature whose key name and key ID match a known verifier key:
one that fails refuses the whole note, and a note with none that succeeds is refused.
Signatures by other keys are ignored (kept as unverified), as the specification requires.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from muster_verify._base64 import decode_base64, encode_base64
from muster_verify.errors import FormatError, VerificationError

ALGORITHM_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
# The specification asks to accept at least 16; Go refuses notes with more than 100.
MAX_SIGNATURES = 100

_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


def key_id(name: str, public_key: bytes) -> int:
    """The key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4], as an
    unsigned big-endian integer."""
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALGORITHM_ED25519]) + public_key
    ).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures made under one key name."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise FormatError(f"an Ed25519 public key has 32 bytes, not {len(self.public_key)}")

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    def encode(self) -> str:
        """The verifier key text: `name+hexkeyid+base64(0x01 || public key)`."""
        key = encode_base64(bytes([ALGORITHM_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{key}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` is this key's Ed25519 signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under one key name. Its seed is secret: keep it out of
    logs (it is left out of the repr)."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.seed) != 32:
            raise FormatError(f"an Ed25519 private key seed has 32 bytes, not {len(self.seed)}")

    @property
    def verifier(self) -> Verifier:
        """The matching public key, under the same name."""
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return Verifier(self.name, public.public_bytes_raw())

    @property
    def key_id(self) -> int:
        return self.verifier.key_id

    def encode(self) -> str:
        """The signer key text: `PRIVATE+KEY+name+hexkeyid+base64(0x01 || seed)`."""
        key = encode_base64(bytes([ALGORITHM_ED25519]) + self.seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{key}"

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of `message` (RFC 8032: the same bytes on every call)."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: key name, key ID and signature bytes (key ID left out)."""

    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures that verified, and those by unknown keys."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = ()


def generate_key(name: str) -> tuple[str, str]:
    """A new random Ed25519 key named `name`: (signer key text, verifier key text)."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    signer = Signer(name, seed)
    return signer.encode(), signer.verifier.encode()


def parse_verifier_key(text: str) -> Verifier:
    """Read a verifier key `name+hexkeyid+base64(0x01 || public key)`, checking its key ID."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise FormatError(f"a verifier key is name+keyid+key, not {text!r}")
    name, hex_id, key = _decode_key(*parts, what="verifier key")
    verifier = Verifier(name, key)
    if verifier.key_id != hex_id:
        raise FormatError(f"verifier key {name}+{hex_id:08x}: the key ID does not match the key")
    return verifier


def parse_signer_key(text: str) -> Signer:
    """Read a signer key `PRIVATE+KEY+name+hexkeyid+base64(0x01 || seed)`, checking that its key
    ID matches the public key derived from the seed."""
    parts = text.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise FormatError("a signer key is PRIVATE+KEY+name+keyid+key")
    name, hex_id, seed = _decode_key(*parts[2:], what="signer key")
    signer = Signer(name, seed)
    if signer.key_id != hex_id:
        raise FormatError(f"signer key {name}+{hex_id:08x}: the key ID does not match the key")
    return signer


def sign_note(text: str, *signers: Signer) -> str:
    """The signed note: `text`, a blank line, and one signature line per signer, in order."""
    if not signers:
        raise ValueError("a signed note needs at least one signer")
    if not text.endswith("\n"):
        raise FormatError("a note's text must end with a newline")
    _check_characters(text)
    message = _utf8(text)
    lines = []
    for signer in signers:
        signature = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {encode_base64(signature)}\n")
    return text + "\n" + "".join(lines)


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a signed note and check it against the known `verifiers`. Returns the note with its
    verified and unverified signatures; raises FormatError if it is malformed and
    VerificationError if a known key's signature fails or no known key signed it."""
    known = _index(verifiers)
    if isinstance(message, str):
        _utf8(message)
    else:
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as error:
            raise FormatError(f"a signed note must be UTF-8 ({error.reason})") from None
    _check_characters(message)
    # The text ends at the last blank line; only signature lines may follow it.
    split = message.rfind("\n\n")
    if split < 0:
        raise FormatError("a signed note needs a blank line between its text and its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block or not block.endswith("\n"):
        raise FormatError("a signed note must end with signature lines, each ending in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise FormatError(f"a signed note may carry at most {MAX_SIGNATURES} signatures")

    signed = _utf8(text)
    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[tuple[str, int, bytes], Signature] = {}
    for number, line in enumerate(lines, start=1):
        signature = parse_signature_line(line, number)
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            unverified.setdefault(
                (signature.name, signature.key_id, signature.signature), signature
            )
        elif verifier.verify(signed, signature.signature):
            verified.setdefault((signature.name, signature.key_id), signature)
        else:
            raise VerificationError(
                f"the signature by key {signature.name}+{signature.key_id:08x} "
                f"(signature line {number}) does not verify"
            )
    if not verified:
        found = ", ".join(f"{s.name}+{s.key_id:08x}" for s in unverified.values())
        raise VerificationError(f"the note has no signature by a known key (signed by: {found})")
    return Note(text, tuple(verified.values()), tuple(unverified.values()))


def _decode_key(name: str, hex_id: str, key: str, *, what: str) -> tuple[str, int, bytes]:
    """Check the name, key ID and key fields shared by both key texts; returns the key ID as a
    number and the 32 key bytes after the algorithm byte."""
    check_key_name(name)
    if not _KEY_ID.fullmatch(hex_id):
        raise FormatError(f"{what} {name}: the key ID must be 8 hex digits, not {hex_id!r}")
    raw = decode_base64(key, what=f"{what} {name}")
    if not raw or raw[0] != ALGORITHM_ED25519:
        raise FormatError(f"{what} {name}: unknown key algorithm (only 0x01, Ed25519)")
    if len(raw) != 33:
        raise FormatError(f"{what} {name}: an Ed25519 key has 32 bytes, not {len(raw) - 1}")
    return name, int(hex_id, 16), raw[1:]


def parse_signature_line(line: str, number: int) -> Signature:
    """One line `— <name> <base64(key ID || signature)>`."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise FormatError(f"signature line {number} does not start with an em dash and a space")
    name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise FormatError(f"signature line {number} has no space between key name and signature")
    try:
        check_key_name(name)
    except FormatError as error:
        raise FormatError(f"signature line {number}: {error}") from None
    raw = decode_base64(encoded, what=f"signature line {number}")
    if len(raw) < 5:
        raise FormatError(f"signature line {number} is too short to hold a key ID and signature")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _index(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    """The known keys by (name, key ID); two different keys under one pair are ambiguous."""
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        pair = (verifier.name, verifier.key_id)
        if known.setdefault(pair, verifier) != verifier:
            raise VerificationError(
                f"two different verifier keys share the name and key ID {pair[0]}+{pair[1]:08x}"
            )
    return known


def check_key_name(name: str) -> None:
    """Key names are non-empty, with no Unicode space, no plus and no control character."""
    if not name:
        raise FormatError("a key name must not be empty")
    if "+" in name or any(c.isspace() or c < " " for c in name):
        raise FormatError(f"key name {name!r} contains a space, a plus or a control character")
    _utf8(name)


def _check_characters(text: str) -> None:
    """Notes hold no ASCII control character but newline."""
    for position, char in enumerate(text):
        if char < " " and char != "\n":
            raise FormatError(f"a note must not contain control character {char!r} (at {position})")


def _utf8(text: str) -> bytes:
    """`text` as UTF-8 bytes, refusing strings that have no UTF-8 form (lone surrogates)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise FormatError(f"text cannot be encoded as UTF-8 ({error.reason})") from None
