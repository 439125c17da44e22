"""`muster import people|qualifications FILE`: bulk import from CSV or XLSX (docs/importing.md)."""
# ruff: noqa: N999 — the command is `muster import`, so the module must be named import.

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from muster.core.importing import Importer
from muster.core.management.base import MusterCommand
from muster.core.management.importing import (
    add_import_arguments,
    import_mode,
    rejected_rows_line,
    run_import_command,
)

SUBJECTS = {
    "people": "volunteers, one row each, identified by national_id",
    "qualifications": "qualification records, one row each",
}


class Command(MusterCommand):
    help = "Import people or qualifications from a CSV or XLSX file (see docs/importing.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        subjects = parser.add_subparsers(dest="subject", required=True, metavar="SUBJECT")
        for name, text in SUBJECTS.items():
            sub = subjects.add_parser(name, help=text, description=f"Import {text}.")
            add_import_arguments(sub)
            self.add_actor_arguments(sub)

    def run(self, *args: Any, **options: Any) -> None:
        mode, rejects = import_mode(options)
        actor = None if mode.dry_run else self.actor(options)
        path: Path = options["file"]
        importer = _importer(options["subject"], path)
        report = run_import_command(
            self, importer, path=path, mode=mode, actor=actor, rejects=rejects, label=importer.kind
        )
        self.stdout.write(report.summary())
        if line := rejected_rows_line(rejects, report):
            self.stdout.write(line)


def _importer(subject: str, path: Path) -> Importer:
    if subject == "people":
        from muster.people.importing import PeopleImport

        return PeopleImport(source=path.name)
    from muster.vetting.importing import QualificationsImport

    return QualificationsImport(source=path.name)
