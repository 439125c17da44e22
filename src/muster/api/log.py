"""The transparency log (R11), for auditors and HQ staff: its origins and signed checkpoints,
the public key, witnesses' cosignatures, consistency and inclusion proofs — the answers of
`muster log …`, from muster.journal.log, to verify offline with muster_verify."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from muster.access.scope import Forbidden, may_audit
from muster.api.common import scope
from muster.api.files import attachment, download
from muster.api.schemas import responses
from muster.core.errors import DomainError, NotFound
from muster.journal import log
from muster.journal.models import Checkpoint, Cosignature, JournalEntry, LogShard
from muster_verify._base64 import encode_base64
from muster_verify.proof import format_proof

router = Router(tags=["log"])

TEXT = "text/plain; charset=utf-8"
MAX_SIZE = 2**62


class CosignatureOut(Schema):
    origin: str = Field(alias="checkpoint.origin")
    size: int = Field(alias="checkpoint.size")
    witness: str
    cosigned_at: dt.datetime
    recorded_at: dt.datetime
    line: str


class CheckpointOut(Schema):
    origin: str
    size: int
    root: str = Field(description="base64")
    signed_at: dt.datetime
    note: str = Field(description="the signed note, byte for byte")
    cosignatures: list[CosignatureOut]

    @staticmethod
    def resolve_root(obj: Any) -> str:
        return encode_base64(bytes(obj.root))

    @staticmethod
    def resolve_cosignatures(obj: Any) -> list[Any]:
        return list(obj.cosignatures.select_related("checkpoint").order_by("id"))


class LogOriginOut(Schema):
    origin: str
    start: int = Field(description="the journal seq of its first entry")
    started_at: dt.datetime
    key: str | None = Field(description="the public key verifying its checkpoints")
    checkpoint: CheckpointOut | None


class LogOut(Schema):
    origins: list[LogOriginOut]
    witnessed: CheckpointOut | None


class ConsistencyOut(Schema):
    origin: str
    old_size: int
    new_size: int
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64 hashes")


def _auditing(request: HttpRequest) -> None:
    """The log's reads are for auditors and HQ staff (403 for everyone else)."""
    the_scope = scope(request)
    if not may_audit(the_scope):
        held = ", ".join(sorted(the_scope.roles)) or "no role"
        raise Forbidden.single(
            "log", "role", f"{held} may not read the log (auditors and HQ staff do)"
        )


def _key(shard: LogShard) -> str | None:
    try:
        return log.verifier_key(shard)
    except DomainError:
        return None


@router.get("/log", response=responses(200, LogOut), tags=["log"], summary="The log's origins")
def log_overview(request: HttpRequest) -> dict[str, Any]:
    """Every origin of the log with its latest checkpoint, cosignatures and public key, and
    the latest checkpoint a witness cosigned (the auditor's page)."""
    _auditing(request)
    origins = [
        {
            "origin": shard.origin,
            "start": shard.start,
            "started_at": shard.started_at,
            "key": _key(shard),
            "checkpoint": log.latest_checkpoint(shard),
        }
        for shard in LogShard.objects.order_by("id")
    ]
    return {"origins": origins, "witnessed": log.latest_witnessed()}


@router.get(
    "/log/checkpoint",
    summary="The latest signed checkpoint",
    tags=["log"],
    **download(TEXT, "a signed checkpoint (C2SP)"),
)
def log_checkpoint(
    request: HttpRequest,
    origin: str | None = Query(None, max_length=200, description="an older log's"),
    witnessed: bool = Query(False, description="the latest one a witness cosigned"),
) -> HttpResponse:
    """The latest signed checkpoint with its cosignatures, as `muster log checkpoint`: the
    current log's is signed first over every entry committed so far."""
    _auditing(request)
    latest: Checkpoint | None
    if origin:
        latest = log.latest_checkpoint(log.shard_named(origin))
    elif witnessed:
        latest = log.latest_witnessed()
    else:
        log.integrate()
        latest = log.latest_checkpoint()
    if latest is None:
        raise NotFound.single("log", "checkpoint", "none yet")
    return HttpResponse(log.witnessed_note(latest), content_type=TEXT)


