"""A minimal witness (https://c2sp.org/tlog-witness), for an oversight body to run on its own.

For each log it is configured to trust (by the log's verifier key, whose name is the log's
origin), the witness remembers the latest checkpoint it cosigned: its size and root hash. It
cosigns a new checkpoint only if the log shows, with a consistency proof, that the new tree
extends that one. A log that presented two histories, one to this witness and one to others,
could not get both cosigned: that is what a cosignature is worth.

`Witness.add_checkpoint` is the specification's add-checkpoint call, without HTTP. Its refusals,
with the specification's status codes:

- 404, 403: an unknown origin, or no valid signature by the log: VerificationError;
- 400: a malformed request (FormatError), or an old size above the checkpoint's size, which is
  a rollback (VerificationError);
- 409: an old size other than the size of the checkpoint the witness last cosigned:
  WitnessConflict, carrying the witness's size so the log can retry with the right proof;
- 422: a consistency proof that does not verify: VerificationError (a fork).

Two checkpoints of the same size with different roots are refused as a fork, where the
specification says 409: no retry can mend them, and the reference witness (FiloSottile/torchwood,
internal/witness/witness.go) answers 422 there too.

State lives in a directory, one small JSON file per log, replaced atomically (written to a
temporary file, flushed, then renamed over the old one), so a crash leaves either the old record
or the new one. Checking the old size and recording the new checkpoint happen under one lock
(a thread lock, and an advisory file lock where the system has one), so two requests cannot
interleave and roll the record back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from muster_verify._base64 import decode_base64, encode_base64
from muster_verify.checkpoint import Checkpoint, parse_checkpoint
from muster_verify.cosignature import CosignatureSigner, cosign
from muster_verify.errors import FormatError, VerificationError
from muster_verify.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from muster_verify.note import Verifier, open_note

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl; the thread lock still holds
    fcntl = None  # type: ignore[assignment]

# tlog-witness: "The client MUST NOT send more than 63 consistency proof lines."
MAX_PROOF_HASHES = 63
STATE_VERSION = 1


class WitnessConflict(VerificationError):
    """The old size the log gave is not the size of the checkpoint the witness last cosigned
    (tlog-witness's 409 Conflict). `size` is the size the witness holds: the log should retry
    with a consistency proof from it."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message)
        self.size = size


@dataclass(frozen=True)
class CosignedTreeHead:
    """What the witness remembers of a log: the latest checkpoint it cosigned."""

    origin: str
    size: int
    root_hash: bytes
    checkpoint_note: str
    cosigned_at: int


class Witness:
    """A witness keeping its state in `state_dir`, cosigning with `signer` the checkpoints of
    the logs whose verifier keys are `logs` (each key's name is its log's origin; a log may have
    several keys). `clock` gives the cosignature time in POSIX seconds."""

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        signer: CosignatureSigner,
        logs: Iterable[Verifier],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.signer = signer
        self._clock = clock
        self._keys: dict[str, list[Verifier]] = {}
        for verifier in logs:
            self._keys.setdefault(verifier.name, []).append(verifier)
        self._lock = threading.Lock()
        self.state_dir.mkdir(parents=True, exist_ok=True)

    @property
    def origins(self) -> list[str]:
        """The origins of the logs this witness is configured for."""
        return sorted(self._keys)

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        """The size and root hash of the latest checkpoint cosigned for `origin`, or None if the
        witness has never cosigned one."""
        record = self.record(origin)
        return None if record is None else (record.size, record.root_hash)

    def record(self, origin: str) -> CosignedTreeHead | None:
        """The full record of the latest checkpoint cosigned for `origin`, or None."""
        path = self._path(origin)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return _load_record(text, origin, path)

    def add_checkpoint(
        self, checkpoint_note: str, consistency_proof: Sequence[bytes], old_size: int
    ) -> str:
        """Cosign the log's signed checkpoint if it extends the one last cosigned for its log,
        of size `old_size`, as `consistency_proof` shows; records it and returns the
        cosignature line(s) to append to the note. Refuses, without recording anything, a log
        it does not know, a checkpoint without a valid signature by the log, an old size other
        than the one it holds (WitnessConflict), a smaller checkpoint (a rollback) and one
        the proof does not show to extend the last (the log presents two histories)."""
        if old_size < 0:
            raise FormatError(f"the old size must not be negative, not {old_size}")
        if len(consistency_proof) > MAX_PROOF_HASHES:
            raise FormatError(
                f"a consistency proof has at most {MAX_PROOF_HASHES} hashes, "
                f"not {len(consistency_proof)}"
            )
        origin = checkpoint_note.partition("\n")[0]
        keys = self._keys.get(origin)
        if keys is None:
            raise VerificationError(f"the witness does not know log {origin!r}")
        checkpoint = parse_checkpoint(open_note(checkpoint_note, keys).text)
        if old_size > checkpoint.size:
            raise VerificationError(
                f"rollback: the checkpoint of log {origin!r} has size {checkpoint.size}, smaller "
                f"than the old size {old_size}; a log only grows"
            )
        with self._locked(origin):
            held = self.record(origin)
            held_size, held_root = (0, EMPTY_ROOT) if held is None else (held.size, held.root_hash)
            if old_size != held_size:
                raise WitnessConflict(
                    _conflict_message(origin, held_size, old_size, checkpoint), size=held_size
                )
            try:
                verify_consistency(
                    held_size, checkpoint.size, held_root, checkpoint.root_hash, consistency_proof
                )
            except VerificationError as error:
                if held is None:
                    raise  # nothing cosigned yet, so no history to contradict: a bad request
                raise VerificationError(_fork_message(checkpoint, held_size, error)) from None
            timestamp = int(self._clock())
            line = cosign(checkpoint_note, self.signer, timestamp)
            self._store(
                CosignedTreeHead(
                    origin, checkpoint.size, checkpoint.root_hash, checkpoint_note, timestamp
                )
            )
        return line

    def _store(self, record: CosignedTreeHead) -> None:
        """Replace the log's record atomically: a reader, or a restart after a crash, sees the
        old record or the new one, never a part of either."""
        path = self._path(record.origin)
        data = json.dumps(
            {
                "version": STATE_VERSION,
                "origin": record.origin,
                "size": record.size,
                "root_hash": encode_base64(record.root_hash),
                "cosigned_at": record.cosigned_at,
                "checkpoint": record.checkpoint_note,
            },
            indent=2,
            ensure_ascii=False,
        )
        handle, temporary = tempfile.mkstemp(dir=self.state_dir, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(data + "\n")
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_directory(self.state_dir)

    @contextlib.contextmanager
    def _locked(self, origin: str) -> Iterator[None]:
        """Hold the check-then-record sequence for `origin` against other threads and, where
        the system has advisory locks, other processes using the same directory."""
        with self._lock:
            if fcntl is None:  # pragma: no cover
                yield
                return
            lock_path = self._path(origin).with_suffix(".lock")
            with lock_path.open("a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _path(self, origin: str) -> Path:
        """The log's state file: its origin, percent-encoded so any origin is one safe file
        name; a very long one is named by its SHA-256 instead."""
        name = quote(origin, safe="")
        if len(name) > 200:
            name = "sha256-" + hashlib.sha256(origin.encode("utf-8")).hexdigest()
        return self.state_dir / f"{name}.json"


def format_add_checkpoint_request(
    old_size: int, consistency_proof: Sequence[bytes], checkpoint_note: str
) -> str:
    """The body of a tlog-witness add-checkpoint request: `old <size>`, one base64 proof hash
    per line, a blank line, then the signed checkpoint."""
    lines = [f"old {old_size}", *(encode_base64(h) for h in consistency_proof)]
    return "".join(line + "\n" for line in lines) + "\n" + checkpoint_note


def parse_add_checkpoint_request(body: str) -> tuple[int, list[bytes], str]:
    """Read an add-checkpoint request body: (old size, consistency proof, signed checkpoint).
    Raises FormatError on anything but the exact form (tlog-witness's 400 Bad Request)."""
    head, blank, checkpoint_note = body.partition("\n\n")
    if not blank:
        raise FormatError("an add-checkpoint request needs a blank line before the checkpoint")
    first, *hashes = head.split("\n")
    size = first.removeprefix("old ")
    if size == first or not size.isascii() or not size.isdigit() or size != str(int(size)):
        raise FormatError(f"the first line must be `old <size>` in decimal, not {first!r}")
    if len(hashes) > MAX_PROOF_HASHES:
        raise FormatError(f"a consistency proof has at most {MAX_PROOF_HASHES} hashes")
    proof = [decode_base64(h, what=f"consistency proof line {n}") for n, h in enumerate(hashes, 1)]
    for number, value in enumerate(proof, start=1):
        if len(value) != HASH_SIZE:
            raise FormatError(f"consistency proof line {number} is not a {HASH_SIZE}-byte hash")
    return int(size), proof, checkpoint_note


def _conflict_message(origin: str, held_size: int, old_size: int, checkpoint: Checkpoint) -> str:
    message = (
        f"conflict: the witness holds size {held_size} for log {origin!r}, not the old size "
        f"{old_size}; retry with a consistency proof from size {held_size}"
    )
    if checkpoint.size < held_size:
        message += (
            f" (the checkpoint, of size {checkpoint.size}, is smaller: the witness will not "
            "roll back)"
        )
    return message


def _fork_message(checkpoint: Checkpoint, held_size: int, error: VerificationError) -> str:
    return (
        f"checkpoint of size {checkpoint.size} is not consistent with the one of size "
        f"{held_size} the witness cosigned: the log presents two histories ({error})"
    )


def _load_record(text: str, origin: str, path: Path) -> CosignedTreeHead:
    """Read a state file strictly: a record the witness cannot trust must stop it, never be
    taken for an empty log, which would let the log roll back."""
    try:
        data: Any = json.loads(text)
        record = CosignedTreeHead(
            origin=data["origin"],
            size=data["size"],
            root_hash=decode_base64(data["root_hash"], what="the recorded root hash"),
            checkpoint_note=data["checkpoint"],
            cosigned_at=data["cosigned_at"],
        )
        valid = (
            data["version"] == STATE_VERSION
            and record.origin == origin
            and isinstance(record.size, int)
            and record.size >= 0
            and len(record.root_hash) == HASH_SIZE
            and isinstance(record.checkpoint_note, str)
            and isinstance(record.cosigned_at, int)
        )
    except (ValueError, KeyError, TypeError) as error:
        raise VerificationError(f"the witness state file {path} is unreadable: {error}") from None
    if not valid:
        raise VerificationError(
            f"the witness state file {path} does not hold a record of {origin!r}"
        )
    return record


def _sync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable, where the system allows opening a directory."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open a directory
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
