"""The armory's documents: an item's custody history with its verified proof, blind count
sheets, variance reports, QR label sheets and the tables as CSV/XLSX — what a reader of each
relies on is in it, and nothing a blind counter must not see."""

from __future__ import annotations

import csv
import io
import re
import subprocess

import pytest
from openpyxl import load_workbook

from muster.accounts.models import User
from muster.armory.count_selectors import variance_report
from muster.armory.documents import (
    count_sheet_pdf,
    holdings_table,
    item_history_pdf,
    items_table,
    labels_of,
    labels_pdf,
    variance_report_pdf,
    variances_table,
)
from muster.armory.models import Item
from muster.armory.selectors import item_by_serial
from muster.armory.services.counts import close_count, record_count, start_count
from muster.armory.services.custody import issue_items
from muster.core.actors import Actor
from muster.documents.tables import table_bytes

ORIGIN = "muster.test/log"


@pytest.fixture(autouse=True)
def _signing_key(settings, tmp_path):
    settings.LOG_KEY_FILE = tmp_path / "log.key"
    settings.LOG_ORIGIN = ORIGIN


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def issued(armory, rifleman):
    """R0003 is issued to the rifleman on assignment."""
    outcome = issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        item_ids=[item_by_serial("R0003").pk],
        kind="assignment",
    )
    assert outcome.issued, outcome.refusals
    return item_by_serial("R0003")


@pytest.fixture
def counter_user(armory):
    return User.objects.create_user(username="counter1", password="x" * 12)


@pytest.fixture
def counter(counter_user):
    return Actor.for_user(counter_user)


def test_item_history_lists_every_event_and_says_the_proof_verified(issued, rifleman, tmp_path):
    text = pdf_text(item_history_pdf(issued), tmp_path)

    assert "Item custody history" in text
    assert "VPR-223" in text and "R0003" in text
    assert "custody.received" in text and "custody.issued" in text
    assert rifleman.national_id in text  # where it is now, and the issue's destination
    assert "ARM-1" in text
    assert "verified against the transparency log" in text
    assert ORIGIN in text
    assert "FAILED" not in text


def test_blind_count_sheet_shows_what_was_recorded_never_what_is_expected(
    armory, counter, counter_user, tmp_path
):
    count = start_count(
        actor=armory["armorer"], site=armory["vault"], counter=counter_user, category="firearm"
    )
    record_count(actor=counter, count=count, serials=["R0001", "R0002"])

    text = pdf_text(count_sheet_pdf(count), tmp_path)

    assert count.blind
    assert "Blind count sheet" in text
    assert "R0001" in text and "R0002" in text
    for serial in ("R0003", "R0007", "R0010"):
        assert serial not in text, f"the blind sheet shows expected {serial}"


def test_variance_report_lists_each_missing_item_as_open(armory, counter, counter_user, tmp_path):
    count = start_count(
        actor=armory["armorer"], site=armory["vault"], counter=counter_user, category="firearm"
    )
    record_count(
        actor=counter, count=count, serials=[f"R{n:04d}" for n in range(1, 9)] + ["X-STRAY-1"]
    )
    close_count(actor=counter, count=count)

    text = pdf_text(variance_report_pdf(count), tmp_path)

    assert "Variance report" in text
    assert "3 variances: 3 open, 0 resolved" in text
    for serial in ("R0009", "R0010", "X-STRAY-1"):
        assert serial in text
    assert "missing" in text and "unexpected" in text and "OPEN" in text
    assert "R0001" not in text


def test_variance_report_of_an_open_count_says_so(armory, counter_user, tmp_path):
    count = start_count(
        actor=armory["armorer"], site=armory["vault"], counter=counter_user, category="firearm"
    )
    assert "still open" in pdf_text(variance_report_pdf(count), tmp_path)


def test_labels_hold_each_items_identifier_as_plain_text(armory, tmp_path):
    items = list(Item.objects.select_related("model").order_by("serial"))
    labels = labels_of(items)

    assert [label.code.data for label in labels] == [
        f"VPR-223 R{n:04d}".encode() for n in range(1, 11)
    ]
    text = pdf_text(labels_pdf(items), tmp_path)
    for n in range(1, 11):
        assert f"VPR-223 R{n:04d}" in text
    assert "Civilian semi-automatic rifle" in text


