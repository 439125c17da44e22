"""The armorer at the command line: loading the catalogue, receiving a shipment, issuing with the
commander confirming, taking back, and reading an item's history and a volunteer's holdings."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

import muster.armory
import muster.policy
from muster.accounts.models import User
from muster.armory.models import EquipmentModel, Incident, Item, LotBalance, Shipment, Site
from muster.armory.services.custody import Returned, issue_items, return_items
from muster.journal.models import JournalEntry
from muster.people.services import change_status
from muster.policy.services import load_policy

EXAMPLE = Path(muster.armory.__file__).parent / "examples" / "catalogue.yaml"
NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()
HEADER = "model;serial;registration;condition"
PASSWORD = "correct horse battery staple"  # every user's password in the armory fixture


@pytest.fixture
def armorer(armory, monkeypatch):
    """The armorer is signed in; the commander is at hand to confirm with their own password."""
    monkeypatch.setenv("MUSTER_USER", "armorer")
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    monkeypatch.setenv("MUSTER_SECOND_PASSWORD", PASSWORD)
    return armory


def muster(*args):
    """Run a command as `muster` would: (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*map(str, args), stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def journal_size():
    return JournalEntry.objects.count()


def write(tmp_path, name, *lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def place_of(serial):
    return Item.objects.get(serial=serial).place


# Catalogue and sites ---------------------------------------------------------------------------


def test_catalogue_load_refuses_a_30_round_civilian_rifle_citing_the_rule_and_loads_nothing(
    armorer, tmp_path
):
    catalogue = write(
        tmp_path,
        "catalogue.yaml",
        "categories:",
        "  - {code: firearm, name: Firearms, tracking: serialized}",
        "models:",
        "  - {code: RFL-10, name: Rifle with 10-round magazine, category: firearm,",
        "     legal_class: civilian_rifle, weapon_class: rifle,",
        "     attributes: {calibre: 5.56x45, magazine_capacity: 10}}",
        "  - {code: RFL-30, name: Rifle with 30-round magazine, category: firearm,",
        "     legal_class: civilian_rifle, weapon_class: rifle,",
        "     attributes: {calibre: 5.56x45, magazine_capacity: 30}}",
    )
    before = journal_size()

    status, _, err = muster("catalogue", "load", catalogue)

    assert status == 2
    assert (
        "catalogue.yaml, models[1].attributes.magazine_capacity: model RFL-30: "
        "national@2026.1 legal_limits[0]: at most 10 for a civilian_rifle" in err
    )
    assert "(value '30')" in err
    assert not EquipmentModel.objects.filter(code__in=["RFL-10", "RFL-30"]).exists()
    assert journal_size() == before


def test_catalogue_file_faults_are_named_by_their_path(armorer, tmp_path):
    catalogue = write(
        tmp_path,
        "catalogue.yaml",
        "categories:",
        "  - {code: sidearm, name: Sidearms, tracking: by_weight}",
        "models:",
        "  - {code: RFL-X, name: Rifle, category: firearm, colour: black,",
        "     attributes: {calibre: 5.56}}",
        "  - {code: RFL-X, name: Rifle again, category: firearm}",
    )
    status, _, err = muster("catalogue", "load", catalogue)
    assert status == 2
    assert "categories[0].tracking: must be one of 'serialized' or 'quantity'" in err
    assert "models[0].colour: extra field not allowed" in err
    assert "models[0].attributes.calibre: a decimal must be quoted as text (e.g. '5.56')" in err
    assert "models[1].code: appears again (first at models[0])" in err


def test_the_example_catalogue_loads_once_and_reloading_changes_nothing(org, actor, monkeypatch):
    load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")
    User.objects.create_user(username="quartermaster", password=PASSWORD)
    monkeypatch.setenv("MUSTER_USER", "quartermaster")
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)

    status, out, _ = muster("catalogue", "load", EXAMPLE)

    assert status == 0
    assert "categories: 9 defined, 0 unchanged; models: 21 registered, 0 unchanged" in out
    rifle = EquipmentModel.objects.get(code="RFL-556")
    assert (rifle.target, rifle.attributes["magazine_capacity"]) == ("firearm/rifle", 10)
    before = journal_size()

    status, out, _ = muster("catalogue", "load", EXAMPLE)

    assert status == 0
    assert "categories: 0 defined, 9 unchanged; models: 0 registered, 21 unchanged" in out
    assert journal_size() == before
    _, shown, _ = muster("catalogue", "show", "--category", "counter_drone")
    assert "Handheld counter-drone jammer, 2.4/5.8 GHz" in shown


def test_a_model_registered_differently_is_refused_not_rewritten(armorer):
    before = (EquipmentModel.objects.count(), journal_size())

    status, _, err = muster("catalogue", "load", EXAMPLE)

    assert status == 2  # the armory's AMM-556 is named "5.56x45 ball", the file says otherwise
    assert (
        "catalogue.yaml, models[6].name: model AMM-556 is already in the catalogue with a "
        "different value; a registered model is never changed by loading a file" in err
    )
    assert EquipmentModel.objects.get(code="AMM-556").name == "5.56x45 ball"
    assert (EquipmentModel.objects.count(), journal_size()) == before


def test_site_create_and_list(armorer):
    status, out, _ = muster(
        "site", "create", "ARM-2", "2nd Battalion arms room", "--unit", "R1-B1",
        "--security", "vault", "--certified-on", "2026-01-10", "--expires", "2027-01-10",
        "--capacity", "firearm=20", "ammunition=5000", "--custodian", "armorer",
    )  # fmt: skip
    assert status == 0 and "created site ARM-2" in out
    site = Site.objects.get(code="ARM-2")
    assert [c.user.username for c in site.custodians.all()] == ["armorer"]
    _, listing, _ = muster("site", "list")
    assert "ARM-2" in listing and "firearm=20" in listing and "ARM-1" in listing

    status, _, err = muster(
        "site", "create", "ARM-3", "Shed", "--unit", "R1-B1", "--security", "shed",
        "--certified-on", "2026-01-10",
    )  # fmt: skip
    assert status == 2 and "security_level: national@2026.1 security_levels: one of" in err


# Receiving a shipment ----------------------------------------------------------------------------


def test_items_import_is_all_or_nothing_and_names_line_and_column(armorer, tmp_path):
    packing_list = write(
        tmp_path,
        "shipment.csv",
        HEADER,
        "VPR-223;R0101;;",
        "VPR-999;R0102;;",
        "VPR-223;R0101;;",
        "VPR-223;R0001;;",
        "VPR-223;R0103;;broken",
        "AMM-556;L-1;;",
        "VPR-223;;;",
    )
    items, before = Item.objects.count(), journal_size()

    status, out, err = muster(
        "items", "import", packing_list, "--site", "ARM-1", "--reference", "SHIP-002"
    )

    assert status == 2
    assert "items: refused, 6 row(s) have problems; nothing received" in out
    for line in (
        "line 3, model: no model in the catalogue has this code (muster catalogue show) (value 'VPR-999')",
        "line 4, serial: appears again in this file for VPR-223 (first on line 2) (value 'R0101')",
        "line 5, serial: is already registered (site ARM-1) (value 'R0001')",
        "line 6, condition: must be one of serviceable, unserviceable, awaiting_inspection (value 'broken')",
        "line 7, model: ammunition is counted by lot, not by serial (muster items receive-lot) (value 'AMM-556')",
        "line 8, serial: is required",
    ):
        assert line in err
    assert (Item.objects.count(), journal_size()) == (items, before)
    assert not Shipment.objects.filter(reference="SHIP-002").exists()


def test_items_import_receives_a_packing_list_in_one_shipment(armorer, tmp_path):
    packing_list = write(
        tmp_path,
        "shipment.csv",
        "Model,Serial number,Condition,Shoe size",
        "VPR-223,R0101,,",
        "vpr-223,R0102,Awaiting inspection,",
        "RAD-DMR,D-0001,,",
    )
    status, out, _ = muster(
        "items", "import", packing_list, "--site", "ARM-1", "--reference", "SHIP-002", "--dry-run"
    )
    assert status == 0 and "3 to create" in out and not Item.objects.filter(serial="R0101").exists()

    status, out, err = muster(
        "items", "import", packing_list, "--site", "ARM-1", "--reference", "SHIP-002"
    )

    assert status == 0
    assert (
        "items: 3 created, 0 updated, 0 unchanged, 0 rejected — into ARM-1 against SHIP-002" in out
    )
    assert "ignored columns: 'Shoe size'" in err
    assert Item.objects.get(serial="R0102").condition == "awaiting_inspection"
    shipment = Shipment.objects.get(reference="SHIP-002")
    assert shipment.received_lines == 3
    received = JournalEntry.objects.filter(
        kind="custody.received", actor="armorer", body__contains='"shipment":"SHIP-002"'
    )
    assert received.count() == 3


def test_items_import_reads_a_workbook_and_skips_invalid_rows_into_a_rejects_file(
    armorer, tmp_path
):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (("model", "serial"), ("RAD-DMR", 1001), ("RAD-DMR", 1002), ("NOPE", 1003)):
        sheet.append(row)
    path = tmp_path / "radios.xlsx"
    book.save(path)
    rejects = tmp_path / "rejects.csv"

    status, out, _ = muster(
        "items", "import", path, "--site", "STORE-1", "--reference", "R-7",
        "--skip-invalid", "--rejects", rejects,
    )  # fmt: skip

    assert status == 0 and "2 created" in out and "1 rejected" in out
    assert set(Item.objects.filter(site__code="STORE-1").values_list("serial", flat=True)) == {
        "1001",
        "1002",
    }
    assert "NOPE;1003;4;model: no model" in rejects.read_text(encoding="utf-8-sig")


def test_a_shipment_that_does_not_fit_the_site_is_refused_whole(armorer, tmp_path):
    rows = [f"VPR-223;X{n:03d};;" for n in range(41)]  # 10 + 41 > capacity 50
    packing_list = write(tmp_path, "big.csv", HEADER, *rows)
    before = journal_size()
    status, _, err = muster(
        "items", "import", packing_list, "--site", "ARM-1", "--reference", "S-3"
    )
    assert status == 2
    assert "ARM-1 holds 10 firearm of a capacity of 50; 41 more would exceed it" in err
    assert journal_size() == before and not Item.objects.filter(serial="X000").exists()

    status, _, err = muster(
        "items", "import", packing_list, "--site", "STORE-1", "--reference", "S-4", "--dry-run"
    )
    assert status == 2 and "firearm needs a site certified vault or better" in err


# Issue and return ------------------------------------------------------------------------------


def test_issue_with_the_second_persons_password_prints_what_and_when_due(armorer, rifleman):
    status, out, _ = muster(
        "issue", "VD50000001", "R0001", "R0002", "--hours", "8", "--purpose", "night patrol",
        "--second", "commander",
    )  # fmt: skip
    assert status == 0
    assert "issued to VD50000001" in out and "by armorer, confirmed by commander" in out
    assert "firearm VPR-223 R0001  due back" in out and "firearm VPR-223 R0002  due back" in out
    item = Item.objects.get(serial="R0001")
    assert (item.place, item.holder, item.issue_kind) == ("person", rifleman, "checkout")
    assert item.due_at is not None and abs(item.due_at - item.issued_at - dt.timedelta(hours=8)) < (
        dt.timedelta(seconds=1)
    )


def test_a_wrong_second_password_is_refused_and_nothing_is_written(armorer, rifleman, monkeypatch):
    monkeypatch.setenv("MUSTER_SECOND_PASSWORD", "not the commander's password")
    before = journal_size()
    status, _, err = muster("issue", "VD50000001", "R0001", "--second", "commander")
    assert status == 2
    assert "second person commander, password: unknown user or wrong password" in err
    # Only the failed sign-in is journaled (the throttle counts it); no custody change.
    added = JournalEntry.objects.filter(seq__gte=before)
    assert list(added.values_list("kind", "subject_type")) == [("user.login_failed", "user")]
    assert place_of("R0001") == "site"


def test_the_acting_users_password_does_not_confirm_for_the_second_person(
    armorer, rifleman, monkeypatch
):
    monkeypatch.delenv("MUSTER_SECOND_PASSWORD")
    status, _, err = muster("issue", "VD50000001", "R0001", "--second", "commander")
    assert status == 2 and "a password is required (prompt, or MUSTER_SECOND_PASSWORD)" in err
    status, _, err = muster("issue", "VD50000001", "R0001")
    assert status == 2 and "the two-person rule applies to firearm" in err
    assert place_of("R0001") == "site"


def test_a_refusal_by_policy_exits_3_with_every_reason_and_is_journaled(armorer, make_person):
    make_person(national_id="VD50000009")  # active, but never trained or assessed
    before = journal_size()

    status, out, _ = muster("issue", "VD50000009", "R0001", "--second", "commander")

    assert status == 3
    lines = out.splitlines()
    assert lines[0].startswith(
        "REFUSED by policy national@2026.1: nothing was issued to VD50000009"
    )
    reasons = [line.strip() for line in lines[1:]]
    assert reasons and all(r.startswith("- categories.firearm.requires[") for r in reasons)
    assert any("firearms_training" in r for r in reasons)
    assert place_of("R0001") == "site"
    assert list(JournalEntry.objects.filter(seq__gte=before).values_list("kind", flat=True)) == [
        "custody.issue_refused"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("issue", "VD50000001", "NOPE"), "item NOPE, serial: no item has this serial number"),
        (("issue", "VD00000000", "R0001"), "person VD00000000, national_id: no volunteer"),
        (
            ("transfer", "dispatch", "--from", "STORE-1", "--to", "ARM-1", "R0001"),
            "item VPR-223 R0001, site: is at ARM-1, not at STORE-1",
        ),
        (("return", "VD50000001", "R0001"), "is not issued to anyone (it is site)"),
        (("history", "R0001", "--model", "RAD-DMR"), "no item has this serial number"),
        (("recover", "R0001", "--site", "ARM-1", "--note", "found"), "is at a storage site"),
        (("dispose", "R0001", "--reason", "worn out", "--second", "armorer"), "different person"),
    ],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_written(armorer, rifleman, args, message):
    before = journal_size()
    status, _, err = muster(*args)
    assert status == 2
    assert message in err
    assert journal_size() == before and place_of("R0001") == "site"


