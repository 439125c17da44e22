"""The transparency log over the journal (RFC 9162 Merkle tree, C2SP signed checkpoints).

Entries are sequenced in the transaction of the change they record (journal.services).
Integration comes after commit (decision 0002): `integrate` reads the entries beyond the tree's
size in order, hashes them, stores every subtree they complete, moves the tree head on and
signs a checkpoint of the new size. The hashing, proofs and formats are `muster_verify`'s, the
same code an auditor runs.

The journal is one sequence; the log over it is cut into shards (`LogShard`), one origin each.
`rotate` seals the current shard with a final checkpoint and starts a new origin whose first
entry commits to it, followed by the last entry of every item's chain (`log.heads`), so that a
verifier of the new shard alone can still follow every chain. Entry `seq` is at index
`seq - shard.start` of its shard's tree.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from muster.core import rows
from muster.core.actors import Actor
from muster.core.bulk import insert_rows
from muster.core.errors import DomainError
from muster.journal.models import (
    Checkpoint,
    Cosignature,
    JournalEntry,
    JournalHead,
    LogShard,
    LogSubtree,
    TreeHead,
)
from muster.journal.selectors import journal_size
from muster.journal.services import Change, heads_changes, record_changes
from muster_verify import merkle, tiles
from muster_verify._base64 import encode_base64
from muster_verify.checkpoint import Checkpoint as CheckpointBody
from muster_verify.checkpoint import sign_checkpoint
from muster_verify.cosignature import (
    CosignatureVerifier,
    add_cosignatures,
    parse_cosignature_verifier_key,
    verify_cosignatures,
)
from muster_verify.errors import FormatError
from muster_verify.note import Signer, check_key_name, generate_key, parse_signer_key
from muster_verify.proof import Proof
from muster_verify.witness import format_add_checkpoint_request

BATCH = 20_000


class LogError(DomainError):
    """The log cannot do what was asked (no key, a journal that is not a gapless sequence)."""


# --- the signing key ---------------------------------------------------------------------


def signer(shard: LogShard | None = None) -> Signer:
    """The key that signs the checkpoints of `shard` (by default the current one), from
    MUSTER_LOG_KEY_FILE, made there (mode 0600, with the public key beside it in `.pub`) on
    first use under the first origin's name. A later shard signs with the same key under its
    own origin (a key's name is its log's origin, and part of its key ID)."""
    shard = shard or current_shard()
    first = first_shard()
    if first.origin != settings.LOG_ORIGIN:
        raise LogError.single(
            "log",
            "origin",
            f"the log's first origin is {first.origin!r} (in the database), but "
            f"MUSTER_LOG_ORIGIN is {settings.LOG_ORIGIN!r}: set it back; a new origin is "
            "begun with `muster log rotate`",
        )
    path: Path = settings.LOG_KEY_FILE
    if not path.exists():
        _make_key(path, first.origin)
    key = parse_signer_key(path.read_text().strip())
    if key.name != first.origin:
        raise LogError.single(
            f"key {path}",
            "name",
            f"is for origin {key.name!r}, but the log's origin is {first.origin!r}",
        )
    return key if key.name == shard.origin else Signer(shard.origin, key.seed)


def verifier_key(shard: LogShard | None = None) -> str:
    """The public key auditors verify `shard`'s checkpoints with (`name+keyid+key`)."""
    return signer(shard).verifier.encode()


