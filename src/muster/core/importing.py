"""The one driver every import runs through: check every row, then write all or nothing.

Modes: by default any bad row refuses the whole file (ImportRefused, nothing written);
`dry_run` checks only; `skip_invalid` writes the good rows and hands back the bad ones, which
`write_rejects` saves as a CSV that can be corrected and imported again.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from django.db import transaction

from muster.core.actors import Actor
from muster.core.errors import DomainError, ImportRefused, Problem
from muster.core.tabular import (
    Cell,
    CellError,
    Column,
    Header,
    Row,
    Table,
    cell_text,
    match_header,
    normalise_header,
    read_table,
)

CHUNK_ROWS = 2000
REJECT_COLUMNS = ("line", "reason")
BAD_ROWS = "bad_rows"  # ImportRefused.code when rows (not the file as a whole) were refused


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One rule one row breaks, named by line and (canonical) column."""

    line: int
    column: str
    value: str
    rule: str

    def __str__(self) -> str:
        return str(self.as_problem())  # the same words as every other refusal

    def as_problem(self) -> Problem:
        return Problem(f"line {self.line}", self.column, self.rule, self.value)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that was not imported, with every reason."""

    row: Row
    problems: tuple[RowProblem, ...]

    def reason(self) -> str:
        return "; ".join(f"{p.column}: {p.rule}" if p.column else p.rule for p in self.problems)


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    rejected_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        verbs = ("to create", "to update") if self.dry_run else ("created", "updated")
        text = (
            f"{self.kind}: {self.created:,} {verbs[0]}, {self.updated:,} {verbs[1]}, "
            f"{self.unchanged:,} unchanged, {self.rejected_rows:,} rejected"
        )
        return f"{text} (dry run: nothing written)" if self.dry_run else text


class Counts(NamedTuple):
    created: int
    updated: int
    unchanged: int


class Importer(Protocol):
    """What each kind of import provides to the driver; an instance serves one run."""

    kind: str
    columns: tuple[Column, ...]

    def check(self, rows: Sequence[Row], header: Header) -> list[Rejection]:
        """Check a chunk of rows, remember the good ones' writes, return the bad ones."""
        ...

    def counts(self) -> Counts:
        """How many of the rows checked so far create, update or leave a record as it is."""
        ...

    def apply(self, *, actor: Actor, progress: ProgressSink | None) -> list[Rejection]:
        """Write what `check` planned, inside the caller's transaction; rows refused by a
        service at this stage come back as rejections (their own writes rolled back)."""
        ...


class ProgressSink(Protocol):
    def start(self, phase: str, total: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass(frozen=True)
class ImportMode:
    dry_run: bool = False
    skip_invalid: bool = False


def chunks(rows: Iterator[Row], size: int = CHUNK_ROWS) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def run_import(
    importer: Importer,
    *,
    path: Path,
    mode: ImportMode,
    actor: Actor | None,
    progress: ProgressSink | None = None,
) -> tuple[ImportReport, list[Rejection], Table]:
    """Check every row of `path`, then (unless refused or a dry run) write in one transaction."""
    table = read_table(path)
    header, warnings = match_header(table, importer.columns)
    report = ImportReport(
        importer.kind, warnings=[*table.warnings, *warnings], dry_run=mode.dry_run
    )
    rejections: list[Rejection] = []
    if progress:
        progress.start("checking", table.size_hint)
    for chunk in chunks(table.rows):
        size = len(chunk)
        overflowing = _overflowing(chunk, header)
        rejections.extend(overflowing)
        if overflowing:
            chunk = [row for row in chunk if not row.overflow]
        rejections.extend(importer.check(chunk, header))
        if progress:
            progress.advance(size)
    rejections.sort(key=lambda r: r.row.line)
    if rejections and not mode.skip_invalid:
        raise _refusal(rejections)
    if not mode.dry_run:
        if actor is None:
            raise ImportRefused.single("import", "actor", "writing needs an authenticated actor")
        with transaction.atomic():
            late = importer.apply(actor=actor, progress=progress)
            if late and not mode.skip_invalid:
                raise _refusal(late)
        rejections = sorted([*rejections, *late], key=lambda r: r.row.line)
    report.created, report.updated, report.unchanged = importer.counts()
    report.rejected = [p for r in rejections for p in r.problems]
    report.rejected_rows = len(rejections)
    return report, rejections, table


def _refusal(rejections: Sequence[Rejection]) -> ImportRefused:
    problems = [p.as_problem() for r in rejections for p in r.problems]
    return ImportRefused(problems, code=BAD_ROWS)


def _overflowing(chunk: Sequence[Row], header: Header) -> list[Rejection]:
    """Values to the right of the header would be lost: usually an unquoted delimiter."""
    width = len(header.names)
    return [
        Rejection(
            row,
            (
                RowProblem(
                    row.line,
                    "",
                    cell_text(row.overflow[0]),
                    f"has values beyond the {width} columns of the header "
                    "(a ';' or ',' inside a value that is not quoted?)",
                ),
            ),
        )
        for row in chunk
        if row.overflow
    ]


def parse_cells(
    row: Row, header: Header, parsers: Mapping[str, Callable[[Cell], Any]], required: Iterable[str]
) -> tuple[dict[str, Any], list[RowProblem]]:
    """The row's non-empty cells as typed values, and every cell that is not one; a required
    column left empty is a problem too (once, not on top of a bad value)."""
    values: dict[str, Any] = {}
    problems: list[RowProblem] = []
    for name, position in header.index.items():
        cell = row.cells[position]
        if cell == "":
            continue
        try:
            values[name] = parsers[name](cell)
        except CellError as error:
            problems.append(RowProblem(row.line, name, cell_text(cell), str(error)))
    for name in required:
        if name not in values and not any(p.column == name for p in problems):
            problems.append(RowProblem(row.line, name, "", "is required"))
    return values, problems


def rejection_from(row: Row, error: DomainError) -> Rejection:
    """A service's refusal of one row, as that row's rejection."""
    return Rejection(
        row, tuple(RowProblem(row.line, p.field, p.value, p.rule) for p in error.problems)
    )


def write_rejects(path: Path, table: Table, rejections: Sequence[Rejection]) -> None:
    """Save rejected rows with their original columns plus `line` and `reason`, as UTF-8 with
    a BOM so Excel opens it; after correcting it, the same file can be imported again.
    Values found beyond the header stay beyond it (after `reason`), so they are not lost."""
    # A rejects file imported again brings its own `line` and `reason`: replace, not repeat them.
    kept = [
        i for i, name in enumerate(table.header) if normalise_header(name) not in REJECT_COLUMNS
    ]
    delimiter = table.delimiter if table.delimiter in {";", ","} else ";"
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow([*(table.header[i] for i in kept), *REJECT_COLUMNS])
        for rejection in rejections:
            row = rejection.row
            writer.writerow(
                [
                    *(cell_text(row.cells[i]) for i in kept),
                    row.line,
                    rejection.reason(),
                    *(cell_text(c) for c in row.overflow),
                ]
            )
    partial.replace(path)  # the file being imported may be this very file