def test_only_the_holder_returns_an_item_and_only_once(armorer, rifleman, make_person):
    make_person(national_id="VD50000003")
    muster("issue", "VD50000001", "R0001", "--second", "commander")
    before = journal_size()

    status, _, err = muster("return", "VD50000003", "R0001", "--second", "commander")
    assert status == 2
    assert "item VPR-223 R0001, holder: is held by VD50000001, not by VD50000003" in err
    assert journal_size() == before and place_of("R0001") == "person"

    status, out, _ = muster(
        "return", "VD50000001", "R0001", "--condition", "unserviceable", "--note", "bent swivel",
        "--second", "commander",
    )  # fmt: skip
    assert status == 0 and "firearm VPR-223 R0001  → ARM-1, unserviceable" in out
    after_return = journal_size()

    status, _, err = muster("return", "VD50000001", "R0001", "--second", "commander")
    assert status == 2 and "is not issued to anyone (it is site); it cannot be returned" in err
    assert journal_size() == after_return


# Reading -------------------------------------------------------------------------------------


def test_history_shows_every_event_oldest_first_with_the_second_person(armorer, rifleman):
    muster("issue", "VD50000001", "R0001", "--second", "commander", "--purpose", "patrol")
    muster("return", "VD50000001", "R0001", "--second", "commander")

    status, out, _ = muster("history", "R0001")

    assert status == 0
    assert "firearm VPR-223 R0001 — now at ARM-1 (serviceable)" in out
    kinds = ["custody.received", "custody.issued", "custody.returned"]
    positions = [out.index(kind) for kind in kinds]
    assert positions == sorted(positions)
    assert "to_person=VD50000001" in out and "commander" in out
    document = json.loads(muster("history", "R0001", "--json")[1])
    assert [e["kind"] for e in document["events"]] == kinds
    seqs = [e["seq"] for e in document["events"]]
    assert seqs == sorted(seqs)
    assert [e["second_person"] for e in document["events"]] == [None, "commander", "commander"]