def _make_key(path: Path, origin: str) -> None:
    """Write a new key to `path` unless one is there: written whole to a temporary file first,
    then linked into place, which fails if another process got there first, so a reader never
    sees half a key."""
    private, public = generate_key(origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(private + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process made it first
            return
        path.with_suffix(".pub").write_text(public + "\n")
    finally:
        Path(temporary).unlink()


# --- shards --------------------------------------------------------------------------------


def current_shard() -> LogShard:
    """The shard new entries go to (made, as shard 1 under MUSTER_LOG_ORIGIN, on first use)."""
    shard = LogShard.objects.order_by("-id").first()
    if shard is None:
        LogShard.objects.bulk_create(
            [LogShard(id=1, origin=settings.LOG_ORIGIN, start=0, started_at=timezone.now())],
            ignore_conflicts=True,
        )
        shard = LogShard.objects.order_by("-id").first()
    assert shard is not None
    return shard


def first_shard() -> LogShard:
    current_shard()
    return LogShard.objects.order_by("id")[0]


def shard_named(origin: str | None) -> LogShard:
    """The shard of `origin` (None: the current one); an unknown origin is refused, naming the
    log's origins."""
    if origin is None:
        return current_shard()
    shard = LogShard.objects.filter(origin=origin).first()
    if shard is None:
        known = ", ".join(LogShard.objects.values_list("origin", flat=True)) or "none yet"
        raise LogError.single(f"log {origin}", "origin", f"no such log; the log's origins: {known}")
    return shard


def shard_of(seq: int) -> LogShard:
    """The shard whose tree holds journal entry `seq`."""
    current_shard()
    return LogShard.objects.filter(start__lte=seq).order_by("-start")[0]


def shard_end(shard: LogShard) -> int | None:
    """The journal seq where the next shard starts (None for the current one)."""
    return (
        LogShard.objects.filter(id__gt=shard.id).order_by("id").values_list("start", flat=True)
    ).first()


# --- integration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Integrated:
    """What one integration did: the tree before and after, and the checkpoint it signed."""

    old_size: int
    size: int
    root: bytes
    checkpoint: Checkpoint | None


def integrate(
    *, batch: int = BATCH, progress: Callable[[int, int], None] | None = None
) -> Integrated:
    """Bring the current shard's tree up to the journal's committed entries and sign a
    checkpoint of it (none when nothing was added and one exists). Each batch is one
    transaction under the tree head's lock; the checkpoint is signed after the last."""
    shard = current_shard()
    key = signer(shard)
    old_size = _head(shard).size
    while True:
        with transaction.atomic():
            head = _head(shard, lock=True)
            if not _integrate_batch(shard, head, batch):
                break
        if progress is not None:
            progress(shard.start + head.size, journal_size())
    with transaction.atomic():  # under the head's lock: two integrators sign once
        head = _head(shard, lock=True)
        latest = latest_checkpoint(shard)
        if (latest is not None and latest.size == head.size) or shard_end(shard) is not None:
            return Integrated(old_size, head.size, bytes(head.root), None)  # sealed by rotate
        return Integrated(old_size, head.size, bytes(head.root), _sign(shard, head, key))


def _integrate_batch(shard: LogShard, head: TreeHead, batch: int) -> bool:
    """Fold the next `batch` entries of `shard` into its tree (under the head's lock); False
    when there were none. A shard ends where the next begins."""
    start = shard.start + head.size
    end = shard_end(shard)
    limit = batch if end is None else min(batch, end - start)
    entries = _entries_from(start, limit) if limit > 0 else []
    if entries:
        _append(shard, head, entries)
    return bool(entries)


def _head(shard: LogShard, *, lock: bool = False) -> TreeHead:
    heads = TreeHead.objects.select_for_update() if lock else TreeHead.objects
    head = heads.filter(pk=shard.id).first()
    if head is None:
        TreeHead.objects.bulk_create(
            [TreeHead(pk=shard.id, size=0, root=merkle.EMPTY_ROOT, frontier=b"")],
            ignore_conflicts=True,
        )
        head = heads.get(pk=shard.id)
    return head


def _entries_from(start: int, limit: int) -> list[tuple[int, str]]:
    table = JournalEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT seq, body FROM "{table}" WHERE seq >= %s ORDER BY seq LIMIT %s',
            [start, limit],
        )
        return cursor.fetchall()


def _append(shard: LogShard, head: TreeHead, entries: list[tuple[int, str]]) -> None:
    """Fold `entries` (the next ones, in order) into the tree and store what they complete."""
    frontier = _frontier(head)
    completed: list[tuple[int, int, int, bytes]] = []
    for seq, body in entries:
        expected = shard.start + frontier.size
        if seq != expected:
            raise LogError.single(
                f"journal entry {expected}",
                "seq",
                f"is missing: the journal jumps from {expected - 1} to {seq}",
            )
        frontier, done = frontier.append(merkle.leaf_hash(body.encode("utf-8")))
        completed.extend((shard.id, s.level, s.index, s.hash) for s in done)
    insert_rows(LogSubtree, ("shard", "level", "index", "hash"), completed)
    head.size = frontier.size
    head.root = frontier.root()
    head.frontier = b"".join(frontier.hashes)
    head.integrated_at = timezone.now()
    head.save(update_fields=["size", "root", "frontier", "integrated_at"])


def _frontier(head: TreeHead) -> merkle.Frontier:
    stored = bytes(head.frontier)
    size = merkle.HASH_SIZE
    return merkle.Frontier(
        head.size, tuple(stored[i : i + size] for i in range(0, len(stored), size))
    )


def _sign(shard: LogShard, head: TreeHead, key: Signer) -> Checkpoint:
    body = CheckpointBody(origin=shard.origin, size=head.size, root_hash=bytes(head.root))
    return Checkpoint.objects.create(
        origin=body.origin,
        size=body.size,
        root=body.root_hash,
        note=sign_checkpoint(body, key),
        signed_at=timezone.now(),
    )


def latest_checkpoint(shard: LogShard | None = None) -> Checkpoint | None:
    """The latest checkpoint of `shard` (by default the current one); a sealed shard's is
    its final one."""
    origin = (shard or current_shard()).origin
    return Checkpoint.objects.filter(origin=origin).order_by("-size").first()


# --- rotation ------------------------------------------------------------------------------


def rotate(
    origin: str,
    *,
    actor: Actor,
    heads: Callable[[], Iterable[tuple[str, int | None]]],
) -> LogShard:
    """Seal the current shard and begin `origin`: one transaction that holds the journal's
    head (so nothing is appended meanwhile), integrates the rest of the current shard, signs
    its final checkpoint, and appends the new shard's first entries: `log.rotated`, which
    carries the final checkpoint, then `log.heads`, the last entry of every item's chain as
    `heads()` gives them (read under the same lock, so no chain moves in between). The new
    shard's first checkpoint is signed after commit."""
    try:
        check_key_name(origin)
    except FormatError as error:
        raise LogError.single(f"log {origin}", "origin", str(error)) from None
    if LogShard.objects.filter(origin=origin).exists():
        raise LogError.single(f"log {origin}", "origin", "is already one of this log's origins")
    with transaction.atomic():
        journal_head = JournalHead.objects.select_for_update().filter(pk=1)
        start = journal_head.values_list("size", flat=True).first() or 0
        old = current_shard()
        key = signer(old)
        head = _head(old, lock=True)
        while _integrate_batch(old, head, BATCH):
            pass
        final = latest_checkpoint(old)
        if final is None or final.size != head.size:
            final = _sign(old, head, key)
        new = LogShard.objects.create(
            id=old.id + 1, origin=origin, start=start, started_at=timezone.now(),
            previous_final=final,
        )  # fmt: skip
        _head(new)
        previous = {
            "origin": old.origin,
            "size": final.size,
            "root": encode_base64(bytes(final.root)),
            "checkpoint": final.note,
        }
        record_changes(
            actor=actor,
            changes=[
                Change("log.rotated", "log", origin, {"previous": previous}),
                *heads_changes("log.heads", "log", origin, heads()),
            ],
        )
    integrate()
    return new


# --- witnesses -----------------------------------------------------------------------------


def witness_request(old_size: int) -> str:
    """The body of a C2SP tlog-witness add-checkpoint request for the latest checkpoint, from
    `old_size`, the size of the last checkpoint the witness cosigned (0 for none)."""
    latest = latest_checkpoint()
    if latest is None:
        raise LogError.single("log", "checkpoint", "none yet: run `muster log integrate`")
    if not 0 <= old_size <= latest.size:
        raise LogError.single(
            "witness request", "old_size", f"must be within 0..{latest.size}", str(old_size)
        )
    proof = consistency_proof(old_size, latest.size) if old_size else []
    return format_add_checkpoint_request(old_size, proof, latest.note)


def witness_keys() -> list[CosignatureVerifier]:
    """The witnesses configured in MUSTER_LOG_WITNESS_KEYS."""
    return [parse_cosignature_verifier_key(key) for key in settings.LOG_WITNESS_KEYS]


@transaction.atomic
def record_cosignatures(size: int, lines: str) -> list[Cosignature]:
    """Keep the cosignature lines a witness returned for the checkpoint of `size`, after
    checking each with the configured witness keys; a line by an unknown key is refused."""
    checkpoint = Checkpoint.objects.filter(origin=current_shard().origin, size=size).first()
    if checkpoint is None:
        raise LogError.single(f"checkpoint at {size}", "size", "no such checkpoint")
    given = [line + "\n" for line in lines.splitlines() if line.strip()]
    if not given:
        raise LogError.single("cosignatures", "lines", "none given")
    keys = witness_keys()
    kept = []
    for line in given:
        cosigned = verify_cosignatures(add_cosignatures(checkpoint.note, [line]), keys)
        if not cosigned:
            raise LogError.single(
                "cosignatures",
                "witness",
                f"{line.strip()[:40]}… is not by a witness in MUSTER_LOG_WITNESS_KEYS",
            )
        ((witness, timestamp),) = cosigned.items()
        found, _ = Cosignature.objects.get_or_create(
            checkpoint=checkpoint,
            line=line,
            defaults={
                "witness": witness,
                "cosigned_at": dt.datetime.fromtimestamp(timestamp, tz=dt.UTC),
            },
        )
        kept.append(found)
    return kept


def witnessed_note(checkpoint: Checkpoint) -> str:
    """The checkpoint's signed note with every kept cosignature line appended."""
    lines = list(checkpoint.cosignatures.order_by("id").values_list("line", flat=True))
    return add_cosignatures(checkpoint.note, lines) if lines else checkpoint.note


def latest_witnessed() -> Checkpoint | None:
    """The latest checkpoint some configured witness cosigned."""
    return (
        Checkpoint.objects.filter(origin=current_shard().origin, cosignatures__isnull=False)
        .order_by("-size")
        .first()
    )


# --- export --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    size: int
    files: int
    bytes: int


def export(
    directory: Path,
    progress: Callable[[int, int], None] | None = None,
    *,
    shard: LogShard | None = None,
) -> Exported:
    """Write `shard` (by default the current one) up to its latest checkpoint as a C2SP
    tlog-tiles directory: the entries from the journal, the hash tiles from the stored
    subtrees (so an entry changed since it was integrated shows as a tile that disagrees with
    it), `checkpoint` with its cosignatures and `key`, the public key. An auditor checks it
    with `muster-verify DIR --key KEY`, using a key they got separately, not the one in the
    directory."""
    integrate()
    shard = shard or current_shard()
    latest = latest_checkpoint(shard)
    if latest is None:
        raise LogError.single(f"log {shard.origin}", "checkpoint", "none yet")
    size = latest.size
    written = [0, 0]

    def write(path: str, data: bytes) -> None:
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written[0] += 1
        written[1] += len(data)

    directory.mkdir(parents=True, exist_ok=True)
    for first in range(0, size, tiles.TILE_WIDTH * 64):
        rows = JournalEntry.objects.filter(
            seq__gte=shard.start + first,
            seq__lt=shard.start + min(size, first + tiles.TILE_WIDTH * 64),
        )
        bodies = [
            body.encode("utf-8") for body in rows.order_by("seq").values_list("body", flat=True)
        ]
        for offset in range(0, len(bodies), tiles.TILE_WIDTH):
            bundle = bodies[offset : offset + tiles.TILE_WIDTH]
            index = (first + offset) // tiles.TILE_WIDTH
            write(tiles.entries_path(index, len(bundle)), tiles.encode_bundle(bundle))
        if progress is not None:
            progress(first + len(bodies), size)
    level = 0
    while size >> (tiles.TILE_HEIGHT * level):
        complete = size >> (tiles.TILE_HEIGHT * level)  # subtrees of this tile level
        for first in range(0, complete, tiles.TILE_WIDTH * 64):
            hashes = _stored_level(
                shard,
                tiles.TILE_HEIGHT * level,
                first,
                min(complete, first + tiles.TILE_WIDTH * 64),
            )
            for offset in range(0, len(hashes), tiles.TILE_WIDTH):
                tile = hashes[offset : offset + tiles.TILE_WIDTH]
                index = (first + offset) // tiles.TILE_WIDTH
                write(tiles.tile_path(level, index, len(tile)), b"".join(tile))
        level += 1
    write("checkpoint", witnessed_note(latest).encode("utf-8"))
    write("key", (verifier_key(shard) + "\n").encode("utf-8"))
    return Exported(size, written[0], written[1])


def _stored_level(shard: LogShard, level: int, start: int, end: int) -> list[bytes]:
    """The stored hashes of subtrees (level, start) … (level, end - 1), in order."""
    table = LogSubtree._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "index", hash FROM "{table}" WHERE shard = %s AND level = %s '
            f'AND "index" >= %s AND "index" < %s ORDER BY "index"',
            [shard.id, level, start, end],
        )
        found = cursor.fetchall()
    if [index for index, _ in found] != list(range(start, end)):
        raise LogError.single(
            f"subtrees at level {level}", "hash", f"missing between {start} and {end}"
        )
    return [bytes(hash_) for _, hash_ in found]


