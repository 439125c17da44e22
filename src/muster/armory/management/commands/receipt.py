"""muster receipt PERSON --out FILE.pdf: a volunteer's hand receipt to print and sign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from muster.armory.receipt_pdf import hand_receipt_pdf
from muster.armory.receipts import hand_receipt
from muster.core.management.base import MusterCommand
from muster.people.selectors import person_by_national_id


class Command(MusterCommand):
    help = (
        "Write a volunteer's hand receipt as a PDF: what they hold now, signature lines, and a "
        "QR code per item with the log's proof of its custody entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person", help="the volunteer's national identifier")
        parser.add_argument(
            "--out",
            type=Path,
            metavar="FILE.pdf",
            help="where to write it (default: hand-receipt-PERSON.pdf here)",
        )

    def run(self, *args: Any, **options: Any) -> None:
        person = person_by_national_id(options["person"])
        receipt = hand_receipt(person)
        pdf = hand_receipt_pdf(receipt)
        path: Path = options["out"] or Path(f"hand-receipt-{person.national_id}.pdf")
        path.write_bytes(pdf.data)
        held = (
            "holds nothing"
            if receipt.holds_nothing
            else f"{len(receipt.items)} item(s), {len(receipt.lots)} lot(s)"
        )
        proved = "".join(
            f", proved against {c.origin} at {c.size:,} entries" for c in receipt.checkpoints
        )
        self.stdout.write(
            f"wrote {path}: hand receipt of {person.full_name} ({person.national_id}), {held}"
            f"{proved}; {pdf.pages} page(s)"
        )
