"""Administration and records: units, accounts and role grants, policy versions, imports,
the transparency log, documents and the caller's own API tokens.

Each handler narrows to the caller's scope (muster.access.scope) and calls the same domain
function the command line and the web application call: imports run the web's upload, check
and confirm (muster.web.import_views over muster.core.importing), documents are
muster.*.documents', the log is muster.journal.log."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.reads import record_person_read
from muster.access.scope import (
    Forbidden,
    Scope,
    counts_in,
    items_in,
    people_in,
    reach_of,
    require,
    sites_in,
    units_for,
    units_in,
    visible,
)
from muster.accounts.choices import Role
from muster.accounts.models import ApiToken, RoleGrant, User
from muster.accounts.services import create_user, grant_role
from muster.accounts.tokens import create_token, revoke_token, tokens_of
from muster.api.common import actor, scope, user_of
from muster.api.people import router as people_router
from muster.api.schemas import UnitOut, responses
from muster.armory.documents import (
    count_sheet_pdf,
    holdings_table,
    item_history_pdf,
    items_table,
    labels_pdf,
    variance_report_pdf,
    variances_table,
)
from muster.armory.models import InventoryCount, Item, Shipment, Site, Variance
from muster.armory.receipt_pdf import hand_receipt_pdf
from muster.armory.receipts import hand_receipt
from muster.core.errors import DomainError, ImportRefused, NotFound, PolicyError, Problem
from muster.documents.tables import CONTENT_TYPES, TableDocument, csv_chunks, table_bytes
from muster.journal import log
from muster.journal.models import Checkpoint, Cosignature, JournalEntry, LogShard
from muster.people.choices import UnitKind
from muster.people.documents import readiness_pdf, roster_table
from muster.people.models import Person, Unit
from muster.people.services import create_unit
from muster.policy.diff import diff_documents
from muster.policy.models import PolicyVersion
from muster.policy.schema import parse_policy
from muster.policy.selectors import version_by_ref, version_in_force, versions
from muster.policy.services import load_policy
from muster.web import import_views as imports
from muster.web.navigation import may_audit, sees_items, sees_people
from muster_verify._base64 import encode_base64
from muster_verify.proof import format_proof

router = Router(tags=["administration"])

PDF = "application/pdf"
TEXT = "text/plain; charset=utf-8"
YAML = "application/yaml; charset=utf-8"
# Roles whose grant reaches everything (access.scope.scope_of): only a grantor who sees
# everything may give them.
EVERYWHERE_ROLES = frozenset({Role.HQ_STAFF, Role.AUDITOR})
MAX_SIZE = 2**62
UPLOAD = File(..., description="CSV or XLSX (imports), YAML (policy)")
AT = Query(None, description="in force on this date (default: today)")


def _download(content_type: str, what: str) -> dict[str, Any]:
    """The documented responses of an operation answering a file rather than JSON."""
    schema: dict[str, Any] = {"type": "string"}
    if not content_type.startswith("text/"):
        schema["format"] = "binary"
    return {
        "response": {k: v for k, v in responses(200, str).items() if k != 200},
        "openapi_extra": {
            "responses": {
                "200": {
                    "description": what,
                    "content": {content_type.split(";")[0]: {"schema": schema}},
                }
            }
        },
    }


def _file(data: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _upload(upload: UploadedFile, record: str) -> UploadedFile:
    """Refuse a file above IMPORT_MAX_UPLOAD_BYTES (the web's limit; larger ones: the CLI)."""
    limit = int(settings.IMPORT_MAX_UPLOAD_BYTES)
    size = upload.size or 0
    if size > limit:
        raise ImportRefused.single(
            record,
            "file",
            f"is {size:,} bytes; the largest accepted here is {limit:,} (larger: the command line)",
            size,
        )
    return upload


def _unit(the_scope: Scope, code: str, field: str = "unit", *, to: str | None = None) -> Unit:
    """The unit with this code the caller sees, or (`to` an action) where their roles giving
    that action reach; else NotFound."""
    units = units_in(the_scope) if to is None else units_for(the_scope, to)
    found = units.filter(code=code).first()
    if found is None:
        raise NotFound.single(f"unit {code}", field, "no unit has this code")
    return found


def _site(the_scope: Scope, code: str) -> Site:
    found = sites_in(the_scope).select_related("unit").filter(code=code).first()
    if found is None:
        raise NotFound.single(f"site {code}", "site", "no storage site has this code")
    return found


def _sees(seen: bool, what: str) -> None:
    if not seen:
        raise NotFound.single(what, "scope", "nothing of this kind is in your scope")


# Units ----------------------------------------------------------------------------------------


class UnitIn(Schema):
    code: str = Field(min_length=1, max_length=40, examples=["R1-B4"])
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(max_length=16, description=", ".join(UnitKind.values))
    parent: str | None = Field(None, max_length=40, description="parent unit code (not a region)")
    jurisdiction: str = Field("", max_length=40, description="policy jurisdiction (regions)")


class UnitDetailOut(UnitOut):
    parent: str | None
    members: int

    @staticmethod
    def resolve_parent(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_members(obj: Any) -> int:
        return int(obj.people.count())


# POST /units shares its path with GET /units (muster.api.people): ninja serves a path from one
# router's view, so this operation is added to that router.
@people_router.post(
    "/units",
    response=responses(201, UnitDetailOut),
    summary="Create a unit",
    tags=["administration"],
)
def add_unit(request: HttpRequest, payload: UnitIn) -> Status[Unit]:
    """Add a unit under a parent the caller sees; a region (no parent) only by those who see
    everything."""
    the_scope = scope(request)
    require(the_scope, "units.change", f"unit {payload.code}")
    parent = (
        _unit(the_scope, payload.parent, "parent", to="units.change") if payload.parent else None
    )
    if parent is None and reach_of(the_scope, "units.change") is not None:
        raise Forbidden.single(
            f"unit {payload.code}", "parent", "name a parent unit of yours: HQ creates regions"
        )
    unit = create_unit(
        actor=actor(request),
        code=payload.code,
        name=payload.name,
        kind=payload.kind,
        parent=parent,
        jurisdiction=payload.jurisdiction,
    )
    return Status(201, Unit.objects.select_related("parent").get(pk=unit.pk))


@router.get("/units/{code}", response=responses(200, UnitDetailOut), summary="One unit")
def unit_detail(request: HttpRequest, code: str) -> Unit:
    """One unit the caller sees, by its code, with its parent and head count."""
    return _unit(scope(request), code)


# Accounts -------------------------------------------------------------------------------------


class UserIn(Schema):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(min_length=1, max_length=200, description="checked by the validators")
    email: str = Field("", max_length=254, pattern=r"^[^\s@]+@[^\s@]+$|^$")


class GrantIn(Schema):
    role: str = Field(max_length=32, description=", ".join(Role.values))
    unit: str | None = Field(None, max_length=40, description="unit code; none: everything")


class GrantOut(Schema):
    role: str
    unit: str | None
    granted_at: dt.datetime

    @staticmethod
    def resolve_unit(obj: Any) -> str | None:
        return obj.unit.code if obj.unit_id else None


class UserOut(Schema):
    id: int
    username: str
    email: str
    is_active: bool
    person_id: int | None
    grants: list[GrantOut] = Field(description="the grants the caller sees")

    @staticmethod
    def resolve_grants(obj: Any, context: dict[str, Any]) -> list[Any]:
        return list(_grants_seen(scope(context["request"])).filter(user=obj))


def _grants_seen(the_scope: Scope) -> QuerySet[RoleGrant]:
    """Every grant for those who see everything, else those on a unit of the scope."""
    grants = RoleGrant.objects.select_related("unit").order_by("role", "unit__path")
    if the_scope.everything:
        return grants
    return grants.filter(unit__in=units_in(the_scope).values("pk"))


@router.get("/users", response=responses(200, list[UserOut]), summary="Accounts and roles")
@paginate(LimitOffsetPagination)
def list_users(request: HttpRequest) -> QuerySet[User]:
    """Accounts and their role grants: every one for HQ staff and auditors; for a regional
    administrator, those holding a role in their region."""
    the_scope = scope(request)
    users = User.objects.order_by("username")
    if the_scope.everything:
        return users
    require(the_scope, "users.change", "users")
    region = RoleGrant.objects.filter(unit__in=units_for(the_scope, "users.change").values("pk"))
    return users.filter(pk__in=region.values("user_id"))


@router.post("/users", response=responses(201, UserOut), summary="Create an account")
def add_user(request: HttpRequest, payload: UserIn) -> Status[User]:
    """A new account with no role yet; the password must pass the password validators."""
    the_scope = scope(request)
    require(the_scope, "users.change", f"user {payload.username}")
    user = create_user(
        actor=actor(request),
        username=payload.username,
        password=payload.password,
        email=payload.email,
    )
    return Status(201, user)


@router.post("/users/{username}/roles", response=responses(200, UserOut), summary="Grant a role")
def add_grant(request: HttpRequest, username: str, payload: GrantIn) -> User:
    """Let a user act in a role over a unit subtree (no unit: everything, for HQ staff only).
    A regional administrator grants within their region, and never a role that sees
    everything; granting a role already held changes nothing."""
    the_scope = scope(request)
    record = f"user {username}"
    require(the_scope, "users.change", record)
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound.single(record, "username", "no such user", username)
    unit = _unit(the_scope, payload.unit, to="users.change") if payload.unit else None
    if reach_of(the_scope, "users.change") is not None:
        _require_grantable(the_scope, record, payload.role, unit)
    grant_role(actor=actor(request), username=username, role=payload.role, unit=unit)
    return user


def _require_grantable(the_scope: Scope, record: str, role: str, unit: Unit | None) -> None:
    """A grantor whose grants reach only some units gives only what stays inside them: a unit
    of theirs, not a role that sees everything, and a vetting officer (who sees the whole
    region of the unit) only where that region is theirs."""
    if unit is None:
        raise Forbidden.single(record, "unit", "name a unit of yours: only HQ grants everything")
    if role in EVERYWHERE_ROLES:
        raise Forbidden.single(record, "role", f"{role} sees everything: only HQ grants it")
    if role == Role.VETTING_OFFICER:
        region_path = "/" + unit.path.strip("/").split("/")[0] + "/"
        if not units_for(the_scope, "users.change").filter(path=region_path).exists():
            raise Forbidden.single(
                record, "role", "a vetting officer sees the whole region: not yours to grant"
            )


# Policy ---------------------------------------------------------------------------------------


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
    name = imports.safe_name(upload.name or "policy.yaml")
    _upload(upload, f"policy {name}")
    try:
        return upload.read().decode("utf-8"), name
    except UnicodeDecodeError as error:
        raise PolicyError.single(
            name, "file", f"is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None


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


def _version(jurisdiction: str, version: str) -> PolicyVersion:
    found = versions(jurisdiction).filter(version=version).first()
    if found is None:
        raise NotFound.single(
            f"policy {jurisdiction}@{version}", "version", "no such policy version is loaded"
        )
    return found


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
    **_download(YAML, "the policy file exactly as it was loaded"),
)
def policy_source(request: HttpRequest, jurisdiction: str, version: str) -> HttpResponse:
    """The policy file exactly as it was loaded, to keep or compare."""
    found = _version(jurisdiction, version)
    return _file(found.source, YAML, f"{found.jurisdiction}-{found.version}.yaml")


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


# Imports --------------------------------------------------------------------------------------

ImportKind = Literal["people", "qualifications", "items"]


class ImportProblemOut(Schema):
    row: int | None = Field(description="the file's line (sheet row); none: the whole file")
    record: str
    field: str
    rule: str
    value: str


class ImportCheckOut(Schema):
    kind: str
    file: str
    token: str | None = Field(description="confirm with it; none when the file has problems")
    ok: bool
    to_create: int
    to_update: int
    unchanged: int
    warnings: list[str]
    bad_rows: int
    problems: list[ImportProblemOut]


class ImportConfirmIn(Schema):
    token: str = Field(min_length=1, max_length=64)


class ImportDoneOut(Schema):
    kind: str
    file: str
    created: int
    updated: int
    unchanged: int
    warnings: list[str]


def _check(
    request: HttpRequest, name: str, upload: UploadedFile, site_code: str = "", reference: str = ""
) -> dict[str, Any]:
    """Keep the upload and dry-run it, as the web's check: nothing is written."""
    the_scope = scope(request)
    kind = imports.KINDS[name]
    require(the_scope, kind.action, f"import {kind.name}")
    site = _site(the_scope, site_code) if site_code else None
    _upload(upload, f"import {kind.name}")
    meta = {
        "kind": kind.name,
        "name": imports.safe_name(upload.name or "upload.csv"),
        "site": site.pk if site else None,
        "reference": reference.strip(),
    }
    owner = user_of(request).pk
    kept = imports.keep_upload(owner, upload, meta)
    path, _meta = imports.kept_upload(owner, kept)
    report, problems = imports.run(kind, the_scope, path, meta, None)
    if problems:
        imports.forget_upload(owner, kept)  # a refused file is never imported
    rows = imports.problem_rows(problems)
    return {
        "kind": kind.name,
        "file": meta["name"],
        "token": None if problems else kept,
        "ok": not problems,
        "to_create": report.created if report else 0,
        "to_update": report.updated if report else 0,
        "unchanged": report.unchanged if report else 0,
        "warnings": list(report.warnings) if report else [],
        "bad_rows": len({r.row for r in rows}),
        "problems": [
            {
                "row": int(r.row) if r.row.isdigit() else None,
                "record": p.record,
                "field": r.field,
                "rule": r.rule,
                "value": r.value,
            }
            for p, r in zip(problems, rows, strict=True)
        ],
    }


@router.post(
    "/imports/people/check",
    summary="Check a roster import",
    response=responses(200, ImportCheckOut),
    tags=["imports"],
)
def check_people(request: HttpRequest, file: UploadedFile = UPLOAD) -> dict[str, Any]:
    """Check a roster (CSV or XLSX), one row per volunteer: every problem by row, field and
    rule, or what would be registered and updated. Nothing is written; confirm with the token."""
    return _check(request, "people", file)


@router.post(
    "/imports/qualifications/check",
    summary="Check a qualifications import",
    response=responses(200, ImportCheckOut),
    tags=["imports"],
)
def check_qualifications(request: HttpRequest, file: UploadedFile = UPLOAD) -> dict[str, Any]:
    """Check a file of qualifications, one row per qualification held or held before."""
    return _check(request, "qualifications", file)


@router.post(
    "/imports/items/check",
    summary="Check a packing-list import",
    response=responses(200, ImportCheckOut),
    tags=["imports"],
)
def check_items(
    request: HttpRequest,
    file: UploadedFile = UPLOAD,
    site: str = Form(..., min_length=1, max_length=40, description="site code"),
    reference: str = Form(
        ..., min_length=1, max_length=Shipment._meta.get_field("reference").max_length
    ),
) -> dict[str, Any]:
    """Check a packing list of serialized items to receive into one site of the caller's."""
    return _check(request, "items", file, site, reference)


@router.post(
    "/imports/{kind}/confirm",
    summary="Confirm a checked import",
    response=responses(200, ImportDoneOut),
    tags=["imports"],
)
def confirm_import(
    request: HttpRequest, kind: ImportKind, payload: ImportConfirmIn
) -> dict[str, Any]:
    """Import the very file that was checked, in one transaction: all of it, or nothing and
    every problem (400)."""
    the_scope = scope(request)
    found = imports.KINDS[kind]
    require(the_scope, found.action, f"import {kind}")
    owner = user_of(request).pk
    path, meta = imports.kept_upload(owner, payload.token)
    if meta.get("kind") != kind:
        raise NotFound.single("upload", "token", "this upload is for another import")
    report, problems = imports.run(found, the_scope, path, meta, actor(request))
    imports.forget_upload(owner, payload.token)
    if problems or report is None:
        raise ImportRefused(problems)
    return {
        "kind": kind,
        "file": meta["name"],
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "warnings": list(report.warnings),
    }


# The transparency log -------------------------------------------------------------------------


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
    **_download(TEXT, "a signed checkpoint (C2SP)"),
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
    **_download(TEXT, "the log's public key (vkey)"),
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
    **_download(TEXT, "a C2SP tlog-witness add-checkpoint request body"),
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
    **_download(TEXT, "a C2SP tlog-proof of the entry"),
)
def entry_proof(request: HttpRequest, seq: int) -> HttpResponse:
    """The inclusion proof of one journal entry against its log's latest checkpoint."""
    _auditing(request)
    if not JournalEntry.objects.filter(seq=seq).exists():
        raise NotFound.single(f"journal entry {seq}", "seq", "no such entry", seq)
    return _file(format_proof(log.entry_proof(seq)), TEXT, f"entry-{seq}.proof")


# Documents ------------------------------------------------------------------------------------


def _pdf(data: bytes, name: str) -> HttpResponse:
    return _file(data, PDF, f"{name}.pdf")


@router.get(
    "/documents/readiness.pdf",
    summary="Readiness report (PDF)",
    tags=["documents"],
    **_download(PDF, "readiness report"),
)
def readiness_report(
    request: HttpRequest, unit: str | None = Query(None, max_length=40, description="unit code")
) -> HttpResponse:
    """Members, vetted, eligible and armed per battalion and region, over the caller's scope
    (or one unit's subtree in it)."""
    the_scope = scope(request)
    _sees(sees_people(the_scope), "readiness report")
    units, people, items = units_in(the_scope), people_in(the_scope), items_in(the_scope)
    title = "Readiness report" if the_scope.everything else "Readiness report (your scope)"
    if unit:
        top = _unit(the_scope, unit)
        units = units.filter(path__startswith=top.path)
        people = people.filter(unit__path__startswith=top.path)
        items = items.filter(holder__unit__path__startswith=top.path)
        title = f"Readiness report: {top.code} {top.name}"
    data = readiness_pdf(units, people, items, title=title)
    return _pdf(data, f"readiness-{timezone.localdate():%Y-%m-%d}")


@router.get(
    "/documents/items/{item_id}/history.pdf",
    summary="Item custody history (PDF)",
    tags=["documents"],
    **_download(PDF, "the item's custody history"),
)
def item_history(request: HttpRequest, item_id: int) -> HttpResponse:
    """Every custody event of the item and the status of its proof."""
    items = items_in(scope(request)).select_related(
        "model__category", "site", "holder", "home_site", "transit_to"
    )
    item = visible(items, item_id, f"item {item_id}")
    return _pdf(item_history_pdf(item), f"history-{item.model.code}-{item.serial}")


@router.get(
    "/documents/people/{person_id}/hand-receipt.pdf",
    summary="Hand receipt (PDF)",
    tags=["documents"],
    **_download(PDF, "the volunteer's hand receipt"),
)
def receipt(
    request: HttpRequest, person_id: int, why: str = Query("hand receipt", max_length=200)
) -> HttpResponse:
    """What the volunteer holds now, to print and sign, with each item's proof from the log;
    the read is journaled."""
    the_scope = scope(request)
    person = visible(people_in(the_scope), person_id, f"person {person_id}")
    record_person_read(actor=actor(request), scope=the_scope, person=person, why=why)
    pdf = hand_receipt_pdf(hand_receipt(person))
    return _file(pdf.data, PDF, f"hand-receipt-{person.national_id}.pdf")


def _count(request: HttpRequest, count_id: int) -> InventoryCount:
    counts = counts_in(scope(request)).select_related("site__unit", "category", "counter")
    return visible(counts, count_id, f"count {count_id}")


@router.get(
    "/documents/counts/{count_id}/sheet.pdf",
    summary="Count sheet (PDF)",
    tags=["documents"],
    **_download(PDF, "count sheet"),
)
def count_sheet(request: HttpRequest, count_id: int) -> HttpResponse:
    """The count sheet; a blind count's never lists what is expected."""
    count = _count(request, count_id)
    return _pdf(count_sheet_pdf(count), f"count-{count.pk}-sheet")


@router.get(
    "/documents/counts/{count_id}/variances.pdf",
    summary="Variance report (PDF)",
    tags=["documents"],
    **_download(PDF, "variance report"),
)
def count_variances(request: HttpRequest, count_id: int) -> HttpResponse:
    """The variances of a closed count, each with its resolution (409 while it is open)."""
    count = _count(request, count_id)
    if count.status != "closed":
        raise DomainError(
            [Problem(f"count {count.pk}", "status", "is open: no variance report yet")],
            code="conflict",
        )
    return _pdf(variance_report_pdf(count), f"count-{count.pk}-variances")


@router.get(
    "/documents/sites/labels.pdf",
    summary="QR labels of sites (PDF)",
    tags=["documents"],
    **_download(PDF, "QR labels of sites"),
)
def sites_labels(request: HttpRequest) -> HttpResponse:
    """A QR label for each storage site the caller sees."""
    the_scope = scope(request)
    sites = list(sites_in(the_scope).select_related("unit").order_by("code"))
    _sees(bool(sites), "site labels")
    things: list[Item | Site] = list(sites)
    return _pdf(labels_pdf(things), "labels-sites")


@router.get(
    "/documents/sites/{code}/labels.pdf",
    summary="QR labels of a site's items (PDF)",
    tags=["documents"],
    **_download(PDF, "QR labels of a site and its items"),
)
def site_labels(
    request: HttpRequest, code: str, category: str | None = Query(None, max_length=40)
) -> HttpResponse:
    """QR labels for a site (its own first) and every item it is home to, not disposed."""
    the_scope = scope(request)
    site = _site(the_scope, code)
    items = items_in(the_scope).filter(home_site=site).exclude(place="disposed")
    if category:
        items = items.filter(model__category__code=category)
    ordered = items.select_related("model").order_by("model__code", "serial")
    things: list[Item | Site] = [site, *ordered]
    return _pdf(labels_pdf(things), f"labels-{site.code}")


TableName = Literal["roster", "items", "holdings", "variances"]
TableFormat = Literal["csv", "xlsx"]


@router.get(
    "/documents/tables/{table}",
    summary="A table as CSV or XLSX",
    tags=["documents"],
    response={k: v for k, v in responses(200, str).items() if k != 200},
    openapi_extra={
        "responses": {
            "200": {
                "description": "the table as CSV (UTF-8 with a BOM) or XLSX",
                "content": {
                    CONTENT_TYPES[f].split(";")[0]: {
                        "schema": {"type": "string", "format": "binary"}
                    }
                    for f in ("csv", "xlsx")
                },
            }
        }
    },
)
def download_table(
    request: HttpRequest,
    table: TableName,
    format: TableFormat = "csv",
    unit: str | None = Query(None, max_length=40, description="roster: one unit's subtree"),
    status: str | None = Query(None, max_length=16, description="roster: one status"),
    site: str | None = Query(None, max_length=40, description="items, holdings, variances"),
    category: str | None = Query(None, max_length=40, description="items, holdings"),
) -> HttpResponse | StreamingHttpResponse:
    """The roster, items, holdings or count variances the caller sees, every row (CSV is
    streamed as it is read)."""
    the_scope = scope(request)
    document: TableDocument
    if table == "roster":
        _sees(sees_people(the_scope), "roster")
        people: QuerySet[Person] = people_in(the_scope)
        if unit:
            people = people.filter(unit__path__startswith=_unit(the_scope, unit).path)
        if status:
            people = people.filter(status=status)
        document = roster_table(people)
    elif table == "variances":
        _sees(sees_items(the_scope), "variances")
        variances = Variance.objects.filter(count__in=counts_in(the_scope).values("pk"))
        if site:
            variances = variances.filter(count__site=_site(the_scope, site))
        document = variances_table(variances)
    else:
        _sees(sees_items(the_scope), table)
        items = items_in(the_scope)
        if site:
            found = _site(the_scope, site)
            items = items.filter(Q(home_site=found) | Q(site=found))
        if category:
            items = items.filter(model__category__code=category)
        document = (items_table if table == "items" else holdings_table)(items)
    filename = f"{document.name}-{timezone.localdate():%Y-%m-%d}.{format}"
    response: HttpResponse | StreamingHttpResponse
    if format == "csv":
        response = StreamingHttpResponse(
            csv_chunks(document.columns, document.rows), content_type=CONTENT_TYPES["csv"]
        )
    else:
        data, content_type, _extension = table_bytes(document.columns, document.rows, "xlsx")
        response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# The caller's API tokens ----------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100, description="what the token is for")


class TokenCreatedOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never again")


@router.get(
    "/tokens", summary="Your API tokens", response=responses(200, list[TokenOut]), tags=["tokens"]
)
@paginate(LimitOffsetPagination)
def list_tokens(request: HttpRequest) -> QuerySet[ApiToken]:
    """The caller's own tokens, newest first, revoked ones included (never their secrets)."""
    return tokens_of(user_of(request))


@router.post(
    "/tokens",
    summary="Make an API token",
    response=responses(201, TokenCreatedOut),
    tags=["tokens"],
)
def add_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """Make a token for the caller, signed in with their session: the answer holds the token
    this once. A token cannot make another, so revoking a leaked one ends the leak."""
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        raise Forbidden.single(
            f"token {payload.name!r}",
            "Authorization",
            "a token is made from a signed-in session (or `muster token create`), not with "
            "another token",
        )
    token, raw = create_token(actor=actor(request), user=user_of(request), name=payload.name)
    fields = TokenOut.model_validate(token, from_attributes=True).model_dump()
    return Status(201, {**fields, "token": raw})


@router.post(
    "/tokens/{token_id}/revoke",
    summary="Revoke one of your API tokens",
    response=responses(200, TokenOut),
    tags=["tokens"],
)
def revoke_own_token(request: HttpRequest, token_id: int) -> ApiToken:
    """Revoke one of the caller's own tokens: it stops working at once (anyone else's: 404)."""
    return revoke_token(actor=actor(request), token_id=token_id)
