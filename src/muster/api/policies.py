"""Policy versions (R6): reading them and their files, comparing two, checking a file and
loading it as a new version (HQ staff), through muster.policy's selectors and services as
`muster policy …` does."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import require
from muster.api.common import actor, scope
from muster.api.files import UPLOAD, attachment, download, limited
from muster.api.schemas import responses
from muster.core.errors import NotFound, PolicyError
from muster.imports.uploads import safe_name
from muster.policy.diff import diff_documents
from muster.policy.models import PolicyVersion
from muster.policy.schema import parse_policy
from muster.policy.selectors import version_by_ref, version_in_force, versions
from muster.policy.services import load_policy

router = Router(tags=["policy"])

YAML = "application/yaml; charset=utf-8"
AT = Query(None, description="in force on this date (default: today)")


class PolicyVersionOut(Schema):
    jurisdiction: str
    version: str
    ref: str
    effective_from: dt.date
    title: str
    sha256: str
    loaded_by: str
    loaded_at: dt.datetime
    state: Literal["in force", "future", "superseded"]


class PolicyDetailOut(PolicyVersionOut):
    document: dict[str, Any]
    source: str = Field(description="the file exactly as it was loaded (YAML)")


class PolicyLoadedOut(PolicyVersionOut):
    created: bool = Field(description="false: this exact text was already loaded")


class PolicyCheckOut(Schema):
    ref: str
    jurisdiction: str
    version: str
    status: str
    effective_from: dt.date
    title: str


class DiffLineOut(Schema):
    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any
    new: Any
    text: str


class PolicyDiffOut(Schema):
    a: str
    b: str
    lines: list[DiffLineOut]


def _state(version: PolicyVersion, today: dt.date, in_force: dict[str, int | None]) -> str:
    if version.effective_from > today:
        return "future"
    if version.jurisdiction not in in_force:
        in_force[version.jurisdiction] = version_in_force(version.jurisdiction, today).pk
    return "in force" if in_force[version.jurisdiction] == version.pk else "superseded"


POLICY_FIELDS = (
    "jurisdiction", "version", "ref", "effective_from", "title", "sha256", "loaded_by", "loaded_at"
)  # fmt: skip


def _policy_out(version: PolicyVersion, state: str | None = None, **extra: Any) -> dict[str, Any]:
    state = state or _state(version, timezone.localdate(), {})
    return {**{name: getattr(version, name) for name in POLICY_FIELDS}, "state": state, **extra}


def _policy_text(upload: UploadedFile) -> tuple[str, str]:
    name = safe_name(upload.name or "policy.yaml")
    limited(upload, f"policy {name}")
    try:
        return upload.read().decode("utf-8"), name
    except UnicodeDecodeError as error:
        raise PolicyError.single(
            name, "file", f"is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None


def _version(jurisdiction: str, version: str) -> PolicyVersion:
    found = versions(jurisdiction).filter(version=version).first()
    if found is None:
        raise NotFound.single(
            f"policy {jurisdiction}@{version}", "version", "no such policy version is loaded"
        )
    return found


@router.get(
    "/policies",
    summary="Policy versions",
    response=responses(200, list[PolicyVersionOut]),
    tags=["policy"],
)
@paginate(LimitOffsetPagination)
def list_policies(
    request: HttpRequest, jurisdiction: str | None = Query(None, max_length=40)
) -> list[dict[str, Any]]:
    """Every loaded policy version, by jurisdiction and effective date, each in force, future
    or superseded today."""
    today = timezone.localdate()
    in_force: dict[str, int | None] = {}
    found = versions(jurisdiction).order_by("jurisdiction", "effective_from", "loaded_at", "pk")
    return [_policy_out(v, _state(v, today, in_force)) for v in found]


@router.get(
    "/policies/diff",
    response=responses(200, PolicyDiffOut),
    tags=["policy"],
    summary="Compare two policy versions",
)
def diff_policies(
    request: HttpRequest,
    a: str = Query(max_length=90, description="jurisdiction@version"),
    b: str = Query(max_length=90, description="jurisdiction@version"),
) -> dict[str, Any]:
    """What changes from policy `a` to policy `b`, path by path (as `muster policy diff`)."""
    lines = diff_documents(dict(version_by_ref(a).document), dict(version_by_ref(b).document))
    return {
        "a": a,
        "b": b,
        "lines": [
            {"path": x.path, "kind": x.kind, "old": x.old, "new": x.new, "text": str(x)}
            for x in lines
        ],
    }


@router.get(
    "/policies/{jurisdiction}/in-force",
    response=responses(200, PolicyDetailOut),
    tags=["policy"],
    summary="The policy in force",
)
def policy_in_force(
    request: HttpRequest,
    jurisdiction: str,
    at: dt.date | None = AT,
) -> dict[str, Any]:
    """The version in force in a jurisdiction on a day: its document and its source."""
    try:
        version = version_in_force(jurisdiction, at or timezone.localdate())
    except PolicyError as error:
        raise NotFound(error.problems) from None
    return _policy_out(version, document=version.document, source=version.source)


@router.get(
    "/policies/{jurisdiction}/versions/{version}",
    summary="One policy version",
    response=responses(200, PolicyDetailOut),
    tags=["policy"],
)
def policy_detail(request: HttpRequest, jurisdiction: str, version: str) -> dict[str, Any]:
    """One loaded version: its document as JSON and its source as loaded."""
    found = _version(jurisdiction, version)
    return _policy_out(found, document=found.document, source=found.source)


@router.get(
    "/policies/{jurisdiction}/versions/{version}/source",
    summary="A policy version's file (YAML)",
    tags=["policy"],
    **download(YAML, "the policy file exactly as it was loaded"),
)
def policy_source(request: HttpRequest, jurisdiction: str, version: str) -> HttpResponse:
    """The policy file exactly as it was loaded, to keep or compare."""
    found = _version(jurisdiction, version)
    return attachment(found.source, YAML, f"{found.jurisdiction}-{found.version}.yaml")


@router.post(
    "/policies",
    summary="Load a policy version",
    response={**responses(201, PolicyLoadedOut), 200: PolicyLoadedOut},
    tags=["policy"],
)
def add_policy(request: HttpRequest, file: UploadedFile = UPLOAD) -> Status[dict[str, Any]]:
    """Load a policy file (YAML) as a new version: 201; the same text again changes nothing
    (200). A loaded version never changes, and a draft is never loaded."""
    require(scope(request), "policy.change", "policy")
    text, name = _policy_text(file)
    version, created = load_policy(actor=actor(request), text=text, source=name)
    return Status(201 if created else 200, _policy_out(version, created=created))


@router.post(
    "/policies/check",
    summary="Validate a policy file",
    response=responses(200, PolicyCheckOut),
    tags=["policy"],
)
def check_policy(request: HttpRequest, file: UploadedFile = UPLOAD) -> dict[str, Any]:
    """Validate a policy file without loading it: every problem, or what it is."""
    text, name = _policy_text(file)
    document = parse_policy(text, source=name)
    return {
        "ref": document.ref,
        "jurisdiction": document.jurisdiction,
        "version": document.version,
        "status": document.status,
        "effective_from": document.effective_from,
        "title": document.title,
    }
