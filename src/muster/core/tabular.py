"""Reading rosters as organisations keep them: CSV (as Excel writes it) or XLSX, header first.

A file is read as a stream of rows, each with the line (or sheet row) it came from, so that
every problem can be named by line and column. Nothing is guessed silently: a file that is not
UTF-8 is refused, and columns that are not used are reported.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from muster.core.errors import ImportRefused, Problem

Cell = str | int | float | dt.date

CSV_DELIMITERS = (";", ",", "\t")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
CHUNK_BYTES = 1 << 20
SAVE_AS_UTF8 = "save it from Excel as 'CSV UTF-8 (comma delimited)' or as .xlsx and import again"


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: `cells` has exactly one value per header column ("" when empty);
    `overflow` holds non-empty values found to the right of the last header column."""

    line: int
    cells: tuple[Cell, ...]
    overflow: tuple[Cell, ...] = ()


@dataclass
class Table:
    """A header and a one-pass stream of its non-empty rows."""

    header: tuple[str, ...]
    rows: Iterator[Row]
    header_line: int = 1
    size_hint: int | None = None
    delimiter: str = ""  # the CSV delimiter; empty for a workbook
    warnings: list[str] = field(default_factory=list)


def refuse(record: str, field_name: str, rule: str, value: object = "") -> ImportRefused:
    return ImportRefused([Problem(record, field_name, rule, "" if value is None else str(value))])


