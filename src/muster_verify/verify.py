"""Verify an export of Muster's transparency log offline: a directory holding `checkpoint` (a
signed note) and the tiles of https://c2sp.org/tlog-tiles (see `muster_verify.tiles`).

`verify_export` checks, in one streaming pass and stopping at the first failure:

1. the checkpoint is signed by the auditor's key and names the key's log (origin = key name);
2. every entry bundle and hash tile the checkpoint's size calls for is there, each stored hash
   equals the one recomputed from the entries, and the root over all entries is the
   checkpoint's root;
3. unless `merkle_only`: each entry is RFC 8785 canonical JSON (`muster_verify.canonical`), an
   object whose `seq` is its index and whose `subject` has a string `type` and `id`;
4. unless `merkle_only`: the custody chain of every item. An entry about an item
   (`subject.type == "item"`) whose `data` has `prev` names the seq of the previous such entry
   about that item, or null if it is the first. Entries about an item without `prev` (Muster
   journals refused requests that way, such as `custody.emergency_reconcile_refused`) record
   no custody move and are not links of the chain;
5. with `since`, an older checkpoint the auditor kept: its tree is a prefix of this one, so the
   log has neither forked nor been rolled back since.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muster_verify._base64 import encode_base64
from muster_verify.canonical import NotCanonical, parse_canonical
from muster_verify.checkpoint import Checkpoint, parse_checkpoint
from muster_verify.errors import FormatError, VerificationError
from muster_verify.merkle import EMPTY_ROOT
from muster_verify.note import Verifier, open_note, parse_verifier_key
from muster_verify.tiles import TILE_HEIGHT, TILE_WIDTH, TileHasher, TileReader, tile_path

CHECKPOINT_PATH = "checkpoint"


@dataclass(frozen=True)
class Report:
    """What a successful verification covered."""

    origin: str
    key: str
    """The verifier key's name and key ID, `name+keyid`."""
    size: int
    root: bytes
    entries_checked: int
    """Entries whose content was checked (canonical JSON, seq, chains); 0 when merkle_only."""
    items_checked: int
    """Items whose custody chain was followed."""
    seconds: float
    merkle_only: bool = False
    since_size: int | None = None
    """The size of the older checkpoint shown to be a prefix of this one, if one was given."""

    @property
    def root_base64(self) -> str:
        return encode_base64(self.root)


