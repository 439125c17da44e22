"""Offline proofs that an entry is in the log (https://c2sp.org/tlog-proof), and bundles of
them that prove an item's whole custody history.

A proof is text:

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry's bytes>
    index <the entry's index in the log>
    <base64 inclusion proof hash, one per line, from the leaf's sibling up>

    <the signed checkpoint, verbatim>

Muster puts the entry itself in `extra`, so that a proof alone is enough to read and check the
entry: the extra data is not trusted, it is hashed and must lead to the signed root.

An item bundle is a header and one proof per custody event, all against the same checkpoint:

    muster.item-history@v1
    item <model code> <serial>

    <proof of the first event>
    <proof of the next event>
    …

It shows every event is in the log and that they form one chain: each event's `data.prev` is the
index of the one before it (the first has none), all about the same item.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from muster_verify import merkle
from muster_verify._base64 import decode_base64, encode_base64
from muster_verify.checkpoint import Checkpoint, open_checkpoint
from muster_verify.errors import FormatError, VerificationError
from muster_verify.note import Verifier

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
BUNDLE_HEADER = "muster.item-history@v1"


@dataclass(frozen=True)
class Proof:
    """One entry's proof: its index, its bytes (from `extra`), the hashes, the checkpoint."""

    index: int
    entry: bytes
    hashes: tuple[bytes, ...]
    checkpoint_note: str


def format_proof(proof: Proof) -> str:
    """The tlog-proof text of `proof` (the checkpoint note is included verbatim)."""
    lines = [PROOF_HEADER, f"extra {encode_base64(proof.entry)}", f"index {proof.index}"]
    lines.extend(encode_base64(h) for h in proof.hashes)
    return "\n".join(lines) + "\n\n" + proof.checkpoint_note


def parse_proof(text: str) -> Proof:
    """Read a tlog-proof; `FormatError` says which line is wrong."""
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise FormatError("a proof needs an empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        raise FormatError(f"a proof starts with {PROOF_HEADER!r}, not {lines[0]!r}")
    position = 1
    entry = b""
    if position < len(lines) and lines[position].startswith("extra "):
        entry = decode_base64(lines[position][len("extra ") :], what="the proof's extra data")
        position += 1
    if position >= len(lines) or not lines[position].startswith("index "):
        raise FormatError("a proof names its entry's index on the line after the header")
    number = lines[position][len("index ") :]
    if not number.isdigit() or (len(number) > 1 and number[0] == "0"):
        raise FormatError(f"a proof's index is a decimal without leading zeros, not {number!r}")
    hashes = []
    for line in lines[position + 1 :]:
        hashed = decode_base64(line, what="an inclusion proof hash")
        if len(hashed) != merkle.HASH_SIZE:
            raise FormatError(
                f"an inclusion proof hash has {merkle.HASH_SIZE} bytes, not {len(hashed)}"
            )
        hashes.append(hashed)
    return Proof(int(number), entry, tuple(hashes), note)


def verify_proof(proof: Proof, verifier: Verifier) -> Checkpoint:
    """Check the checkpoint's signature and that the entry's leaf leads to its root."""
    checkpoint = open_checkpoint(proof.checkpoint_note, verifier)
    if proof.index >= checkpoint.size:
        raise VerificationError(
            f"entry {proof.index} is beyond the checkpoint's tree of {checkpoint.size}"
        )
    merkle.verify_inclusion(
        merkle.leaf_hash(proof.entry),
        proof.index,
        checkpoint.size,
        proof.hashes,
        checkpoint.root_hash,
    )
    return checkpoint


@dataclass(frozen=True)
class ItemHistory:
    """What a verified bundle shows: the item, its events in order, the checkpoint."""

    model: str
    serial: str
    events: tuple[dict[str, Any], ...]
    checkpoint: Checkpoint


def format_bundle(model: str, serial: str, proofs: Sequence[Proof]) -> str:
    """An item bundle: the header, then each event's proof, oldest first."""
    return f"{BUNDLE_HEADER}\nitem {model} {serial}\n\n" + "".join(format_proof(p) for p in proofs)


def verify_bundle(text: str, verifier: Verifier) -> ItemHistory:
    """Check every proof of an item bundle and that the events are the item's whole chain up
    to the last one shown: one checkpoint for all, the same item in every event, each event's
    `data.prev` the index of the one before, the first without one."""
    header, separator, rest = text.partition("\n\n")
    lines = header.split("\n")
    if not separator or len(lines) != 2 or lines[0] != BUNDLE_HEADER:
        raise FormatError(f"an item bundle starts with {BUNDLE_HEADER!r} and an item line")
    words = lines[1].split(" ")
    if len(words) != 3 or words[0] != "item":
        raise FormatError("the bundle's second line is `item MODEL SERIAL`")
    _, model, serial = words
    events: list[dict[str, Any]] = []
    checkpoint: Checkpoint | None = None
    previous: int | None = None
    subject: str | None = None
    for number, chunk in enumerate(_proofs(rest), start=1):
        proof = parse_proof(chunk)
        where = f"event {number} (entry {proof.index})"
        opened = verify_proof(proof, verifier)
        if checkpoint is not None and opened != checkpoint:
            raise VerificationError(f"{where}: proved against another checkpoint")
        checkpoint = opened
        event = _event(proof.entry, where)
        if event["seq"] != proof.index:
            raise VerificationError(f"{where}: its seq is {event['seq']}")
        about = event["subject"]
        if about.get("type") != "item" or (subject is not None and about.get("id") != subject):
            raise VerificationError(f"{where}: is not about the same item")
        subject = about.get("id")
        data = event.get("data", {})
        if (data.get("serial"), data.get("model")) != (serial, model):
            raise VerificationError(f"{where}: is about {data.get('model')} {data.get('serial')}")
        if data.get("prev") != previous:
            raise VerificationError(
                f"{where}: follows entry {data.get('prev')}, not {previous}: an event is missing"
            )
        previous = proof.index
        events.append(event)
    if checkpoint is None:
        raise FormatError("the bundle holds no proof")
    return ItemHistory(model, serial, tuple(events), checkpoint)


def _proofs(text: str) -> list[str]:
    """Split the proofs of a bundle: each starts with the tlog-proof header line."""
    marker = PROOF_HEADER + "\n"
    if not text.startswith(marker):
        raise FormatError("the bundle's proofs start with " + repr(PROOF_HEADER))
    pieces = text[len(marker) :].split("\n" + marker)
    # The newline the split took ends the signature lines of every proof but the last.
    return [marker + piece + "\n" for piece in pieces[:-1]] + [marker + pieces[-1]]


def _event(entry: bytes, where: str) -> dict[str, Any]:
    try:
        event = json.loads(entry.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise VerificationError(f"{where}: the entry is not JSON ({error})") from None
    if not isinstance(event, dict) or not isinstance(event.get("subject"), dict):
        raise VerificationError(f"{where}: the entry is not a journal entry")
    return event
