"""Bulk imports (R1): a roster, qualifications or a packing list is checked first (nothing
written; every problem by row, field and rule), then confirmed by its token: the very file
that was checked is imported, in one transaction.

The kinds of import, the kept upload and the run are muster.imports', as the web's imports
pages use them, over the command line's importers (muster.core.importing)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Form, Router, Schema, UploadedFile

from muster.access.scope import require
from muster.api.common import actor, scope, site_by_code, user_of
from muster.api.files import UPLOAD, limited
from muster.api.schemas import responses
from muster.armory.models import Shipment
from muster.core.errors import ImportRefused, NotFound
from muster.imports.runs import KINDS, check_upload, problem_rows, run
from muster.imports.uploads import forget_upload, kept_upload, safe_name

router = Router(tags=["imports"])

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
    kind = KINDS[name]
    require(the_scope, kind.action, f"import {kind.name}")
    site = site_by_code(the_scope, site_code) if site_code else None
    limited(upload, f"import {kind.name}")
    meta = {
        "kind": kind.name,
        "name": safe_name(upload.name or "upload.csv"),
        "site": site.pk if site else None,
        "reference": reference.strip(),
    }
    kept, report, problems = check_upload(kind, the_scope, user_of(request).pk, upload, meta)
    rows = problem_rows(problems)
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
    found = KINDS[kind]
    require(the_scope, found.action, f"import {kind}")
    owner = user_of(request).pk
    path, meta = kept_upload(owner, payload.token)
    if meta.get("kind") != kind:
        raise NotFound.single("upload", "token", "this upload is for another import")
    report, problems = run(found, the_scope, path, meta, actor(request))
    forget_upload(owner, payload.token)
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