def read_table(path: Path) -> Table:
    """Open `path` as CSV or XLSX, chosen by its content rather than its name."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise refuse(str(path), "", f"cannot be read ({exc.strerror})") from exc
    if magic == ZIP_MAGIC:
        return _read_xlsx(path)
    if magic == OLE_MAGIC:
        raise refuse(path.name, "", f"is an old Excel .xls workbook; {SAVE_AS_UTF8}")
    return _read_csv(path)


# CSV -----------------------------------------------------------------------------------------


def _check_utf8(path: Path) -> int:
    """Refuse a file that is not UTF-8, naming the first bad byte; returns its line count."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    lines = 0
    ends_open = False
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            pending = decoder.getstate()[0]
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                bad = offset - len(pending) + exc.start
                line = lines + data.count(b"\n", 0, exc.start) + 1
                raise refuse(
                    f"line {line}",
                    "",
                    f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {bad}); "
                    f"{SAVE_AS_UTF8}",
                ) from None
            offset += len(chunk)
            lines += chunk.count(b"\n")
            ends_open = not chunk.endswith(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise refuse(
                f"line {lines + 1}", "", f"ends in the middle of a UTF-8 character; {SAVE_AS_UTF8}"
            ) from None
    return lines + ends_open


def sniff_delimiter(line: str) -> str:
    """The delimiter used most often outside quotes in the header line (`,` when none is)."""
    counts = dict.fromkeys(CSV_DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(CSV_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path) -> Table:
    lines = _check_utf8(path)
    handle = path.open(encoding="utf-8-sig", newline="")
    try:
        first = next((text for text in handle if text.strip()), None)
        if first is None:
            raise refuse(path.name, "", "is empty; the first line must name the columns")
        delimiter = sniff_delimiter(first)
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter, strict=False)
        header_line, header = 1, tuple[str, ...]()
        for record in reader:
            header = _trim_trailing(tuple(c.strip() for c in record))
            if header:
                break
            header_line = reader.line_num + 1
    except BaseException:
        handle.close()
        raise
    rows = _csv_rows(handle, reader, reader.line_num + 1, len(header))
    return Table(header, rows, header_line, max(lines - reader.line_num, 0), delimiter)


def _csv_rows(handle: IO[str], reader: Any, start: int, width: int) -> Iterator[Row]:
    with handle:
        try:
            for record in reader:
                row = _make_row(start, [c.strip() for c in record], width)
                if row is not None:
                    yield row
                start = reader.line_num + 1
        except csv.Error as exc:
            rule = f"is not valid CSV ({exc}); look for a quote that is never closed"
            raise refuse(f"line {start}", "", rule) from None


# XLSX ----------------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign zip
        raise refuse(path.name, "", f"is not a readable .xlsx workbook ({exc})") from exc
    sheet = book.worksheets[0]
    warnings = []
    if len(book.worksheets) > 1:
        others = ", ".join(repr(s.title) for s in book.worksheets[1:])
        warnings.append(f"only the first sheet, {sheet.title!r}, was read; ignored: {others}")
    size_hint = sheet.max_row
    sheet.reset_dimensions()  # some writers record a wrong size; read what is really there
    values = sheet.iter_rows(min_row=1, values_only=True)
    header_line = 0
    header: tuple[str, ...] | None = None
    for header_line, raw in enumerate(values, start=1):  # noqa: B007 (used after the loop)
        cells = [xlsx_cell(v) for v in raw]
        if any(c != "" for c in cells):
            header = tuple(str(c) if not isinstance(c, dt.date) else c.isoformat() for c in cells)
            break
    if header is None:
        book.close()
        raise refuse(path.name, "", "has an empty first sheet; the first row must name the columns")
    header = _trim_trailing(header)
    rows = _xlsx_rows(book, values, header_line, len(header))
    hint = None if size_hint is None else max(size_hint - header_line, 0)
    return Table(header, rows, header_line, hint, "", warnings)


def _xlsx_rows(
    book: Any, values: Iterator[Sequence[Any]], header_line: int, width: int
) -> Iterator[Row]:
    try:
        for line, raw in enumerate(values, start=header_line + 1):
            row = _make_row(line, [xlsx_cell(v) for v in raw], width)
            if row is not None:
                yield row
    finally:
        book.close()


def xlsx_cell(value: object) -> Cell:
    """A spreadsheet value as a Cell: dates as dates, integral numbers as int, text trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    return str(value).strip()


# Shared ----------------------------------------------------------------------------------------


def _trim_trailing(header: tuple[str, ...]) -> tuple[str, ...]:
    end = len(header)
    while end and header[end - 1] == "":
        end -= 1
    return header[:end]


def _make_row(line: int, cells: list[Cell], width: int) -> Row | None:
    """A Row padded or cut to the header's width, or None for a row with nothing in it."""
    if not any(c != "" for c in cells):
        return None
    if len(cells) == width:
        return Row(line, tuple(cells))
    if len(cells) < width:
        return Row(line, (*cells, *[""] * (width - len(cells))))
    return Row(line, tuple(cells[:width]), tuple(c for c in cells[width:] if c != ""))


def cell_text(value: Cell) -> str:
    """How a cell is shown to people and written back to a CSV file."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# Header matching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column an importer understands: its canonical name, other names it goes by."""

    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Header:
    """Where each known column is in a file's header; `index[name]` is its position."""

    index: dict[str, int]
    names: tuple[str, ...]

    def value(self, row: Row, name: str) -> Cell:
        position = self.index.get(name)
        return "" if position is None else row.cells[position]


def normalise_header(name: str) -> str:
    """Header names compare case-insensitively, with spaces and hyphens read as underscores."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower()).strip("_")


def match_header(table: Table, columns: Sequence[Column]) -> tuple[Header, list[str]]:
    """Map the file's header to `columns`; refuse missing or repeated columns, and return
    a warning naming every column that will be ignored."""
    known = {normalise_header(alias): c.name for c in columns for alias in (c.name, *c.aliases)}
    record = f"line {table.header_line}"
    index: dict[str, int] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    for position, raw in enumerate(table.header):
        key = normalise_header(raw)
        if not key:
            ignored.append(f"column {position + 1} (no name)")
            continue
        if key in seen:
            rule = f"appears twice in the header (also as {seen[key]!r})"
            problems.append(Problem(record, known.get(key, key), rule, raw))
            continue
        name = known.get(key)
        if name is not None and name in index:
            first = table.header[index[name]]
            rule = f"names the same column as {first!r}"
            problems.append(Problem(record, name, rule, raw))
            continue
        seen[key] = raw
        if name is None:
            ignored.append(repr(raw))
        else:
            index[name] = position
    for column in columns:
        if column.required and column.name not in index:
            found = ", ".join(h for h in table.header if h) or "none"
            rule = f"required column is missing (columns found: {found})"
            problems.append(Problem(record, column.name, rule))
    if problems:
        raise ImportRefused(problems)
    warnings = [f"ignored columns: {', '.join(ignored)}"] if ignored else []
    return Header(index, table.header), warnings


# Values ----------------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell whose text is not a value of the column's kind; the message is the rule."""


ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DAY_FIRST_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
DATE_FORMATS = "YYYY-MM-DD or DD.MM.YYYY"


def parse_date(value: Cell) -> dt.date:
    """A date from a date cell or from text in ISO (2024-03-01) or day-first (01.03.2024,
    01/03/2024) form; anything else, or a date that does not exist, is a CellError."""
    if isinstance(value, dt.date):
        return value
    return _parse_date_text(str(value).strip())


@functools.lru_cache(maxsize=8192)
def _parse_date_text(text: str) -> dt.date:
    """Rosters repeat the same dates thousands of times; each text is parsed once."""
    if match := ISO_DATE.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := DAY_FIRST_DATE.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise CellError(f"is not a date; write it as {DATE_FORMATS}")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError("not a real date") from None


INTEGER = re.compile(r"^[+-]?\d+$")


def parse_int(value: Cell) -> int:
    """A whole number from a number cell or its text."""
    if isinstance(value, int):
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not INTEGER.match(text):
        raise CellError("is not a whole number")
    return int(text)


class ChoiceCell:
    """Parses a cell into one of `choices`, written as its value or its label, in any case."""

    def __init__(self, choices: Sequence[tuple[str, str]]) -> None:
        self.lookup: dict[str, str] = {}
        for value, label in choices:
            self.lookup[normalise_header(label)] = value
            self.lookup[normalise_header(value)] = value
        self.rule = f"must be one of {', '.join(dict.fromkeys(value for value, _ in choices))}"

    def __call__(self, value: Cell) -> str:
        text = cell_text(value)
        found = self.lookup.get(text) or self.lookup.get(normalise_header(text))
        if found is None:
            raise CellError(self.rule)
        return found


class TextCell:
    """Parses a cell as text of at most `limit` characters."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit

    def __call__(self, value: Cell) -> str:
        text = cell_text(value)
        if self.limit is not None and len(text) > self.limit:
            raise CellError(f"is longer than {self.limit} characters")
        return text
