"""Bulk imports through the browser (R1): the CLI's importers, with a dry run first.

Upload → the same check as `muster import … --dry-run` (every row problem as a table, or what
would be created) → "Confirm import" runs the same import for real, one transaction, journaled
by the services. The rows must lie within the user's scope: the importers are given the units,
people or site the user may change, and refuse every other row by name.

The kinds of import, the upload kept between the check and the confirmation, and the run are
muster.imports' (shared with the API); this module is their pages.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.access.scope import Scope, require, sites_in
from muster.armory.models import Shipment, Site
from muster.core.actors import Actor
from muster.core.errors import NotFound
from muster.imports.runs import KINDS, Kind, ProblemRow, check_upload, problem_rows, run
from muster.imports.uploads import (
    PROBLEMS,
    forget_upload,
    kept_dir,
    kept_upload,
    max_bytes,
    safe_name,
)
from muster.web.errors import scoped

MAX_SHOWN = 1000  # problems shown on the page; all of them are in the CSV download
ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


# Reports ---------------------------------------------------------------------------------------


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
    token, report, problems = check_upload(kind, scope, user_id, upload, meta)
    context = _result(kind, meta, token, (report, problems))
    if context["problems"]:  # a refused file is not imported; only its report stays
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