def test_site_label_holds_the_site_code(armory, tmp_path):
    (label,) = labels_of([armory["vault"]])
    assert label.code.data == b"ARM-1"
    assert "ARM-1" in pdf_text(labels_pdf([armory["vault"]]), tmp_path)


def test_label_sheet_fits_24_labels_to_a_page(armory, tmp_path):
    items = list(Item.objects.select_related("model").order_by("serial")) * 3  # 30 labels
    path = tmp_path / "labels.pdf"
    path.write_bytes(labels_pdf(items))
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    assert re.search(r"^Pages:\s+2$", info.stdout, re.MULTILINE), info.stdout


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would misread Cyrillic"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_items_table_round_trips_through_csv_and_xlsx(issued, rifleman):
    table = items_table(Item.objects.all())
    rows = list(table.rows)
    csv_data, content_type, extension = table_bytes(table.columns, rows, "csv")
    assert (content_type, extension) == ("text/csv; charset=utf-8", "csv")

    read = _csv_rows(csv_data)
    assert read[0][:4] == ["Category", "Model", "Model name", "Serial"]
    assert [r[3] for r in read[1:]] == [f"R{n:04d}" for n in range(1, 11)]
    held = next(r for r in read if r[3] == "R0003")
    assert held[5:8] == ["person", "", rifleman.national_id]

    xlsx_data, _, extension = table_bytes(table.columns, rows, "xlsx")
    assert extension == "xlsx"
    sheet = load_workbook(io.BytesIO(xlsx_data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert [r[3] for r in values[1:]] == [f"R{n:04d}" for n in range(1, 11)]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    issued_at = next(r for r in values if r[3] == "R0003")[10]
    assert issued_at.date() == rows[2]["issued_at"].date()  # a real date, not text
    assert sheet.cell(row=4, column=11).number_format == "yyyy-mm-dd hh:mm"


def test_holdings_table_lists_only_what_people_hold(issued, rifleman):
    table = holdings_table(Item.objects.all())
    rows = list(table.rows)
    assert [(r["national_id"], r["serial"], r["issue_kind"]) for r in rows] == [
        (rifleman.national_id, "R0003", "assignment")
    ]


def test_variances_table_carries_each_resolution_status(armory, counter, counter_user):
    count = start_count(
        actor=armory["armorer"], site=armory["vault"], counter=counter_user, category="firearm"
    )
    record_count(actor=counter, count=count, serials=[f"R{n:04d}" for n in range(1, 10)])
    close_count(actor=counter, count=count)
    table = variances_table(variance_report(count))
    data, _, _ = table_bytes(table.columns, table.rows, "csv")
    read = _csv_rows(data)
    assert read[1][2:5] + read[1][8:9] == ["missing", "VPR-223", "R0010", "open"]


def test_cyrillic_and_formula_like_text_survive_both_formats():
    columns = [("name", "Прізвище"), ("note", "Примітка")]
    rows = [{"name": "Коваль Петро", "note": '=HYPERLINK("x")'}]
    read = _csv_rows(table_bytes(columns, rows, "csv")[0])
    assert read == [["Прізвище", "Примітка"], ["Коваль Петро", '\'=HYPERLINK("x")']]
    sheet = load_workbook(io.BytesIO(table_bytes(columns, rows, "xlsx")[0])).active
    assert [c.value for c in sheet[2]] == ["Коваль Петро", '=HYPERLINK("x")']
    assert sheet["B2"].data_type == "s"  # stored as text, never run as a formula


def test_document_command_writes_each_pdf(issued, tmp_path):
    from django.core.management import call_command

    out = tmp_path / "history.pdf"
    call_command("document", "item-history", "R0003", "--out", str(out))
    assert "custody.issued" in pdf_text(out.read_bytes(), tmp_path)
    labels = tmp_path / "labels.pdf"
    call_command("document", "labels", "--site", "ARM-1", "--out", str(labels))
    assert "VPR-223 R0010" in pdf_text(labels.read_bytes(), tmp_path)
    table = tmp_path / "items.xlsx"
    call_command("document", "table", "items", "--format", "xlsx", "--out", str(table))
    assert load_workbook(table).active.max_row == 11
