"""What every bulk-import command shares: its file options, the mode they choose, a progress
bar, and how a refusal, warnings and rejected rows are reported."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from muster.core.actors import Actor
from muster.core.errors import ImportRefused, Problem
from muster.core.importing import (
    BAD_ROWS,
    Importer,
    ImportMode,
    ImportReport,
    run_import,
    write_rejects,
)

PROGRESS_FROM_ROWS = 5000
MAX_SHOWN = 200


def add_import_arguments(parser: CommandParser, *, what: str = "import") -> None:
    """FILE, --dry-run, --skip-invalid and --rejects, as every import takes them."""
    parser.add_argument("file", type=Path, metavar="FILE", help="a .csv or .xlsx file")
    parser.add_argument("--dry-run", action="store_true", help="check every row and write nothing")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help=f"{what} the good rows and write the bad ones to --rejects",
    )
    parser.add_argument(
        "--rejects",
        type=Path,
        metavar="OUT.csv",
        help="where --skip-invalid writes rejected rows, with a reason, to fix and re-import",
    )


def import_mode(options: dict[str, Any]) -> tuple[ImportMode, Path | None]:
    """The mode the options choose; --skip-invalid without --rejects would lose rows."""
    mode = ImportMode(dry_run=options["dry_run"], skip_invalid=options["skip_invalid"])
    rejects: Path | None = options["rejects"]
    if mode.skip_invalid and rejects is None:
        raise CommandError("--skip-invalid needs --rejects OUT.csv, so no row is lost")
    if rejects is not None and not mode.skip_invalid:
        raise CommandError("--rejects is only written with --skip-invalid")
    return mode, rejects


def run_import_command(
    command: BaseCommand,
    importer: Importer,
    *,
    path: Path,
    mode: ImportMode,
    actor: Actor | None,
    rejects: Path | None,
    label: str,
    written: str = "written",
) -> ImportReport:
    """Run one import and report on it: a refusal names its rows (at most MAX_SHOWN problems
    are kept for the base command to print), warnings and rejected rows go to stderr, rejected
    rows to the rejects file. The caller prints the summary."""
    progress = RichProgress(enabled=sys.stderr.isatty())
    try:
        report, rejections, table = run_import(
            importer, path=path, mode=mode, actor=actor, progress=progress
        )
    except ImportRefused as error:
        if error.code == BAD_ROWS:
            rows = len({p.record for p in error.problems})
            command.stdout.write(
                f"{label}: refused, {rows:,} row(s) have problems; nothing {written}"
            )
        if len(error.problems) > MAX_SHOWN:
            more = len(error.problems) - MAX_SHOWN
            error.problems[MAX_SHOWN:] = [Problem("…", "", f"and {more:,} more not shown")]
        raise
    finally:
        progress.stop()
    for warning in report.warnings:
        command.stderr.write(f"warning: {warning}")
    if rejects is not None:
        write_rejects(rejects, table, rejections)
    for problem in report.rejected[:MAX_SHOWN]:
        command.stderr.write(f"  - {problem}")
    if len(report.rejected) > MAX_SHOWN:
        command.stderr.write(f"  … and {len(report.rejected) - MAX_SHOWN:,} more in {rejects}")
    return report


def rejected_rows_line(rejects: Path | None, report: ImportReport) -> str | None:
    if rejects is not None and report.rejected:
        return f"rejected rows written to {rejects}; fix them and import that file"
    return None


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
