"""The transparency log over the journal (RFC 9162 Merkle tree, C2SP signed checkpoints).

Entries are sequenced in the transaction of the change they record (journal.services).
Integration comes after commit (decision 0002): `integrate` reads the entries beyond the tree's
size in order, hashes them, stores every subtree they complete, moves the tree head on and
signs a checkpoint of the new size. The hashing, proofs and formats are `muster_verify`'s, the
same code an auditor runs.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from muster.core import rows
from muster.core.bulk import insert_rows
from muster.core.errors import DomainError
from muster.journal.models import Checkpoint, Cosignature, JournalEntry, Subtree, TreeHead
from muster.journal.selectors import journal_size
from muster_verify import merkle, tiles
from muster_verify.checkpoint import Checkpoint as CheckpointBody
from muster_verify.checkpoint import sign_checkpoint
from muster_verify.cosignature import (
    CosignatureVerifier,
    add_cosignatures,
    parse_cosignature_verifier_key,
    verify_cosignatures,
)
from muster_verify.note import Signer, generate_key, parse_signer_key
from muster_verify.proof import Proof
from muster_verify.witness import format_add_checkpoint_request

BATCH = 20_000


class LogError(DomainError):
    """The log cannot do what was asked (no key, a journal that is not a gapless sequence)."""


# --- the signing key ---------------------------------------------------------------------


def signer() -> Signer:
    """The checkpoint signing key from MUSTER_LOG_KEY_FILE, made there (mode 0600, with the
    public key beside it in `.pub`) on first use. Its name is the log's origin."""
    path: Path = settings.LOG_KEY_FILE
    if not path.exists():
        _make_key(path, settings.LOG_ORIGIN)
    key = parse_signer_key(path.read_text().strip())
    if key.verifier.name != settings.LOG_ORIGIN:
        raise LogError.single(
            f"key {path}",
            "name",
            f"is for origin {key.verifier.name!r}, but MUSTER_LOG_ORIGIN is {settings.LOG_ORIGIN!r}",
        )
    return key


def verifier_key() -> str:
    """The public key auditors verify checkpoints with (`name+keyid+key`)."""
    return signer().verifier.encode()


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
    """Bring the tree up to the journal's committed entries and sign a checkpoint of it (none
    when nothing was added and one exists). Each batch is one transaction under the tree
    head's lock; the checkpoint is signed after the last."""
    key = signer()
    old_size = _head().size
    while True:
        with transaction.atomic():
            head = _head(lock=True)
            entries = _entries_from(head.size, batch)
            if not entries:
                break
            _append(head, entries)
        if progress is not None:
            progress(head.size, journal_size())
    with transaction.atomic():  # under the head's lock: two integrators sign once
        head = _head(lock=True)
        latest = latest_checkpoint()
        if latest is not None and latest.size == head.size:
            return Integrated(old_size, head.size, bytes(head.root), None)
        return Integrated(old_size, head.size, bytes(head.root), _sign(head, key))


def _head(*, lock: bool = False) -> TreeHead:
    heads = TreeHead.objects.select_for_update() if lock else TreeHead.objects
    head = heads.filter(pk=1).first()
    if head is None:
        TreeHead.objects.bulk_create(
            [TreeHead(pk=1, size=0, root=merkle.EMPTY_ROOT, frontier=b"")], ignore_conflicts=True
        )
        head = heads.get(pk=1)
    return head


def _entries_from(start: int, limit: int) -> list[tuple[int, str]]:
    table = JournalEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT seq, body FROM "{table}" WHERE seq >= %s ORDER BY seq LIMIT %s',
            [start, limit],
        )
        return cursor.fetchall()


def _append(head: TreeHead, entries: list[tuple[int, str]]) -> None:
    """Fold `entries` (the next ones, in order) into the tree and store what they complete."""
    frontier = _frontier(head)
    completed: list[tuple[int, int, bytes]] = []
    for seq, body in entries:
        if seq != frontier.size:
            raise LogError.single(
                f"journal entry {frontier.size}",
                "seq",
                f"is missing: the journal jumps from {frontier.size - 1} to {seq}",
            )
        frontier, done = frontier.append(merkle.leaf_hash(body.encode("utf-8")))
        completed.extend((s.level, s.index, s.hash) for s in done)
    insert_rows(Subtree, ("level", "index", "hash"), completed)
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


def _sign(head: TreeHead, key: Signer) -> Checkpoint:
    body = CheckpointBody(origin=settings.LOG_ORIGIN, size=head.size, root_hash=bytes(head.root))
    return Checkpoint.objects.create(
        origin=body.origin,
        size=body.size,
        root=body.root_hash,
        note=sign_checkpoint(body, key),
        signed_at=timezone.now(),
    )


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.filter(origin=settings.LOG_ORIGIN).order_by("-size").first()


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
    checkpoint = Checkpoint.objects.filter(origin=settings.LOG_ORIGIN, size=size).first()
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
        Checkpoint.objects.filter(origin=settings.LOG_ORIGIN, cosignatures__isnull=False)
        .order_by("-size")
        .first()
    )