# --- proofs from the stored subtrees -------------------------------------------------------


def stored_subtrees(
    plan: Callable[[merkle.SubtreeHash], object], shard: LogShard
) -> merkle.SubtreeHash:
    """A `subtree_hash` for `plan` (a proof or root computation over `shard`'s tree) that
    reads every subtree it needs in one query: `plan` runs once to learn which, then the
    caller runs it for real."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return bytes(merkle.HASH_SIZE)

    plan(record)
    found = dict(_subtree_rows(shard, wanted))

    def stored(level: int, index: int) -> bytes:
        try:
            return found[(level, index)]
        except KeyError:
            raise LogError.single(
                f"subtree {level}/{index}", "hash", "is not stored: integrate the log first"
            ) from None

    return stored


def _subtree_rows(
    shard: LogShard, wanted: set[tuple[int, int]]
) -> Iterator[tuple[tuple[int, int], bytes]]:
    if not wanted:
        return
    table = LogSubtree._meta.db_table
    pairs = sorted(wanted)
    if connection.vendor == "postgresql":
        # One statement whatever the number of subtrees: prepared once, it is never planned
        # again (planning an OR of 36 key lookups took longer than running it).
        sql = (
            f'SELECT s.level, s."index", s.hash FROM unnest(%s::int[], %s::bigint[]) AS w(l, i) '
            f'JOIN "{table}" s ON s.shard = %s AND s.level = w.l AND s."index" = w.i'
        )
        params: list[Any] = [
            [level for level, _ in pairs],
            [index for _, index in pairs],
            shard.id,
        ]
    else:
        keys = ", ".join(["(%s, %s)"] * len(pairs))
        sql = (
            f'SELECT level, "index", hash FROM "{table}" '
            f'WHERE shard = %s AND (level, "index") IN ({keys})'
        )
        params = [shard.id, *(value for pair in pairs for value in pair)]
    with rows.cursor() as cursor:
        cursor.execute(sql, params)
        for level, index, hash_ in cursor.fetchall():
            yield (level, index), bytes(hash_)


def inclusion_proof(index: int, size: int, shard: LogShard | None = None) -> list[bytes]:
    """The proof that entry `index` is in `shard`'s tree of `size` entries (one query)."""
    shard = shard or current_shard()
    subtree = stored_subtrees(lambda h: merkle.inclusion_proof(index, size, h), shard)
    return merkle.inclusion_proof(index, size, subtree)


