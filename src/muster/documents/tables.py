"""Tables as files people open in a spreadsheet: CSV (UTF-8 with a BOM, so Excel reads Cyrillic
right) or XLSX (a bold, frozen header row, sized columns, dates as real dates).

Rows are read once, as they come, so a table of a million items is never held in memory: CSV is
produced in chunks (`csv_chunks`, for a streaming response) and XLSX with openpyxl's write-only
mode. A row is a dict keyed by column key, or a tuple in column order.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

from django.utils import timezone

from muster.documents.qr import DocumentError

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
Columns = Sequence[tuple[str, str]]
"""(key, header) of each column, in order."""
RowData = Mapping[str, Any] | Sequence[Any]

CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"
CHUNK_ROWS = 1000
WIDTH_SAMPLE = 200  # rows looked at to size the XLSX columns before any is written
MIN_WIDTH, MAX_WIDTH = 6, 60
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# A spreadsheet runs text beginning with these as a formula ("CSV injection"); such text is
# written with a leading apostrophe, which Excel and LibreOffice show as plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TableDocument:
    """A table ready to export: its columns and a one-pass stream of its rows."""

    name: str  # used for the file name and the XLSX sheet, e.g. "roster"
    columns: Columns
    rows: Iterable[RowData]


def table_bytes(columns: Columns, rows: Iterable[RowData], fmt: str) -> tuple[bytes, str, str]:
    """The whole table as (file bytes, content type, file extension)."""
    if fmt == "csv":
        return b"".join(csv_chunks(columns, rows)), CONTENT_TYPES["csv"], "csv"
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(columns, rows, buffer)
        return buffer.getvalue(), CONTENT_TYPES["xlsx"], "xlsx"
    raise DocumentError.single("table", "format", f"must be one of {', '.join(FORMATS)}", fmt)


def write_table(columns: Columns, rows: Iterable[RowData], fmt: str, out: IO[bytes]) -> None:
    """Write the table to `out` as it is read, never holding all its rows."""
    if fmt == "xlsx":
        write_xlsx(columns, rows, out)
        return
    if fmt != "csv":
        raise DocumentError.single("table", "format", f"must be one of {', '.join(FORMATS)}", fmt)
    for chunk in csv_chunks(columns, rows):
        out.write(chunk)


def _values(columns: Columns, row: RowData) -> list[Any]:
    if isinstance(row, Mapping):
        return [row.get(key) for key, _ in columns]
    if len(row) != len(columns):
        raise ValueError(f"a row has {len(row)} values for {len(columns)} columns")
    return list(row)


def local_naive(moment: dt.datetime) -> dt.datetime:
    """A moment in the server's time zone, without tzinfo (spreadsheets have no time zones)."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.replace(tzinfo=None, microsecond=0)


# CSV -------------------------------------------------------------------------------------------


def csv_text(value: Any) -> str:
    """How a value is written to CSV: dates ISO, moments local to the minute, text guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return local_naive(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def csv_chunks(columns: Columns, rows: Iterable[RowData]) -> Iterator[bytes]:
    """The CSV file in chunks of about CHUNK_ROWS rows, the first beginning with a BOM and
    the header (for a streaming response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([header for _, header in columns])
    for batch in _batches(rows, CHUNK_ROWS):
        writer.writerows([csv_text(v) for v in _values(columns, row)] for row in batch)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _batches(rows: Iterable[RowData], size: int) -> Iterator[list[RowData]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


# XLSX ------------------------------------------------------------------------------------------


def xlsx_value(value: Any) -> Any:
    """A value as openpyxl should store it: moments naive local time, the rest as given."""
    if isinstance(value, dt.datetime):
        return local_naive(value)
    return value


def _shown_width(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    return len(csv_text(value))


def write_xlsx(columns: Columns, rows: Iterable[RowData], out: IO[bytes], sheet: str = "") -> None:
    """Write an XLSX workbook of one sheet in openpyxl's write-only mode (rows go to a
    temporary file as they come); columns are sized from the header and the first rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    worksheet = book.create_sheet(title=(sheet or "table")[:31])
    iterator = iter(rows)
    sample = [_values(columns, row) for row in itertools.islice(iterator, WIDTH_SAMPLE)]
    for position, (_, header) in enumerate(columns):
        widest = max([len(header), *(_shown_width(values[position]) for values in sample)])
        letter = get_column_letter(position + 1)
        worksheet.column_dimensions[letter].width = min(max(widest + 2, MIN_WIDTH), MAX_WIDTH)
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for _, header in columns:
        cell = WriteOnlyCell(worksheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    worksheet.append(header_cells)

    def cells(values: list[Any]) -> list[Any]:
        out_cells = []
        for value in values:
            value = xlsx_value(value)
            if isinstance(value, dt.datetime | dt.date) or (
                isinstance(value, str) and value.startswith("=")
            ):
                cell = WriteOnlyCell(worksheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text that looks like a formula stays text
                else:
                    is_moment = isinstance(value, dt.datetime)
                    cell.number_format = DATETIME_FORMAT if is_moment else DATE_FORMAT
                out_cells.append(cell)
            else:
                out_cells.append(value)
        return out_cells

    for values in sample:
        worksheet.append(cells(values))
    for row in iterator:
        worksheet.append(cells(_values(columns, row)))
    # openpyxl's write-only save wants a file name or a seekable file; spool through one.
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        book.save(spool)
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            out.write(chunk)