def test_holdings_list_items_with_kind_and_due_time_and_rounds_by_lot(armorer, rifleman):
    muster("issue", "VD50000001", "R0001", "--second", "commander", "--hours", "6")
    muster("issue", "VD50000001", "R0002", "--second", "commander", "--assignment")
    muster(
        "items", "receive-lot", "--site", "ARM-1", "--model", "AMM-556", "--lot", "L-2026-01",
        "--quantity", "1000", "--reference", "SHIP-A1",
    )  # fmt: skip
    status, out, _ = muster(
        "ammo", "issue", "VD50000001", "--lot", "L-2026-01", "--site", "ARM-1", "--quantity", "60",
        "--second", "commander",
    )  # fmt: skip
    assert status == 0 and "issued 60 of lot L-2026-01 (AMM-556) from ARM-1" in out

    status, out, _ = muster("holdings", "VD50000001")

    assert status == 0
    assert "2 item(s)" in out and "R0001" in out and "R0002" in out
    assert "checkout" in out and "assignment" in out and "L-2026-01" in out
    document = json.loads(muster("holdings", "VD50000001", "--json")[1])
    kinds = {i["serial"]: (i["kind"], i["due_at"] is not None) for i in document["items"]}
    assert kinds == {"R0001": ("checkout", True), "R0002": ("assignment", False)}
    assert document["lots"] == [{"model": "AMM-556", "lot": "L-2026-01", "quantity": 60}]


def test_recalls_name_a_holder_who_was_suspended(armorer, rifleman, actor):
    muster("issue", "VD50000001", "R0001", "--second", "commander")
    assert "nothing to recall" in muster("recalls")[1]
    change_status(
        actor=actor,
        person=rifleman,
        to_status="suspended",
        effective_on=dt.date.today(),
        reason="under investigation",
    )
    document = json.loads(muster("recalls", "--json")[1])
    assert [(r["holder"], r["serial"]) for r in document] == [("VD50000001", "R0001")]
    assert any(r.startswith("categories.firearm.eligible_statuses") for r in document[0]["reasons"])


# The rest of an armorer's week ------------------------------------------------------------------


def test_transfer_maintenance_loss_recovery_ammunition_and_disposal(armorer, rifleman):
    status, _, err = muster("transfer", "dispatch", "--from", "ARM-1", "--to", "STORE-1", "R0003")
    assert status == 2 and "firearm needs a site certified vault or better" in err

    muster(
        "site", "create", "ARM-2", "Depot", "--unit", "R1-B1", "--security", "vault",
        "--certified-on", "2026-01-10",
    )  # fmt: skip
    status, out, _ = muster(
        "transfer", "dispatch", "--from", "ARM-1", "--to", "ARM-2", "R0003", "R0004"
    )
    assert status == 0 and "2 item(s) in transit ARM-1 → ARM-2" in out
    transfer_id = out.split()[1].rstrip(":")
    status, out, _ = muster("transfer", "receive", transfer_id, "R0003")
    assert status == 0 and "NOT ARRIVED VPR-223 R0004" in out
    assert Item.objects.get(serial="R0003").site.code == "ARM-2"
    assert place_of("R0004") == "in_transit" and Incident.objects.count() == 1

    status, _, _ = muster("recover", "R0004", "--site", "ARM-1", "--note", "left on the truck")
    assert status == 0 and Item.objects.get(serial="R0004").condition == "awaiting_inspection"

    status, out, _ = muster(
        "maintenance", "send", "R0005", "--provider", "Arsenal", "--reason", "annual service"
    )
    assert status == 0 and place_of("R0005") == "maintenance"
    status, _, _ = muster("maintenance", "receive", "R0005", "--site", "ARM-1")
    assert status == 0 and place_of("R0005") == "site"

    status, out, _ = muster("lost", "R0006", "--stolen", "--summary", "break-in at the store")
    assert status == 0 and "(theft)" in out and place_of("R0006") == "stolen"

    status, _, err = muster(
        "dispose", "R0007", "--reason", "cracked receiver", "--second", "commander"
    )
    assert status == 0 and place_of("R0007") == "disposed"

    muster(
        "items", "receive-lot", "--site", "ARM-1", "--model", "AMM-556", "--lot", "L-9",
        "--quantity", "100", "--reference", "SHIP-A9",
    )  # fmt: skip
    muster(
        "ammo", "issue", "VD50000001", "--lot", "L-9", "--site", "ARM-1", "--quantity", "50",
        "--second", "commander",
    )  # fmt: skip
    status, _, _ = muster(
        "ammo", "expend", "VD50000001", "--lot", "L-9", "--quantity", "30", "--reason", "range"
    )
    assert status == 0
    status, _, _ = muster(
        "ammo", "return", "VD50000001", "--lot", "L-9", "--site", "ARM-1", "--quantity", "20"
    )
    assert status == 0
    status, _, err = muster(
        "ammo", "return", "VD50000001", "--lot", "L-9", "--site", "ARM-1", "--quantity", "1"
    )
    assert status == 2 and "VD50000001 holds 0 of lot L-9 of AMM-556; 1 cannot be taken" in err
    balances = {
        (b.site_id is not None, b.quantity)
        for b in LotBalance.objects.filter(lot__lot_number="L-9")
    }
    assert balances == {(True, 70), (False, 0)}

    _, listing, _ = muster("items", "list", "--place", "stolen")
    assert "R0006" in listing and "R0001" not in listing


def test_the_ammunition_refusal_exits_3(armorer, make_person):
    make_person(national_id="VD50000009")
    muster(
        "items", "receive-lot", "--site", "ARM-1", "--model", "AMM-556", "--lot", "L-1",
        "--quantity", "100", "--reference", "SHIP-A1",
    )  # fmt: skip
    status, out, _ = muster(
        "ammo", "issue", "VD50000009", "--lot", "L-1", "--site", "ARM-1", "--quantity", "10",
        "--second", "commander",
    )  # fmt: skip
    assert status == 3
    assert "REFUSED by the policy in force: no rounds were issued to VD50000009" in out
    assert "categories.ammunition.requires[0]" in out


# The transparency log -----------------------------------------------------------------------------


def test_log_prove_writes_a_bundle_an_auditor_verifies_with_the_key_alone(
    armory, rifleman, tmp_path, settings
):
    from muster.journal import log
    from muster_verify.note import parse_verifier_key
    from muster_verify.proof import verify_bundle

    settings.LOG_KEY_FILE = tmp_path / "log.key"
    rifle = Item.objects.get(serial="R0001")
    for _ in range(2):
        issue_items(
            actor=armory["armorer"], second=armory["commander"], person=rifleman,
            item_ids=[rifle.pk], kind="checkout", hours=8,
        )  # fmt: skip
        return_items(
            actor=armory["armorer"], second=armory["commander"], person=rifleman,
            returns=[Returned(rifle.pk)],
        )  # fmt: skip
    bundle = tmp_path / "R0001.item-proof"

    status, out, _ = muster("log", "prove", "R0001", "--out", bundle)

    assert status == 0 and "5 event(s) of VPR-223 R0001" in out
    history = verify_bundle(bundle.read_text(), parse_verifier_key(log.verifier_key()))
    kinds = [e["kind"] for e in history.events]
    assert kinds == ["custody.received", *["custody.issued", "custody.returned"] * 2]
    assert history.checkpoint.size == JournalEntry.objects.count()
    assert len(bundle.read_bytes()) < 4096 * len(kinds)