def consistency_proof(old_size: int, new_size: int, shard: LogShard | None = None) -> list[bytes]:
    """The proof that `shard`'s tree of `old_size` entries is a prefix of the one of
    `new_size`."""
    shard = shard or current_shard()
    subtree = stored_subtrees(lambda h: merkle.consistency_proof(old_size, new_size, h), shard)
    return merkle.consistency_proof(old_size, new_size, subtree)


def entry_proof(seq: int) -> Proof:
    """A tlog-proof of journal entry `seq` against its shard's latest checkpoint (the log is
    integrated first, so a new entry is covered)."""
    integrate()
    shard = shard_of(seq)
    latest = latest_checkpoint(shard)
    body = JournalEntry.objects.filter(seq=seq).values_list("body", flat=True).first()
    if latest is None or body is None or seq - shard.start >= latest.size:
        raise LogError.single(f"journal entry {seq}", "seq", "is not in the log")
    return _proof(shard, latest, seq, body)


def _proof(shard: LogShard, checkpoint: Checkpoint, seq: int, body: str) -> Proof:
    index = seq - shard.start
    return Proof(
        index,
        body.encode("utf-8"),
        tuple(inclusion_proof(index, checkpoint.size, shard)),
        checkpoint.note,
    )


def subject_proofs(subject_type: str, subject_id: str) -> list[Proof]:
    """A tlog-proof of every entry about one subject, oldest first, each against its shard's
    latest checkpoint (a sealed shard's final one; the log is integrated first, so the newest
    entries are covered)."""
    integrate()
    entries = JournalEntry.objects.filter(subject_type=subject_type, subject_id=subject_id)
    return entry_proofs(entries.order_by("seq").values_list("seq", "body"))


def entry_proofs(entries: Iterable[tuple[int, str]]) -> list[Proof]:
    """Proofs of `entries` (seq, body), each against its shard's latest checkpoint; entries
    beyond that checkpoint are left out."""
    shards = list(LogShard.objects.order_by("-start"))
    latest: dict[int, Checkpoint | None] = {}
    proofs = []
    for seq, body in entries:
        shard = next(s for s in shards if s.start <= seq)
        if shard.id not in latest:
            latest[shard.id] = latest_checkpoint(shard)
        checkpoint = latest[shard.id]
        if checkpoint is not None and seq - shard.start < checkpoint.size:
            proofs.append(_proof(shard, checkpoint, seq, body))
    return proofs
