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

An item bundle is a header, one proof per custody event, oldest first, and then the proof of
an attestation, when there is one:

    muster.item-history@v1
    item <model code> <serial>

    <proof of the first event>
    <proof of the next event>
    …
    <proof of the attestation>

It shows every event is in the log and that they form one chain: each event's `data.prev` is the
seq of the one before it (the first has none), all about the same item. Events of one log are
proved against one checkpoint; a history that spans a rotation has a checkpoint per log (the
older log's final one), each signed by one of the keys given.

The attestation is a chain-head entry (`count.heads` when a count closed, `log.heads` when the
log was rotated) that lists the item with the seq of its last event at that moment. It must be
one of the bundle's events, and no event may fall between it and the attestation: so no event
up to the attestation is left out. (A full verification of the log checks every chain-head
entry against the chains, so an attestation cannot lie without the log failing.) Events after
the attestation are shown but cannot be shown complete until the next one.
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
    """What a verified bundle shows: the item, its events in order, the checkpoints (one per
    log, the latest last), and the attestation, if any."""

    model: str
    serial: str
    events: tuple[dict[str, Any], ...]
    checkpoints: tuple[Checkpoint, ...]
    attestation: dict[str, Any] | None = None
    """The chain-head entry showing no event up to it is left out."""

    @property
    def checkpoint(self) -> Checkpoint:
        return self.checkpoints[-1]

    @property
    def complete_through(self) -> int | None:
        """The seq up to which the history is shown complete."""
        return None if self.attestation is None else int(self.attestation["seq"])


def format_bundle(model: str, serial: str, proofs: Sequence[Proof]) -> str:
    """An item bundle: the header, then each event's proof, oldest first, then the
    attestation's, if any."""
    return f"{BUNDLE_HEADER}\nitem {model} {serial}\n\n" + "".join(format_proof(p) for p in proofs)


def verify_bundle(text: str, verifiers: Verifier | Sequence[Verifier]) -> ItemHistory:
    """Check every proof of an item bundle, each against a checkpoint signed by the key named
    as its log (one of `verifiers`), and that the events are the item's whole chain up to the
    last one shown: the same item in every event, each event's `data.prev` the seq of the one
    before, the first without one; and, with an attestation, that no event up to it is left
    out."""
    keys = {v.name: v for v in ([verifiers] if isinstance(verifiers, Verifier) else verifiers)}
    model, serial, rest = _bundle_header(text)
    chain = _Chain(model, serial)
    logs: dict[str, tuple[Checkpoint, int]] = {}  # origin: (checkpoint, seq of index 0)
    for number, chunk in enumerate(_proofs(rest), start=1):
        proof = parse_proof(chunk)
        where = f"event {number} (index {proof.index})"
        checkpoint = verify_proof(proof, _key_for(proof, keys, where))
        entry = _event(proof.entry, where)
        seq = entry["seq"]
        where = f"event {number} (entry {seq})"
        known = logs.setdefault(checkpoint.origin, (checkpoint, seq - proof.index))
        if known[0] != checkpoint:
            raise VerificationError(f"{where}: proved against another checkpoint of its log")
        if seq - proof.index != known[1]:
            raise VerificationError(f"{where}: its seq does not match its index in the log")
        chain.add(entry, where)
    if not chain.events:
        raise FormatError("the bundle holds no event")
    return ItemHistory(
        model,
        serial,
        tuple(chain.events),
        tuple(checkpoint for checkpoint, _ in logs.values()),
        chain.attestation,
    )


class _Chain:
    """An item's events as a bundle gives them, checked as they come."""

    def __init__(self, model: str, serial: str) -> None:
        self.model, self.serial = model, serial
        self.events: list[dict[str, Any]] = []
        self.attestation: dict[str, Any] | None = None
        self.subject: str | None = None

    def add(self, entry: dict[str, Any], where: str) -> None:
        kind = entry.get("kind")
        if isinstance(kind, str) and kind.endswith(".heads"):
            self._attest(entry, kind, where)
            return
        if self.attestation is not None:
            raise VerificationError(f"{where}: an event after the attestation")
        about = entry["subject"]
        if about.get("type") != "item" or self.subject not in (None, about.get("id")):
            raise VerificationError(f"{where}: is not about the same item")
        self.subject = about.get("id")
        data = entry.get("data", {})
        if (data.get("serial"), data.get("model")) != (self.serial, self.model):
            raise VerificationError(f"{where}: is about {data.get('model')} {data.get('serial')}")
        previous = self.events[-1]["seq"] if self.events else None
        if data.get("prev") != previous:
            raise VerificationError(
                f"{where}: follows entry {data.get('prev')}, not {previous}: an event is missing"
            )
        self.events.append(entry)

    def _attest(self, entry: dict[str, Any], kind: str, where: str) -> None:
        if self.attestation is not None or not self.events:
            raise VerificationError(f"{where}: a bundle has one attestation, after its events")
        heads = entry.get("data", {}).get("heads")
        pairs = {pair[0]: pair[1] for pair in heads} if isinstance(heads, list) else {}
        if self.subject not in pairs:
            raise VerificationError(f"{where}: {kind} does not list the item")
        last = pairs[self.subject]
        seqs = [event["seq"] for event in self.events]
        if last not in seqs:
            raise VerificationError(
                f"{where}: {kind} says the item's last event was entry {last}, which the bundle "
                "does not hold: an event is left out"
            )
        later = [seq for seq in seqs if last < seq < entry["seq"]]
        if later:
            raise VerificationError(
                f"{where}: {kind} says the item's last event was entry {last}, but the bundle "
                f"holds entry {later[0]} before the attestation"
            )
        self.attestation = entry


def _bundle_header(text: str) -> tuple[str, str, str]:
    header, separator, rest = text.partition("\n\n")
    lines = header.split("\n")
    if not separator or len(lines) != 2 or lines[0] != BUNDLE_HEADER:
        raise FormatError(f"an item bundle starts with {BUNDLE_HEADER!r} and an item line")
    words = lines[1].split(" ")
    if len(words) != 3 or words[0] != "item":
        raise FormatError("the bundle's second line is `item MODEL SERIAL`")
    return words[1], words[2], rest


def _key_for(proof: Proof, keys: dict[str, Verifier], where: str) -> Verifier:
    """The key named as the proof's log (a checkpoint's first line is its origin)."""
    origin = proof.checkpoint_note.split("\n", 1)[0]
    if origin not in keys:
        raise VerificationError(
            f"{where}: proved against a checkpoint of log {origin!r}; no key given for it"
        )
    return keys[origin]


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
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("subject"), dict)
        or type(event.get("seq")) is not int
    ):
        raise VerificationError(f"{where}: the entry is not a journal entry")
    return event
