"""Bulk imports through the browser (R1): the CLI's importers, with a dry run first.

Upload → the same check as `muster import … --dry-run` (every row problem as a table, or what
would be created) → "Confirm import" runs the same import for real, one transaction, journaled
by the services. The rows must lie within the user's scope: the importers are given the units,
people or site the user may change, and refuse every other row by name.

The uploaded file is kept server-side between the check and the confirmation (under
VAR_DIR/uploads/, named by the user's id and a random token, readable by the server only), so
that what is imported is byte for byte the file that was checked: a second upload could be a
different file, and a large roster would be sent twice.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.access.scope import Scope, people_in, require, sites_in, units_in, visible
from muster.armory.importing import ITEM_COLUMNS, ItemsImport
from muster.armory.models import Shipment, Site
from muster.core.actors import Actor
from muster.core.errors import DomainError, NotFound, Problem
from muster.core.importing import Importer, ImportMode, ImportReport, run_import
from muster.core.tabular import Column
from muster.people.importing import PEOPLE_COLUMNS, PeopleImport
from muster.vetting.importing import QUALIFICATION_COLUMNS, QualificationsImport
from muster.web.errors import scoped

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # ~180,000 roster rows; larger files: the CLI
KEPT_SECONDS = 24 * 3600  # an upload neither confirmed nor abandoned is removed after a day
MAX_SHOWN = 1000  # problems shown on the page; all of them are in the CSV download
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
LINE = re.compile(r"^line (\d+)$")
META = ".meta.json"
PROBLEMS = ".problems.csv"
ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Kind:
    """One kind of import: the action it needs, its columns, and its words."""

    name: str
    action: str
    title: Any
    about: Any
    columns: tuple[Column, ...]
    verbs: tuple[Any, Any, Any]  # what the three counts mean, in a dry run
    done: tuple[Any, Any, Any]  # and once written


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "people",
            "people.change",
            gettext_lazy("Volunteers"),
            gettext_lazy(
                "One row per volunteer, identified by national id: a new id registers the "
                "volunteer, a known one updates what the row changes."
            ),
            PEOPLE_COLUMNS,
            (gettext_lazy("to register"), gettext_lazy("to update"), gettext_lazy("unchanged")),
            (gettext_lazy("registered"), gettext_lazy("updated"), gettext_lazy("unchanged")),
        ),
        Kind(
            "qualifications",
            "vetting.change",
            gettext_lazy("Qualifications"),
            gettext_lazy(
                "One row per qualification a volunteer holds or held; a recorded one is left "
                "as it is, or revoked when the row gives revoked_on."
            ),
            QUALIFICATION_COLUMNS,
            (gettext_lazy("to record"), gettext_lazy("to revoke"), gettext_lazy("unchanged")),
            (gettext_lazy("recorded"), gettext_lazy("revoked"), gettext_lazy("unchanged")),
        ),
        Kind(
            "items",
            "custody.change",
            gettext_lazy("Items into a site"),
            gettext_lazy(
                "A packing list of serialized items received into one site against a shipment "
                "reference, all or nothing."
            ),
            ITEM_COLUMNS,
            (gettext_lazy("to receive"), gettext_lazy("to update"), gettext_lazy("unchanged")),
            (gettext_lazy("received"), gettext_lazy("updated"), gettext_lazy("unchanged")),
        ),
    )
}


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


# Forms -----------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > max_bytes():
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; the largest accepted here is %(limit)s. Split it, "
                    "or import it with the command line (muster import)."
                )
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes())}
            )
        return upload


class ItemsImportForm(ImportForm):
    site = forms.ModelChoiceField(
        label=gettext_lazy("Site receiving the shipment"), queryset=Site.objects.none()
    )
    reference = forms.CharField(
        label=gettext_lazy("Shipment reference"),
        max_length=Shipment._meta.get_field("reference").max_length,
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["site"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sites_in(scope).order_by("code")


def form_for(kind: Kind, scope: Scope, data: Any = None, files: Any = None) -> ImportForm:
    prefix = kind.name
    if kind.name == "items":
        return ItemsImportForm(data, files, prefix=prefix, scope=scope)
    return ImportForm(data, files, prefix=prefix)


# Kept uploads ----------------------------------------------------------------------------------


def uploads_dir() -> Path:
    path = Path(settings.VAR_DIR) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def kept_dir(user_id: int, token: str) -> Path:
    """Where one upload is kept: named by its owner, so no one else can reach it."""
    if not TOKEN.match(token):
        raise NotFound.single("upload", "token", _("no such upload"), token)
    return uploads_dir() / f"{user_id}-{token}"


def safe_name(name: str) -> str:
    """The uploaded file's own name (the importers name it in their reports), made harmless;
    its extension stays, as the XLSX reader wants it."""
    cleaned = re.sub(r"[^\w.\- ]", "_", Path(name).name).lstrip(".")[:120]
    return cleaned or "upload.csv"


def keep_upload(user_id: int, upload: Any, meta: dict[str, Any]) -> str:
    """Save the upload and what it is for; returns its token. Old uploads go first."""
    _remove_stale()
    token = secrets.token_urlsafe(24)
    folder = kept_dir(user_id, token)
    folder.mkdir(mode=0o700)
    descriptor = os.open(folder / meta["name"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")
    return token


def kept_upload(user_id: int, token: str) -> tuple[Path, dict[str, Any]]:
    """The file and its description, if this user uploaded it and it is still kept."""
    folder = kept_dir(user_id, token)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound.single(
            "upload", "token", _("this upload is no longer kept; upload the file again")
        ) from None
    return folder / meta["name"], meta


def forget_upload(user_id: int, token: str) -> None:
    """Remove the file itself (a report of its problems may stay until it is stale)."""
    folder = kept_dir(user_id, token)
    (folder / META).unlink(missing_ok=True)
    for path in folder.iterdir():
        if path.name != PROBLEMS:
            path.unlink(missing_ok=True)


def _remove_stale() -> None:
    oldest = time.time() - KEPT_SECONDS
    for path in uploads_dir().iterdir():
        try:
            if path.stat().st_mtime < oldest:
                shutil.rmtree(path)
        except FileNotFoundError:  # removed by a concurrent request
            pass


# Running ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemRow:
    """One problem as a row of the report: the file's row number (or what else it concerns)."""

    row: str
    field: str
    rule: str
    value: str


