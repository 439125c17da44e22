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
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from muster_verify._base64 import decode_base64, encode_base64
from muster_verify.errors import FormatError, VerificationError

ALGORITHM_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
# The specification asks to accept at least 16; Go refuses notes with more than 100.
MAX_SIGNATURES = 100

_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


def key_id(name: str, public_key: bytes, algorithm: int = ALGORITHM_ED25519) -> int:
    """The key ID of a key: SHA-256(name || 0x0A || algorithm || public key)[:4], as an
    unsigned big-endian integer (0x01 for note keys; cosignature keys use their own type)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([algorithm]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def check_ed25519(name: str, key: bytes, what: str) -> None:
    """A key's name is well formed and its public key or seed has Ed25519's 32 bytes."""
    check_key_name(name)
    if len(key) != 32:
        raise FormatError(f"an Ed25519 {what} has 32 bytes, not {len(key)}")


def public_key_of(seed: bytes) -> bytes:
    """The Ed25519 public key of a 32-byte private seed."""
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed25519_verifies(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def encode_key(name: str, number: int, algorithm: int, raw: bytes, *, private: bool) -> str:
    """Key text: `name+hexkeyid+base64(algorithm || key)`, prefixed `PRIVATE+KEY+` for a seed."""
    text = f"{name}+{number:08x}+{encode_base64(bytes([algorithm]) + raw)}"
    return f"PRIVATE+KEY+{text}" if private else text


def decode_key(
    text: str, *, private: bool, algorithm: int, what: str, kind: str = "0x01, Ed25519"
) -> tuple[str, int, bytes]:
    """Split and check key text of the given type; returns the name, the key ID it states and
    the 32 key bytes (the caller checks the key ID against the key)."""
    if private:
        parts = text.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise FormatError("a signer key is PRIVATE+KEY+name+keyid+key")
        parts = parts[2:]
    else:
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise FormatError(f"a verifier key is name+keyid+key, not {text!r}")
    name, hex_id, key = parts
    check_key_name(name)
    if not _KEY_ID.fullmatch(hex_id):
        raise FormatError(f"{what} {name}: the key ID must be 8 hex digits, not {hex_id!r}")
    raw = decode_base64(key, what=f"{what} {name}")
    if not raw or raw[0] != algorithm:
        found = f"0x{raw[0]:02x}" if raw else "none"
        raise FormatError(f"{what} {name}: unknown key type {found}, not {kind}")
    if len(raw) != 33:
        raise FormatError(f"{what} {name}: an Ed25519 key has 32 bytes, not {len(raw) - 1}")
    return name, int(hex_id, 16), raw[1:]


def check_key_id(name: str, stated: int, actual: int, what: str) -> None:
    if stated != actual:
        raise FormatError(f"{what} {name}+{stated:08x}: the key ID does not match the key")


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key under a name, of one signature type (`ALGORITHM`)."""

    name: str
    public_key: bytes
    ALGORITHM: ClassVar[int] = ALGORITHM_ED25519

    def __post_init__(self) -> None:
        check_ed25519(self.name, self.public_key, "public key")

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key, self.ALGORITHM)

    def encode(self) -> str:
        """The key text: `name+hexkeyid+base64(type || public key)`."""
        return encode_key(self.name, self.key_id, self.ALGORITHM, self.public_key, private=False)


@dataclass(frozen=True)
class PrivateKey:
    """An Ed25519 private key under a name, of one signature type (`ALGORITHM`). Its seed is
    secret: keep it out of logs (it is left out of the repr)."""

    name: str
    seed: bytes = field(repr=False)
    ALGORITHM: ClassVar[int] = ALGORITHM_ED25519

    def __post_init__(self) -> None:
        check_ed25519(self.name, self.seed, "private key seed")

    @property
    def key_id(self) -> int:
        return key_id(self.name, public_key_of(self.seed), self.ALGORITHM)

    def encode(self) -> str:
        """The key text: `PRIVATE+KEY+name+hexkeyid+base64(type || seed)`."""
        return encode_key(self.name, self.key_id, self.ALGORITHM, self.seed, private=True)

    def _signature(self, message: bytes) -> bytes:
        """The Ed25519 signature of `message` (RFC 8032: the same bytes on every call)."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


@dataclass(frozen=True)
class Verifier(PublicKey):
    """A public key that checks note signatures made under one key name (type 0x01)."""

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` is this key's Ed25519 signature of `message`."""
        return ed25519_verifies(self.public_key, message, signature)


@dataclass(frozen=True)
class Signer(PrivateKey):
    """A private key that signs notes under one key name (type 0x01)."""

    @property
    def verifier(self) -> Verifier:
        """The matching public key, under the same name."""
        return Verifier(self.name, public_key_of(self.seed))

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of `message`."""
        return self._signature(message)


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
    name, stated, key = decode_key(
        text, private=False, algorithm=ALGORITHM_ED25519, what="verifier key"
    )
    verifier = Verifier(name, key)
    check_key_id(name, stated, verifier.key_id, "verifier key")
    return verifier


def parse_signer_key(text: str) -> Signer:
    """Read a signer key `PRIVATE+KEY+name+hexkeyid+base64(0x01 || seed)`, checking that its key
    ID matches the public key derived from the seed."""
    name, stated, seed = decode_key(
        text, private=True, algorithm=ALGORITHM_ED25519, what="signer key"
    )
    signer = Signer(name, seed)
    check_key_id(name, stated, signer.key_id, "signer key")
    return signer


def sign_note(text: str, *signers: Signer) -> str:
    """The signed note: `text`, a blank line, and one signature line per signer, in order."""
    if not signers:
        raise ValueError("a signed note needs at least one signer")
    if not text.endswith("\n"):
        raise FormatError("a note's text must end with a newline")
    _check_characters(text)
    message = utf8(text)
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
        utf8(message)
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

    signed = utf8(text)
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
    utf8(name)


def _check_characters(text: str) -> None:
    """Notes hold no ASCII control character but newline."""
    for position, char in enumerate(text):
        if char < " " and char != "\n":
            raise FormatError(f"a note must not contain control character {char!r} (at {position})")


def utf8(text: str) -> bytes:
    """`text` as UTF-8 bytes, refusing strings that have no UTF-8 form (lone surrogates)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise FormatError(f"text cannot be encoded as UTF-8 ({error.reason})") from None
