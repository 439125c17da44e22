"""The hand receipt as a PDF to print and sign: holdings, signature lines, then one QR code per
item holding the proof that its custody entry is in the log."""

from __future__ import annotations

from dataclasses import dataclass

from muster.armory.receipts import HandReceipt, ProvedItem
from muster.documents.pdf import Pdf, render_document
from muster.documents.qr import MODULE_MM, PrintedCode, qr_code


@dataclass(frozen=True)
class ProofCode:
    proved: ProvedItem
    code: PrintedCode


def proof_codes(receipt: HandReceipt) -> list[ProofCode]:
    """A QR code of each item's tlog-proof text; a proof too long for one names its item."""
    return [
        ProofCode(p, qr_code(p.proof_text, record=f"item {p.item.model.code} {p.item.serial}"))
        for p in receipt.items
    ]


def hand_receipt_pdf(receipt: HandReceipt) -> Pdf:
    codes = proof_codes(receipt)
    return render_document(
        "armory/hand_receipt.html",
        {
            "receipt": receipt,
            "person": receipt.person,
            "codes": codes,
            "module_mm": MODULE_MM,
            # The codes differ in size; their descriptions line up beside the largest.
            "code_column_mm": max((c.code.size_mm for c in codes), default=0),
        },
    )