def problem_rows(problems: list[Problem]) -> list[ProblemRow]:
    rows = []
    for p in problems:
        line = LINE.match(p.record)
        rows.append(ProblemRow(line.group(1) if line else p.record, p.field, p.rule, p.value))
    return rows


def importer_for(kind: Kind, scope: Scope, meta: dict[str, Any]) -> Importer:
    """The CLI's importer for `kind`, confined to what `scope` may change."""
    require(scope, kind.action, f"import {kind.name}")
    source = meta["name"]
    if kind.name == "people":
        allowed = (
            None if scope.everything else frozenset(units_in(scope).values_list("pk", flat=True))
        )
        return PeopleImport(source=source, allowed_units=allowed)
    if kind.name == "qualifications":
        return QualificationsImport(
            source=source, people=None if scope.everything else people_in(scope)
        )
    site: Site = visible(sites_in(scope), meta["site"], "site")
    return ItemsImport(site=site, reference=meta["reference"])


def run(
    kind: Kind, scope: Scope, path: Path, meta: dict[str, Any], actor: Actor | None
) -> tuple[ImportReport | None, list[Problem]]:
    """Check (actor None: a dry run) or import the file; the report, or every problem."""
    importer = importer_for(kind, scope, meta)
    mode = ImportMode(dry_run=actor is None)
    try:
        report, _rejections, _table = run_import(importer, path=path, mode=mode, actor=actor)
    except DomainError as error:  # bad rows, a bad file, or a service's refusal on writing
        return None, error.problems
    # The site's storage and the reference, as `muster items import --dry-run` checks them;
    # receive_items checks them again when importing.
    if (
        mode.dry_run
        and isinstance(importer, ItemsImport)
        and (late := importer.shipment_problems())
    ):
        return None, late
    return report, []


def write_problems(path: Path, rows: list[ProblemRow]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "field", "rule", "value"])
        writer.writerows([r.row, r.field, r.rule, r.value] for r in rows)


def _owner(scope: Scope) -> int:
    """The signed-in user's id (`scoped` lets no one else in), which names their uploads."""
    if scope.user_id is None:
        raise NotFound.single("upload", "user", _("no such upload"))
    return scope.user_id


