"""`muster import people|qualifications FILE`: bulk import from CSV or XLSX (docs/importing.md)."""
# ruff: noqa: N999 — the command is `muster import`, so the module must be named import.

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from muster.core.errors import ImportRefused, Problem
from muster.core.importing import BAD_ROWS, Importer, ImportMode, run_import, write_rejects
from muster.core.management.base import MusterCommand

SUBJECTS = {
    "people": "volunteers, one row each, identified by national_id",
    "qualifications": "qualification records, one row each",
}
PROGRESS_FROM_ROWS = 5000
MAX_SHOWN = 200


class Command(MusterCommand):
    help = "Import people or qualifications from a CSV or XLSX file (see docs/importing.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        subjects = parser.add_subparsers(dest="subject", required=True, metavar="SUBJECT")
        for name, text in SUBJECTS.items():
            sub = subjects.add_parser(name, help=text, description=f"Import {text}.")
            sub.add_argument("file", type=Path, metavar="FILE", help="a .csv or .xlsx file")
            sub.add_argument(
                "--dry-run", action="store_true", help="check every row and write nothing"
            )
            sub.add_argument(
                "--skip-invalid",
                action="store_true",
                help="import the good rows and write the bad ones to --rejects",
            )
            sub.add_argument(
                "--rejects",
                type=Path,
                metavar="OUT.csv",
                help="where --skip-invalid writes rejected rows, with a reason, to fix and re-import",
            )
            self.add_actor_arguments(sub)

    def run(self, *args: Any, **options: Any) -> None:
        mode = ImportMode(dry_run=options["dry_run"], skip_invalid=options["skip_invalid"])
        rejects: Path | None = options["rejects"]
        if mode.skip_invalid and rejects is None:
            raise CommandError("--skip-invalid needs --rejects OUT.csv, so no row is lost")
        if rejects is not None and not mode.skip_invalid:
            raise CommandError("--rejects is only written with --skip-invalid")
        actor = None if mode.dry_run else self.actor(options)
        path: Path = options["file"]
        importer = _importer(options["subject"], path)
        progress = RichProgress(enabled=sys.stderr.isatty())
        try:
            report, rejections, table = run_import(
                importer, path=path, mode=mode, actor=actor, progress=progress
            )
        except ImportRefused as error:
            if error.code == BAD_ROWS:
                rows = len({p.record for p in error.problems})
                have = "row has" if rows == 1 else "rows have"
                self.stdout.write(f"{importer.kind}: refused, {rows:,} {have} problems")
            if len(error.problems) > MAX_SHOWN:
                more = len(error.problems) - MAX_SHOWN
                error.problems[MAX_SHOWN:] = [Problem("…", "", f"and {more:,} more not shown")]
            raise
        finally:
            progress.stop()
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        if rejects is not None:
            write_rejects(rejects, table, rejections)
        for problem in report.rejected[:MAX_SHOWN]:
            self.stderr.write(f"  - {problem}")
        if len(report.rejected) > MAX_SHOWN:
            self.stderr.write(f"  … and {len(report.rejected) - MAX_SHOWN:,} more in {rejects}")
        self.stdout.write(report.summary())
        if rejects is not None and rejections:
            self.stdout.write(f"rejected rows written to {rejects}; fix them and import that file")


def _importer(subject: str, path: Path) -> Importer:
    if subject == "people":
        from muster.people.importing import PeopleImport

        return PeopleImport(source=path.name)
    from muster.vetting.importing import QualificationsImport

    return QualificationsImport(source=path.name)


class RichProgress:
    """A progress bar on stderr, shown only at a terminal and only for long files."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Progress | None = None
        self.task: Any = None

    def start(self, phase: str, total: int | None) -> None:
        if self.bar is None:
            if not self.enabled or (total or 0) < PROGRESS_FROM_ROWS:
                self.enabled = False
                return
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(phase, total=total)
        else:
            self.bar.update(self.task, description=phase, total=total, completed=0)

    def advance(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, rows)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