def verify_export(
    directory: str | os.PathLike[str],
    verifier_key_text: str,
    *,
    since: str | None = None,
    merkle_only: bool = False,
) -> Report:
    """Verify the export in `directory` against the log's public key `verifier_key_text`
    (`name+keyid+key`), optionally against the text of an older signed checkpoint `since`.
    Returns a Report; raises VerificationError naming the first entry, tile or checkpoint that
    fails and why."""
    started = time.perf_counter()
    directory = Path(directory)
    try:
        verifier = parse_verifier_key(verifier_key_text.strip())
    except FormatError as error:
        raise VerificationError(f"key: {error}") from None
    try:
        checkpoint_note = (directory / CHECKPOINT_PATH).read_bytes()
    except FileNotFoundError:
        raise VerificationError(f"{CHECKPOINT_PATH}: missing") from None
    except OSError as error:
        raise VerificationError(f"{CHECKPOINT_PATH}: cannot be read ({error.strerror})") from None
    checkpoint = open_signed_checkpoint(checkpoint_note, verifier, what=CHECKPOINT_PATH)
    old = None if since is None else open_signed_checkpoint(since, verifier, what="since")
    if old is not None:
        if old.size > checkpoint.size:
            raise VerificationError(
                f"since: the older checkpoint has {old.size} entries, more than the "
                f"{checkpoint.size} of this one: the log was rolled back"
            )
        if old.size == 0 and old.root_hash != EMPTY_ROOT:
            raise VerificationError("since: the older checkpoint of 0 entries has a wrong root")

    checker = None if merkle_only else EntryChecker()
    reader = TileReader(directory, checkpoint.size)
    hasher = TileHasher()
    sha256 = hashlib.sha256
    for bundle_index in range(-(-checkpoint.size // TILE_WIDTH)):
        entries = reader.bundle(bundle_index)
        leaves = [sha256(b"\x00" + entry).digest() for entry in entries]
        first = bundle_index << TILE_HEIGHT
        if old is not None and first < old.size <= first + len(leaves):
            _compare_prefix(hasher, leaves[: old.size - first], old)
        _compare_tile(reader, 0, bundle_index, leaves)
        for level, index, hashes in hasher.add(leaves):
            if level:
                _compare_tile(reader, level, index, hashes)
        if checker is not None:
            checker.check(first, entries)
    for level, index, hashes in hasher.partial_tiles():
        if level:
            _compare_tile(reader, level, index, hashes)
    if hasher.root() != checkpoint.root_hash:
        raise VerificationError(f"root over {checkpoint.size} entries differs from the checkpoint")
    return Report(
        origin=checkpoint.origin,
        key=f"{verifier.name}+{verifier.key_id:08x}",
        size=checkpoint.size,
        root=checkpoint.root_hash,
        entries_checked=0 if checker is None else checkpoint.size,
        items_checked=0 if checker is None else len(checker.chains),
        seconds=time.perf_counter() - started,
        merkle_only=merkle_only,
        since_size=None if old is None else old.size,
    )


def open_signed_checkpoint(note: str | bytes, verifier: Verifier, *, what: str) -> Checkpoint:
    """Open a signed checkpoint that must carry `verifier`'s signature and name its log; errors
    start with `what` (`checkpoint`, `since`)."""
    key = f"{verifier.name}+{verifier.key_id:08x}"
    try:
        opened = open_note(note, [verifier])
    except FormatError as error:
        raise VerificationError(f"{what}: {error}") from None
    except VerificationError as error:
        raise VerificationError(f"{what}: no valid signature by {key} ({error})") from None
    try:
        checkpoint = parse_checkpoint(opened.text)
    except FormatError as error:
        raise VerificationError(f"{what}: {error}") from None
    if checkpoint.origin != verifier.name:
        raise VerificationError(
            f"{what}: is for log {checkpoint.origin!r}, not {verifier.name!r} (the key's name)"
        )
    return checkpoint


def _compare_prefix(hasher: TileHasher, leaves: list[bytes], old: Checkpoint) -> None:
    """The older checkpoint's tree is the hasher's tree followed by `leaves`."""
    if hasher.root(leaves) != old.root_hash:
        raise VerificationError(
            f"since: the root over the first {old.size} entries differs from the older "
            "checkpoint's: the log has forked"
        )


def _compare_tile(reader: TileReader, level: int, index: int, computed: list[bytes]) -> None:
    stored = reader.hash_tile(level, index)
    if stored == computed:
        return
    at = next(i for i, (a, b) in enumerate(zip(stored, computed, strict=True)) if a != b)
    span = 1 << (TILE_HEIGHT * level)
    start = ((index << TILE_HEIGHT) + at) * span
    covers = f"entry {start}" if level == 0 else f"entries {start}..{start + span - 1}"
    raise VerificationError(
        f"{tile_path(level, index, len(computed))}: hash {at} differs from the entries ({covers})"
    )


class EntryChecker:
    """The content checks on entries taken in index order: canonical JSON, seq equal to the
    index, and each item's custody chain. It remembers the last link of every item's chain."""

    def __init__(self) -> None:
        self.chains: dict[str, int] = {}

    def check(self, first: int, entries: list[bytes]) -> None:
        """Check `entries`, the entries from index `first` on."""
        chains = self.chains
        for seq, entry in enumerate(entries, start=first):
            try:
                body = parse_canonical(entry)
            except NotCanonical as error:
                raise VerificationError(f"entry {seq}: not canonical JSON: {error}") from None
            if type(body) is not dict:
                raise VerificationError(f"entry {seq}: is not a JSON object")
            found = body.get("seq")
            if found != seq or type(found) is not int:
                if "seq" not in body:
                    raise VerificationError(f"entry {seq}: has no seq")
                raise VerificationError(f"entry {seq}: seq is {_json(found)}")
            subject = body.get("subject")
            if (
                type(subject) is not dict
                or type(subject.get("type")) is not str
                or type(subject.get("id")) is not str
            ):
                raise VerificationError(
                    f"entry {seq}: subject is not an object with a string type and id"
                )
            if subject["type"] != "item":
                continue
            data = body.get("data")
            if type(data) is not dict:
                raise VerificationError(f"entry {seq}: data of an item entry is not an object")
            if "prev" not in data:
                continue
            item, prev = subject["id"], data["prev"]
            last = chains.get(item)
            if prev != last or not (prev is None or type(prev) is int):
                raise VerificationError(f"entry {seq}: {_broken_link(item, prev, last)}")
            chains[item] = seq


def _broken_link(item: str, prev: Any, last: int | None) -> str:
    about = f"item {_json(item)}"
    if not (prev is None or type(prev) is int):
        return f"data.prev is {_json(prev)}, neither a seq nor null"
    if last is None:
        return f"data.prev is {prev}, but this is the first entry about {about}"
    return f"data.prev is {_json(prev)}, but the previous entry about {about} is {last}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