@router.get(
    "/log/key",
    summary="The log's public key",
    tags=["log"],
    **download(TEXT, "the log's public key (vkey)"),
)
def log_key(request: HttpRequest, origin: str | None = Query(None, max_length=200)) -> HttpResponse:
    """The public key that verifies the checkpoints (of the current log, or `origin`)."""
    _auditing(request)
    return HttpResponse(log.verifier_key(log.shard_named(origin)) + "\n", content_type=TEXT)


@router.get(
    "/log/cosignatures",
    summary="Witnesses' cosignatures",
    response=responses(200, list[CosignatureOut]),
    tags=["log"],
)
@paginate(LimitOffsetPagination)
def list_cosignatures(
    request: HttpRequest, origin: str | None = Query(None, max_length=200)
) -> QuerySet[Cosignature]:
    """The witnesses' cosignatures kept, newest checkpoint first."""
    _auditing(request)
    found = Cosignature.objects.select_related("checkpoint")
    if origin:
        found = found.filter(checkpoint__origin=origin)
    return found.order_by("-checkpoint__size", "witness", "pk")


@router.get(
    "/log/consistency",
    summary="Consistency proof between two sizes",
    response=responses(200, ConsistencyOut),
    tags=["log"],
)
def consistency_proof(
    request: HttpRequest,
    old_size: int = Query(..., ge=1, le=MAX_SIZE, description="the size of a kept checkpoint"),
    new_size: int | None = Query(None, ge=1, le=MAX_SIZE, description="default: the latest"),
    origin: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    """The proof that the log at `old_size` is a prefix of the log at `new_size` (RFC 9162):
    nothing in a checkpoint an auditor kept was altered or removed since."""
    _auditing(request)
    shard = log.shard_named(origin)
    latest = log.latest_checkpoint(shard)
    if latest is None:
        raise NotFound.single("log", "checkpoint", "none yet")
    new = new_size or latest.size
    record = "consistency proof"
    if new > latest.size:
        raise log.LogError.single(
            record, "new_size", f"must be at most {latest.size}, the latest checkpoint's", new
        )
    if old_size > new:
        raise log.LogError.single(record, "old_size", f"must be at most {new}", old_size)
    proof = log.consistency_proof(old_size, new, shard)
    return {
        "origin": shard.origin,
        "old_size": old_size,
        "new_size": new,
        "proof": [encode_base64(h) for h in proof],
    }


@router.get(
    "/log/witness-request",
    summary="A witness's add-checkpoint request",
    tags=["log"],
    **download(TEXT, "a C2SP tlog-witness add-checkpoint request body"),
)
def witness_request(
    request: HttpRequest,
    old_size: int = Query(0, ge=0, le=MAX_SIZE, description="the last size the witness cosigned"),
) -> HttpResponse:
    """What to send a witness for the latest checkpoint (`muster log witness-request`): the
    consistency proof from `old_size` and the signed checkpoint."""
    _auditing(request)
    return HttpResponse(log.witness_request(old_size), content_type=TEXT)


@router.get(
    "/log/entries/{seq}/proof",
    summary="Inclusion proof of a journal entry",
    tags=["log"],
    **download(TEXT, "a C2SP tlog-proof of the entry"),
)
def entry_proof(request: HttpRequest, seq: int) -> HttpResponse:
    """The inclusion proof of one journal entry against its log's latest checkpoint."""
    _auditing(request)
    if not JournalEntry.objects.filter(seq=seq).exists():
        raise NotFound.single(f"journal entry {seq}", "seq", "no such entry", seq)
    return attachment(format_proof(log.entry_proof(seq)), TEXT, f"entry-{seq}.proof")
