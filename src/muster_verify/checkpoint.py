"""Checkpoints (https://c2sp.org/tlog-checkpoint): a log's signed statement of its tree size and
root hash, carried as the text of a signed note:

    <origin>
    <tree size, in decimal, no leading zeros>
    <root hash, in base64>
    [extension lines]

Every line ends in a newline and none is empty. The origin names the log; the root hash is the
RFC 9162 Merkle tree root (see `muster_verify.merkle`) over the first `size` leaves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from muster_verify._base64 import decode_base64, encode_base64
from muster_verify.errors import FormatError, VerificationError
from muster_verify.merkle import HASH_SIZE
from muster_verify.note import Signer, Verifier, open_note, sign_note

MAX_SIZE = 2**64 - 1
_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: which log (`origin`), how many leaves, and their Merkle root."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, line in [
            ("origin", self.origin),
            *(("extension line", e) for e in self.extensions),
        ]:
            if not line:
                raise FormatError(f"a checkpoint's {name} must not be empty")
            if any(c < " " for c in line):
                raise FormatError(f"a checkpoint's {name} {line!r} contains a control character")
        if not 0 <= self.size <= MAX_SIZE:
            raise FormatError(
                f"a checkpoint's tree size must be within 0..2**64-1, not {self.size}"
            )
        if len(self.root_hash) != HASH_SIZE:
            raise FormatError(
                f"a checkpoint's root hash has {HASH_SIZE} bytes, not {len(self.root_hash)}"
            )


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The checkpoint's note text, each line ending in a newline."""
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        encode_base64(checkpoint.root_hash),
        *checkpoint.extensions,
    ]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's note text strictly: at least three non-empty lines, each ending in a
    newline; a decimal size with no sign, space or leading zero; a canonical base64 root hash of
    32 bytes. Raises FormatError naming the first thing wrong."""
    if not text.endswith("\n"):
        raise FormatError("a checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise FormatError(
            f"a checkpoint has an origin, a tree size and a root hash line; this one has {len(lines)} lines"
        )
    for number, line in enumerate(lines, start=1):
        if not line:
            raise FormatError(f"line {number} of the checkpoint is empty")
    origin, size, root_hash, *extensions = lines
    if not _SIZE.fullmatch(size):
        raise FormatError(f"tree size {size!r} is not a decimal number without leading zeros")
    if len(size) > len(str(MAX_SIZE)):
        raise FormatError(f"tree size {size[:30]}... is beyond 2**64-1")
    return Checkpoint(
        origin=origin,
        size=int(size),
        root_hash=decode_base64(root_hash, what="the checkpoint's root hash"),
        extensions=tuple(extensions),
    )


def sign_checkpoint(checkpoint: Checkpoint, *signers: Signer) -> str:
    """The checkpoint as a signed note. The log's key name should be its origin."""
    return sign_note(format_checkpoint(checkpoint), *signers)


def open_checkpoint(
    message: str | bytes, verifier: Verifier, *, origin: str | None = None
) -> Checkpoint:
    """Check a signed checkpoint against the log's verifier key and read it. The checkpoint must
    be signed by that key and name `origin` (by default the key's name), so that a checkpoint of
    another log signed with the same key is refused. Other signatures, such as witnesses'
    cosignatures, are ignored."""
    note = open_note(message, [verifier])
    checkpoint = parse_checkpoint(note.text)
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise VerificationError(
            f"the checkpoint is for log {checkpoint.origin!r}, not {expected!r}"
        )
    return checkpoint