# --- export --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    size: int
    files: int
    bytes: int


def export(directory: Path, progress: Callable[[int, int], None] | None = None) -> Exported:
    """Write the log up to its latest checkpoint as a C2SP tlog-tiles directory: the entries
    from the journal, the hash tiles from the stored subtrees (so an entry changed since it was
    integrated shows as a tile that disagrees with it), `checkpoint` with its cosignatures and
    `key`, the public key. An auditor checks it with `muster-verify DIR --key KEY`, using a key
    they got separately, not the one in the directory."""
    integrate()
    latest = latest_checkpoint()
    if latest is None:
        raise LogError.single("log", "checkpoint", "none yet: the journal is empty")
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
            seq__gte=first, seq__lt=min(size, first + tiles.TILE_WIDTH * 64)
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
                tiles.TILE_HEIGHT * level, first, min(complete, first + tiles.TILE_WIDTH * 64)
            )
            for offset in range(0, len(hashes), tiles.TILE_WIDTH):
                tile = hashes[offset : offset + tiles.TILE_WIDTH]
                index = (first + offset) // tiles.TILE_WIDTH
                write(tiles.tile_path(level, index, len(tile)), b"".join(tile))
        level += 1
    write("checkpoint", witnessed_note(latest).encode("utf-8"))
    write("key", (verifier_key() + "\n").encode("utf-8"))
    return Exported(size, written[0], written[1])


def _stored_level(level: int, start: int, end: int) -> list[bytes]:
    """The stored hashes of subtrees (level, start) … (level, end - 1), in order."""
    table = Subtree._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "index", hash FROM "{table}" WHERE level = %s AND "index" >= %s '
            f'AND "index" < %s ORDER BY "index"',
            [level, start, end],
        )
        found = cursor.fetchall()
    if [index for index, _ in found] != list(range(start, end)):
        raise LogError.single(
            f"subtrees at level {level}", "hash", f"missing between {start} and {end}"
        )
    return [bytes(hash_) for _, hash_ in found]


# --- proofs from the stored subtrees -------------------------------------------------------


def stored_subtrees(plan: Callable[[merkle.SubtreeHash], object]) -> merkle.SubtreeHash:
    """A `subtree_hash` for `plan` (a proof or root computation) that reads every subtree it
    needs in one query: `plan` runs once to learn which, then the caller runs it for real."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return bytes(merkle.HASH_SIZE)

    plan(record)
    found = dict(_subtree_rows(wanted))

    def stored(level: int, index: int) -> bytes:
        try:
            return found[(level, index)]
        except KeyError:
            raise LogError.single(
                f"subtree {level}/{index}", "hash", "is not stored: integrate the log first"
            ) from None

    return stored


def _subtree_rows(wanted: set[tuple[int, int]]) -> Iterator[tuple[tuple[int, int], bytes]]:
    if not wanted:
        return
    table = Subtree._meta.db_table
    pairs = sorted(wanted)
    if connection.vendor == "postgresql":
        # One statement whatever the number of subtrees: prepared once, it is never planned
        # again (planning an OR of 36 key lookups took longer than running it).
        sql = (
            f'SELECT s.level, s."index", s.hash FROM unnest(%s::int[], %s::bigint[]) AS w(l, i) '
            f'JOIN "{table}" s ON s.level = w.l AND s."index" = w.i'
        )
        params: list[Any] = [[level for level, _ in pairs], [index for _, index in pairs]]
    else:
        keys = ", ".join(["(%s, %s)"] * len(pairs))
        sql = f'SELECT level, "index", hash FROM "{table}" WHERE (level, "index") IN ({keys})'
        params = [value for pair in pairs for value in pair]
    with rows.cursor() as cursor:
        cursor.execute(sql, params)
        for level, index, hash_ in cursor.fetchall():
            yield (level, index), bytes(hash_)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """The proof that entry `index` is in the tree of `size` entries (one query)."""
    subtree = stored_subtrees(lambda h: merkle.inclusion_proof(index, size, h))
    return merkle.inclusion_proof(index, size, subtree)


def subject_proofs(subject_type: str, subject_id: str) -> list[Proof]:
    """A tlog-proof of every entry about one subject, oldest first, all against the latest
    checkpoint (the log is integrated first, so the newest entries are covered)."""
    integrate()
    latest = latest_checkpoint()
    if latest is None:  # an empty journal
        return []
    entries = list(
        JournalEntry.objects.filter(
            subject_type=subject_type, subject_id=subject_id, seq__lt=latest.size
        )
        .order_by("seq")
        .values_list("seq", "body")
    )
    return [
        Proof(seq, body.encode("utf-8"), tuple(inclusion_proof(seq, latest.size)), latest.note)
        for seq, body in entries
    ]


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of `old_size` entries is a prefix of the one of `new_size`."""
    subtree = stored_subtrees(lambda h: merkle.consistency_proof(old_size, new_size, h))
    return merkle.consistency_proof(old_size, new_size, subtree)
