"""The auditor's page: the log's latest checkpoints per origin with their cosignatures, the
latest witnessed one, the public keys, and how to verify them offline."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from muster.access.scope import Scope, require_audit
from muster.core.errors import DomainError
from muster.journal import log
from muster.journal.models import LogShard
from muster.web.errors import scoped


@scoped
def audit(request: HttpRequest, scope: Scope) -> HttpResponse:
    require_audit(scope)
    origins = []
    for shard in LogShard.objects.order_by("id"):
        checkpoint = log.latest_checkpoint(shard)
        try:
            key = log.verifier_key(shard)
        except DomainError as error:
            key = f"— ({error})"
        origins.append(
            {
                "shard": shard,
                "checkpoint": checkpoint,
                "cosignatures": list(checkpoint.cosignatures.order_by("id")) if checkpoint else [],
                "key": key,
            }
        )
    witnessed = log.latest_witnessed()
    return render(
        request,
        "web/audit.html",
        {
            "origins": origins,
            "witnessed": witnessed,
            "witnessed_note": log.witnessed_note(witnessed) if witnessed else "",
        },
    )