def _kind(scope: Scope, name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound.single("import", "kind", _("no such import"), name)
    require(scope, kind.action, f"import {kind.name}")
    return kind


def _result(kind: Kind, meta: dict[str, Any], token: str, outcome: Any) -> dict[str, Any]:
    report, problems = outcome
    rows = problem_rows(problems)
    context: dict[str, Any] = {"kind": kind, "meta": meta, "token": token, "report": report}
    if report is not None:
        numbers = (report.created, report.updated, report.unchanged)
        context["counts"] = list(zip(kind.verbs, numbers, strict=True))
        context["done_counts"] = list(zip(kind.done, numbers, strict=True))
    if meta.get("site"):
        context["site"] = Site.objects.filter(pk=meta["site"]).first()
    context["all_problems"] = rows
    context["problems"] = rows[:MAX_SHOWN]
    context["problem_count"] = len(rows)
    context["bad_rows"] = len({r.row for r in rows})
    context["more"] = max(len(rows) - MAX_SHOWN, 0)
    return context


# Views -----------------------------------------------------------------------------------------


@scoped
def index(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The kinds of import the user may run, each with its columns and its form."""
    kinds = [k for k in KINDS.values() if scope.may(k.action)]
    if not kinds:
        require(scope, "people.change", "import")  # the roles give no import at all: 403
    return render(request, "web/imports/index.html", _index_context(scope, kinds))


def _index_context(scope: Scope, kinds: list[Kind], **forms_given: ImportForm) -> dict[str, Any]:
    return {
        "kinds": [(k, forms_given.get(k.name) or form_for(k, scope)) for k in kinds],
        "max_bytes": max_bytes(),
    }


@require_POST
@scoped
def check(request: HttpRequest, scope: Scope, kind_name: str) -> HttpResponse:
    """Keep the upload and dry-run it: every row problem, or what would be written."""
    kind = _kind(scope, kind_name)
    form = form_for(kind, scope, request.POST, request.FILES)
    if not form.is_valid():
        kinds = [k for k in KINDS.values() if scope.may(k.action)]
        context = _index_context(scope, kinds, **{kind.name: form})
        return render(request, "web/imports/index.html", context, status=400)
    upload = form.cleaned_data["file"]
    meta = {"kind": kind.name, "name": safe_name(upload.name), "site": None, "reference": ""}
    if kind.name == "items":
        meta["site"] = form.cleaned_data["site"].pk
        meta["reference"] = form.cleaned_data["reference"].strip()
    user_id = _owner(scope)
    token = keep_upload(user_id, upload, meta)
    path, _meta = kept_upload(user_id, token)
    context = _result(kind, meta, token, run(kind, scope, path, meta, None))
    if context["problems"]:
        forget_upload(user_id, token)  # a refused file is not imported; only its report stays
        write_problems(kept_dir(user_id, token) / PROBLEMS, context["all_problems"])
    return render(request, "web/imports/check.html", context)


@require_POST
@scoped
def confirm(request: HttpRequest, scope: Scope, kind_name: str) -> HttpResponse:
    """Import the file that was checked, for real: all of it in one transaction, or nothing."""
    kind = _kind(scope, kind_name)
    user_id = _owner(scope)
    token = request.POST.get("token", "")
    try:
        path, meta = kept_upload(user_id, token)
    except NotFound as error:
        kinds = [k for k in KINDS.values() if scope.may(k.action)]
        context = {**_index_context(scope, kinds), "expired": error.problems}
        return render(request, "web/imports/index.html", context, status=410)
    if meta.get("kind") != kind.name:
        raise NotFound.single("upload", "kind", _("this upload is for another import"), token)
    outcome = run(kind, scope, path, meta, Actor.for_user(request.user))
    forget_upload(user_id, token)
    context = _result(kind, meta, token, outcome)
    if context["problems"]:
        return render(request, "web/imports/check.html", {**context, "refused_on_import": True})
    return render(request, "web/imports/done.html", context)


@scoped
def problems(request: HttpRequest, scope: Scope, token: str) -> HttpResponse:
    """Every problem of a refused file, as CSV (the page shows the first MAX_SHOWN)."""
    path = kept_dir(_owner(scope), token) / PROBLEMS
    if not path.exists():
        raise NotFound.single("upload", "token", _("no such report"), token)
    disposition = 'attachment; filename="problems.csv"'
    return HttpResponse(
        path.read_bytes(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )
