"""The hand receipt: a PDF the holder signs, listing what they hold, with a QR code per item that
holds the offline proof that its issue is in the log, which an auditor checks with the log's
public key alone."""

from __future__ import annotations

import json
import subprocess

import pytest
import segno
from django.core.management import CommandError, call_command
from test_cli import muster

from muster.armory.receipt_pdf import hand_receipt_pdf, proof_codes
from muster.armory.receipts import hand_receipt
from muster.armory.selectors import item_by_serial
from muster.armory.services.ammunition import issue_ammunition, receive_lot
from muster.armory.services.catalogue import NewItem, receive_items
from muster.armory.services.custody import issue_items
from muster.documents import qr
from muster.journal import log
from muster.vetting.services import NewQualification, award_qualifications
from muster_verify.cli import main as verify_main
from muster_verify.note import parse_verifier_key
from muster_verify.proof import parse_proof, verify_proof

ORIGIN = "muster.test/log"


@pytest.fixture(autouse=True)
def _signing_key(settings, tmp_path):
    settings.LOG_KEY_FILE = tmp_path / "log.key"
    settings.LOG_ORIGIN = ORIGIN


@pytest.fixture
def holder(armory, rifleman, actor, today):
    """The rifleman holds a rifle on assignment, a radio for a shift, and 60 rounds."""
    award_qualifications(
        actor=actor,
        awards=[NewQualification(person=rifleman, type_code="radio_operator", obtained_on=today)],
    )
    receive_items(
        actor=armory["armorer"],
        site=armory["vault"],
        reference="SHIP-RADIO",
        items=[NewItem("RAD-DMR", "DMR-0007")],
    )
    parties = {"actor": armory["armorer"], "second": armory["commander"], "person": rifleman}
    for serial, kind, hours in [("R0003", "assignment", None), ("DMR-0007", "checkout", 8)]:
        outcome = issue_items(
            **parties, item_ids=[item_by_serial(serial).pk], kind=kind, hours=hours
        )
        assert outcome.issued, outcome.refusals
    lot = receive_lot(
        actor=armory["armorer"],
        site=armory["vault"],
        model_code="AMM-556",
        lot_number="L-2026-07",
        quantity=1000,
        reference="SHIP-AMMO",
    )
    issue_ammunition(**parties, lot=lot, site=armory["vault"], quantity=60)
    return rifleman


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_receipt_names_the_holder_every_item_and_lot_and_the_signed_checkpoint(
    holder, tmp_path
):
    receipt = hand_receipt(holder)

    text = pdf_text(hand_receipt_pdf(receipt).data, tmp_path)

    assert "Hand receipt" in text
    assert holder.full_name in text and holder.national_id in text and "R1-B1-C1" in text
    assert "R0003" in text and "DMR-0007" in text
    assert "L-2026-07" in text and "60" in text
    (checkpoint,) = receipt.checkpoints
    assert checkpoint.origin == ORIGIN
    assert ORIGIN in text and checkpoint.root_base64 in text
    assert "I acknowledge that I hold" in text and "Issuing armorer" in text


def test_each_code_holds_exactly_the_proof_of_the_items_issue_and_it_verifies(holder, monkeypatch):
    encoded = []
    make = segno.make

    def spy(content, *args, **kwargs):
        encoded.append(content)
        return make(content, *args, **kwargs)

    monkeypatch.setattr(qr.segno, "make", spy)
    receipt = hand_receipt(holder)

    codes = proof_codes(receipt)

    verifier = parse_verifier_key(log.verifier_key())
    assert [c.proved.item.serial for c in codes] == ["R0003", "DMR-0007"]
    assert encoded == [c.proved.proof_text.encode("utf-8") for c in codes]
    for code, data in zip(codes, encoded, strict=True):
        item = item_by_serial(code.proved.item.serial)
        proof = parse_proof(data.decode("utf-8"))
        checkpoint = verify_proof(proof, verifier)
        entry = json.loads(proof.entry)
        assert checkpoint.origin == ORIGIN
        assert proof.index == entry["seq"] == item.last_seq
        assert entry["kind"] == "custody.issued" == code.proved.kind
        assert entry["data"]["serial"] == item.serial
        assert entry["data"]["to_person"] == holder.national_id
        assert code.code.version <= 40
        assert code.code.size_mm == pytest.approx(code.code.modules * qr.MODULE_MM)
    assert qr.MODULE_MM >= 0.33


def test_a_code_saved_to_a_file_passes_the_command_the_receipt_names(holder, tmp_path, capsys):
    (proved, _) = hand_receipt(holder).items
    proof = tmp_path / "code.txt"
    proof.write_text(proved.proof_text, encoding="utf-8")
    key = tmp_path / "log.pub"
    key.write_text(log.verifier_key() + "\n")

    status = verify_main([str(proof), "--key", str(key)])

    assert status == 0, capsys.readouterr().err
    text = " ".join(pdf_text(hand_receipt_pdf(hand_receipt(holder)).data, tmp_path).split())
    assert "check it with muster-verify FILE --key KEY" in text


def test_a_person_who_holds_nothing_gets_a_receipt_saying_so(armory, make_person, tmp_path):
    person = make_person(national_id="VD50000099")

    receipt = hand_receipt(person)
    pdf = hand_receipt_pdf(receipt)

    assert receipt.holds_nothing and receipt.checkpoints == []
    assert pdf.pages == 1
    text = " ".join(pdf_text(pdf.data, tmp_path).split())
    assert f"{person.full_name} holds nothing" in text


def test_a_proof_too_long_for_a_qr_code_is_refused_naming_the_item(armory, rifleman):
    issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        item_ids=[item_by_serial("R0004").pk],
        kind="checkout",
        hours=8,
        purpose="range day " * 300,  # the purpose is in the entry, and so in the proof
    )

    with pytest.raises(qr.DocumentError, match=r"item VPR-223 R0004, qr: its [\d,]+ bytes do not"):
        hand_receipt_pdf(hand_receipt(rifleman))


def test_a_qr_code_holds_up_to_2953_bytes():
    assert qr.qr_code("x" * qr.MAX_BYTES, record="test").version == 40
    with pytest.raises(qr.DocumentError, match="test, qr: its 2,954 bytes"):
        qr.qr_code("x" * (qr.MAX_BYTES + 1), record="test")


def test_the_command_writes_the_receipt_and_says_how_much_it_holds(holder, tmp_path):
    out = tmp_path / "receipt.pdf"

    status, stdout, _ = muster("receipt", holder.national_id, "--out", out)

    assert status == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert f"wrote {out}" in stdout
    assert "2 item(s), 1 lot(s)" in stdout and f"proved against {ORIGIN}" in stdout
    assert "2 page(s)" in stdout


def test_the_command_refuses_an_unknown_person_and_an_unwritable_file(holder, tmp_path):
    status, _, stderr = muster("receipt", "VD00000000", "--out", tmp_path / "r.pdf")

    assert status == 2 and "no volunteer has this identifier" in stderr
    assert not (tmp_path / "r.pdf").exists()

    with pytest.raises(CommandError, match=r"no-such-dir/r\.pdf: No such file or directory"):
        call_command("receipt", holder.national_id, "--out", tmp_path / "no-such-dir" / "r.pdf")
