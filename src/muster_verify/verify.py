"""Verify an export of Muster's transparency log offline: a directory holding `checkpoint` (a
signed note) and the tiles of https://c2sp.org/tlog-tiles (see `muster_verify.tiles`).

`verify_export` checks, in one streaming pass and stopping at the first failure:

1. the checkpoint is signed by the auditor's key and names the key's log (origin = key name);
2. every entry bundle and hash tile the checkpoint's size calls for is there, each stored hash
   equals the one recomputed from the entries, and the root over all entries is the
   checkpoint's root;
3. unless `merkle_only`: each entry is RFC 8785 canonical JSON (`muster_verify.canonical`), an
   object whose `seq` is the log's offset plus its index and whose `subject` has a string
   `type` and `id`. The offset is 0, unless the log was begun by rotating an older one: then
   its first entry is `log.rotated`, whose seq is the offset and whose `data.previous` holds
   the older log's final checkpoint (its signature is checked when `previous_key` is given);
4. unless `merkle_only`: the custody chain of every item. An entry about an item
   (`subject.type == "item"`) whose `data` has `prev` names the seq of the previous such entry
   about that item, or null if it is the first. Entries about an item without `prev` (Muster
   journals refused requests that way, such as `custody.emergency_reconcile_refused`) record
   no custody move and are not links of the chain;
5. unless `merkle_only`: every chain-head entry (kind ending `.heads`: `count.heads` when a
   count closes, `log.heads` after `log.rotated`) lists `[item, seq]` pairs, each the last
   entry of that item's chain at that point, and each is checked against the chains followed.
   In a rotated log, `log.heads` gives the chains' heads in the older log (entries before the
   offset), and a chain that continues from the older log must start at the head given there;
6. with `since`, an older checkpoint the auditor kept: its tree is a prefix of this one, so the
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
    offset: int = 0
    """The seq of the log's first entry (not 0 for a log begun by rotation)."""
    previous: Checkpoint | None = None
    """The older log's final checkpoint that a rotated log's first entry names."""
    previous_signed: bool = False
    """Whether that checkpoint's signature was checked (a `previous_key` was given)."""
    heads_checked: int = 0
    """Chain heads (`*.heads` pairs) checked against the chains."""

    @property
    def root_base64(self) -> str:
        return encode_base64(self.root)


def verify_export(
    directory: str | os.PathLike[str],
    verifier_key_text: str,
    *,
    since: str | None = None,
    merkle_only: bool = False,
    previous_key_text: str | None = None,
) -> Report:
    """Verify the export in `directory` against the log's public key `verifier_key_text`
    (`name+keyid+key`), optionally against the text of an older signed checkpoint `since`,
    and, for a log begun by rotation, the older log's key `previous_key_text`. Returns a
    Report; raises VerificationError naming the first entry, tile or checkpoint that fails
    and why."""
    started = time.perf_counter()
    directory = Path(directory)
    verifier = _key(verifier_key_text, "key")
    previous_key = None if previous_key_text is None else _key(previous_key_text, "previous key")
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

    checker = None if merkle_only else EntryChecker(previous_key)
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
        offset=0 if checker is None else checker.offset,
        previous=None if checker is None else checker.previous,
        previous_signed=checker is not None and checker.previous_signed,
        heads_checked=0 if checker is None else checker.heads_checked,
    )


