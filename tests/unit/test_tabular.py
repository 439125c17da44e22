"""Reading roster files as Excel and people write them: no database involved."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.errors import ImportRefused
from muster.core.importing import Rejection, RowProblem, write_rejects
from muster.core.tabular import (
    CellError,
    ChoiceCell,
    Column,
    Row,
    Table,
    match_header,
    normalise_header,
    parse_date,
    parse_int,
    read_table,
    sniff_delimiter,
)


def read(path: Path) -> tuple[tuple[str, ...], list[Row], Table]:
    table = read_table(path)
    return table.header, list(table.rows), table


def write_bytes(tmp_path: Path, data: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# Round trips (Hypothesis) ----------------------------------------------------------------------

HEADER_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ 0123456789", min_size=1, max_size=12)
SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn"), blacklist_characters="\r")
    | st.just("\n"),
    max_size=20,
).filter(lambda s: s == s.strip() and not s.startswith("=") and "_x" not in s)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    # Two columns at least: a one-column file has no delimiter in its header to find.
    header = draw(
        st.lists(HEADER_NAMES.map(str.strip).filter(bool), min_size=2, max_size=6, unique=True)
    )
    row = st.lists(SAFE_TEXT, min_size=len(header), max_size=len(header)).filter(
        lambda cells: any(cells)
    )
    return header, draw(st.lists(row, max_size=8))


def write_csv(header: list[str], rows: list[list[str]], delimiter: str, bom: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(tables(), st.sampled_from([";", ","]), st.booleans())
def test_any_table_written_as_csv_reads_back_identically(table, delimiter, bom):
    header, rows = table
    with tempfile.TemporaryDirectory() as folder:
        path = write_bytes(Path(folder), write_csv(header, rows, delimiter, bom))
        read_header, read_rows, _ = read(path)
    assert list(read_header) == header
    assert [list(r.cells) for r in read_rows] == rows


@settings(max_examples=60, deadline=None)
@given(tables())
def test_any_table_written_as_xlsx_reads_back_identically(table):
    header, rows = table
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([cell or None for cell in row])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.xlsx"
        book.save(path)
        read_header, read_rows, _ = read(path)
    assert list(read_header) == header
    assert [list(r.cells) for r in read_rows] == rows


def test_csv_line_numbers_count_quoted_newlines_and_skip_empty_rows(tmp_path):
    data = b'a;b\r\n"one\r\ntwo";x\r\n;\r\n\r\nthree;y\r\n'
    header, rows, table = read(write_bytes(tmp_path, data))
    assert header == ("a", "b") and table.delimiter == ";"
    assert [(r.line, r.cells) for r in rows] == [(2, ("one\r\ntwo", "x")), (6, ("three", "y"))]


# Dates -----------------------------------------------------------------------------------------


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_every_valid_date_reads_back_in_each_accepted_form(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.day:02d}.{day.month:02d}.{day.year}") == day
    assert parse_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_date(day) == day


@given(st.integers(1000, 9999), st.integers(1, 12), st.integers(1, 31))
def test_impossible_dates_are_refused_as_not_real(year, month, day):
    try:
        dt.date(year, month, day)
    except ValueError:
        with pytest.raises(CellError, match="not a real date"):
            parse_date(f"{year}-{month:02d}-{day:02d}")
        with pytest.raises(CellError, match="not a real date"):
            parse_date(f"{day:02d}.{month:02d}.{year}")


@pytest.mark.parametrize("text", ["2023/02/01", "1 March 2024", "03-01-2024", "24.3.1", "", "soon"])
def test_dates_in_other_forms_are_refused_with_the_forms_accepted(text):
    with pytest.raises(CellError, match=r"YYYY-MM-DD or DD\.MM\.YYYY"):
        parse_date(text)


def test_whole_numbers():
    assert parse_int("12") == 12 and parse_int(7) == 7 and parse_int("-3") == -3
    for bad in ("3.5", "twelve", 2.5):
        with pytest.raises(CellError, match="whole number"):
            parse_int(bad)


def test_choices_accept_value_or_label_in_any_case():
    status = ChoiceCell([("vetting", "In vetting"), ("active", "Active")])
    assert status("In Vetting") == status("VETTING") == "vetting"
    with pytest.raises(CellError, match="must be one of vetting, active"):
        status("retired")


# Encodings and formats -------------------------------------------------------------------------


def test_bom_is_not_part_of_the_first_column_name(tmp_path):
    header, _, _ = read(write_bytes(tmp_path, "\ufeffnational_id,unit\r\nX1,Y\r\n".encode()))
    assert header == ("national_id", "unit")


def test_non_utf8_file_is_refused_naming_line_offset_and_the_fix(tmp_path):
    data = "id;name\r\n1;Koval\r\n2;Шевченко\r\n".encode("cp1251")
    with pytest.raises(ImportRefused) as refused:
        read_table(write_bytes(tmp_path, data))
    (problem,) = refused.value.problems
    assert problem.record == "line 3"
    assert "not UTF-8" in problem.rule and "offset 20" in problem.rule
    assert "CSV UTF-8" in problem.rule


def test_utf8_cut_in_the_middle_of_a_character_is_refused(tmp_path):
    with pytest.raises(ImportRefused, match="middle of a UTF-8 character"):
        read_table(write_bytes(tmp_path, "id\r\nШ".encode()[:-1]))


def test_old_xls_workbook_is_refused_with_advice(tmp_path):
    path = write_bytes(tmp_path, b"\xd0\xcf\x11\xe0" + b"\0" * 60, "old.xls")
    with pytest.raises(ImportRefused, match=r"old Excel \.xls"):
        read_table(path)


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(ImportRefused, match="is empty"):
        read_table(write_bytes(tmp_path, b"\r\n  \r\n"))


def test_unclosed_quote_is_refused_with_its_line(tmp_path):
    data = ("a,b\r\n" + '1,"never closed\r\n' + "x" * 200_000).encode()
    with pytest.raises(ImportRefused, match="never closed"):
        list(read_table(write_bytes(tmp_path, data)).rows)


@pytest.mark.parametrize(
    ("line", "expected"),
    [("a;b,c;d", ";"), ("a,b,c", ","), ("a\tb\tc", "\t"), ('"x;y",b,c', ","), ("single", ",")],
)
def test_delimiter_is_the_one_used_most_outside_quotes_in_the_header(line, expected):
    assert sniff_delimiter(line) == expected


def test_xlsx_cells_become_dates_and_whole_numbers(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["when", "count", "ratio", "text"])
    sheet.append([dt.datetime(2024, 3, 1, 0, 0), 12.0, 2.5, "  padded  "])
    book.create_sheet("notes")
    path = tmp_path / "t.xlsx"
    book.save(path)
    _, rows, table = read(path)
    assert rows[0].cells == (dt.date(2024, 3, 1), 12, 2.5, "padded")
    assert rows[0].line == 2
    assert table.warnings == ["only the first sheet, 'Sheet', was read; ignored: 'notes'"]


def test_values_beyond_the_header_are_kept_as_overflow(tmp_path):
    _, rows, _ = read(write_bytes(tmp_path, b"a,b\r\n1,2,Kyiv,\r\n3\r\n"))
    assert rows[0].overflow == ("Kyiv",) and rows[1].cells == ("3", "")


# Header matching -------------------------------------------------------------------------------

COLUMNS = (
    Column("national_id", required=True),
    Column("family_name", required=True, aliases=("surname", "last_name")),
    Column("birth_date", aliases=("date_of_birth", "dob")),
)


def header_of(*names: str) -> Table:
    return Table(header=names, rows=iter(()))


def test_header_names_match_ignoring_case_spaces_hyphens_and_aliases():
    header, warnings = match_header(header_of(" National-ID ", "Last Name", "DOB"), COLUMNS)
    assert header.index == {"national_id": 0, "family_name": 1, "birth_date": 2}
    assert warnings == []
    assert normalise_header("  Date  of - Birth ") == "date_of_birth"


def test_unknown_columns_are_reported_as_ignored():
    _, warnings = match_header(header_of("national_id", "surname", "Shoe size", ""), COLUMNS)
    assert warnings == ["ignored columns: 'Shoe size', column 4 (no name)"]


def test_missing_and_repeated_columns_are_refused_together():
    with pytest.raises(ImportRefused) as refused:
        match_header(header_of("surname", "last_name", "dob", "DOB"), COLUMNS)
    assert [(p.field, p.rule.split(" (")[0]) for p in refused.value.problems] == [
        ("family_name", "names the same column as 'surname'"),
        ("birth_date", "appears twice in the header"),
        ("national_id", "required column is missing"),
    ]


# Rejects ---------------------------------------------------------------------------------------


def test_rejects_file_keeps_original_columns_and_reads_back(tmp_path):
    source = write_bytes(tmp_path, "a;b\r\nx;\r\ny;Шевченко;extra\r\n".encode())
    table = read_table(source)
    rows = list(table.rows)
    rejections = [
        Rejection(rows[0], (RowProblem(2, "b", "", "is required"),)),
        Rejection(rows[1], (RowProblem(3, "", "extra", "beyond"), RowProblem(3, "a", "y", "bad"))),
    ]
    out = tmp_path / "rejects.csv"
    write_rejects(out, table, rejections)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    header, back, again = read(out)
    assert header == ("a", "b", "line", "reason") and again.delimiter == ";"
    assert [r.cells for r in back] == [
        ("x", "", "2", "b: is required"),
        ("y", "Шевченко", "3", "beyond; a: bad"),
    ]
    assert back[1].overflow == ("extra",)
