"""The kinds of import a user may run, and running one (a dry-run check, or the import for
real) with the command line's importer, confined to what the user's scope may change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy

from muster.access.scope import Scope, people_in, require, sites_in, units_in, visible
from muster.armory.importing import ITEM_COLUMNS, ItemsImport
from muster.armory.models import Site
from muster.core.actors import Actor
from muster.core.errors import DomainError, Problem
from muster.core.importing import Importer, ImportMode, ImportReport, run_import
from muster.core.tabular import Column
from muster.imports.uploads import forget_upload, keep_upload, kept_upload
from muster.people.importing import PEOPLE_COLUMNS, PeopleImport
from muster.vetting.importing import QUALIFICATION_COLUMNS, QualificationsImport

LINE = re.compile(r"^line (\d+)$")


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


def check_upload(
    kind: Kind, scope: Scope, user_id: int, upload: Any, meta: dict[str, Any]
) -> tuple[str, ImportReport | None, list[Problem]]:
    """Keep the upload and dry-run it: its token, and the report or every problem. Nothing is
    written; a refused file is forgotten at once, so it can never be confirmed."""
    token = keep_upload(user_id, upload, meta)
    path, _meta = kept_upload(user_id, token)
    report, problems = run(kind, scope, path, meta, None)
    if problems:
        forget_upload(user_id, token)
    return token, report, problems