def _key(text: str, what: str) -> Verifier:
    try:
        return parse_verifier_key(text.strip())
    except FormatError as error:
        raise VerificationError(f"{what}: {error}") from None


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
    offset plus the index, each item's custody chain and every chain-head entry. It remembers
    the last link of every item's chain."""

    def __init__(self, previous_key: Verifier | None = None) -> None:
        self.chains: dict[str, int | None] = {}
        self.offset = 0
        self.previous: Checkpoint | None = None
        self.previous_key = previous_key
        self.previous_signed = False
        self.heads_checked = 0

    def check(self, first: int, entries: list[bytes]) -> None:
        """Check `entries`, the entries from index `first` on."""
        for index, entry in enumerate(entries, start=first):
            body = self._entry(index, entry)
            kind = body.get("kind")
            data = body.get("data")
            if kind == "log.rotated":
                self._rotated(index, data)
            elif type(kind) is str and kind.endswith(".heads"):
                self._heads(index, kind, data)
            if body["subject"]["type"] == "item":
                self._link(index, body["seq"], body["subject"]["id"], data)

    def _where(self, index: int) -> str:
        """How errors name an entry: its index, and its seq when they differ."""
        return f"entry {index}" + (f" (seq {self.offset + index})" if self.offset else "")

    def _entry(self, index: int, entry: bytes) -> dict[str, Any]:
        """The entry parsed: canonical JSON, an object, seq the offset plus index, a subject."""
        try:
            body = parse_canonical(entry)
        except NotCanonical as error:
            raise VerificationError(f"entry {index}: not canonical JSON: {error}") from None
        if type(body) is not dict:
            raise VerificationError(f"entry {index}: is not a JSON object")
        found = body.get("seq")
        if index == 0 and body.get("kind") == "log.rotated" and type(found) is int:
            self.offset = found
        if found != self.offset + index or type(found) is not int:
            if "seq" not in body:
                raise VerificationError(f"entry {index}: has no seq")
            raise VerificationError(
                f"entry {index}: seq is {_json(found)}"
                + (f", not {self.offset + index} (offset {self.offset})" if self.offset else "")
            )
        subject = body.get("subject")
        if (
            type(subject) is not dict
            or type(subject.get("type")) is not str
            or type(subject.get("id")) is not str
        ):
            raise VerificationError(
                f"{self._where(index)}: subject is not an object with a string type and id"
            )
        return body

    def _rotated(self, index: int, data: Any) -> None:
        """A log's first entry naming the older log's final checkpoint."""
        where = self._where(index)
        if index != 0:
            raise VerificationError(f"{where}: log.rotated is only a log's first entry")
        previous = data.get("previous") if type(data) is dict else None
        if type(previous) is not dict or type(previous.get("checkpoint")) is not str:
            raise VerificationError(f"{where}: log.rotated has no data.previous.checkpoint")
        note = previous["checkpoint"]
        try:
            if self.previous_key is not None:
                checkpoint = open_signed_checkpoint(note, self.previous_key, what="previous")
            else:
                checkpoint = parse_checkpoint(note.partition("\n\n")[0] + "\n")
        except (FormatError, VerificationError) as error:
            raise VerificationError(f"{where}: data.previous.checkpoint: {error}") from None
        stated = (previous.get("origin"), previous.get("size"), previous.get("root"))
        if stated != (checkpoint.origin, checkpoint.size, encode_base64(checkpoint.root_hash)):
            raise VerificationError(
                f"{where}: data.previous (origin, size, root) differs from its checkpoint"
            )
        self.previous = checkpoint
        self.previous_signed = self.previous_key is not None

    def _heads(self, index: int, kind: str, data: Any) -> None:
        """Each `[item, last]` pair is the last link of the item's chain so far; `log.heads`
        at the start of a rotated log gives the chains' heads in the older log."""
        where = self._where(index)
        heads = data.get("heads") if type(data) is dict else None
        if type(heads) is not list:
            raise VerificationError(f"{where}: {kind} has no data.heads list")
        chains = self.chains
        seeds = kind == "log.heads" and self.previous is not None
        for pair in heads:
            if (
                type(pair) is not list
                or len(pair) != 2
                or type(pair[0]) is not str
                or not (pair[1] is None or type(pair[1]) is int)
            ):
                raise VerificationError(f"{where}: {kind} pair {_json(pair)} is not [id, seq]")
            item, last = pair
            if seeds and item not in chains and (last is None or last < self.offset):
                chains[item] = last
            elif chains.get(item) != last:
                raise VerificationError(
                    f"{where}: {kind} says the last entry about item {_json(item)} is "
                    f"{_json(last)}, but it is {_json(chains.get(item))}: "
                    + (
                        "an event was left out of the log"
                        if last is not None and (chains.get(item) or -1) < last
                        else "an event is missing from that entry's account"
                    )
                )
            self.heads_checked += 1

    def _link(self, index: int, seq: int, item: str, data: Any) -> None:
        if type(data) is not dict:
            raise VerificationError(f"{self._where(index)}: data of an item entry is not an object")
        if "prev" not in data:
            return
        prev = data["prev"]
        last = self.chains.get(item)
        if prev != last or not (prev is None or type(prev) is int):
            raise VerificationError(f"{self._where(index)}: {self._broken_link(item, prev, last)}")
        self.chains[item] = seq

    def _broken_link(self, item: str, prev: Any, last: int | None) -> str:
        if type(prev) is int and prev < self.offset and last is None and item not in self.chains:
            return (
                f"data.prev is {prev}, in the older log, but no log.heads entry at the start "
                f"of this log gives item {_json(item)}'s head there"
            )
        return _broken_link(item, prev, last)


def _broken_link(item: str, prev: Any, last: int | None) -> str:
    about = f"item {_json(item)}"
    if not (prev is None or type(prev) is int):
        return f"data.prev is {_json(prev)}, neither a seq nor null"
    if last is None:
        return f"data.prev is {prev}, but this is the first entry about {about}"
    return f"data.prev is {_json(prev)}, but the previous entry about {about} is {last}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
