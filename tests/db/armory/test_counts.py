"""Inventory counts: an independent counter counts the arms room blind, the variance report
names every difference, and each one is closed by an authorised entry."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import muster.policy
from muster.accounts.models import User
from muster.armory.count_selectors import count_sheet, variance_report
from muster.armory.models import (
    CountRecord,
    Incident,
    InventoryCount,
    Lot,
    LotBalance,
    QuotaUsage,
    SiteCustodian,
    Variance,
)
from muster.armory.selectors import holdings_of, item_by_serial, item_history
from muster.armory.services.ammunition import receive_lot
from muster.armory.services.counts import close_count, record_count, resolve_variance, start_count
from muster.armory.services.custody import issue_items
from muster.core.actors import Actor
from muster.core.errors import CustodyError
from muster.journal.models import JournalEntry
from muster.journal.services import Change
from muster.policy.services import load_policy

PASSWORD = "correct horse battery staple"  # every user's password in the armory fixture
NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()
LOT = "L-2026-01"


@pytest.fixture
def counters(armory):
    return [User.objects.create_user(username=f"counter{n}", password=PASSWORD) for n in (1, 2)]


@pytest.fixture
def stocked(armory, rifleman, actor):
    """The vault holds R0001–R0010 and 1,000 rounds of one lot; R0002 is issued to the rifleman."""
    receive_lot(
        actor=armory["armorer"],
        site=armory["vault"],
        model_code="AMM-556",
        lot_number=LOT,
        quantity=1000,
        reference="SHIP-A01",
    )
    issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        item_ids=[item_by_serial("R0002").pk],
    )
    return armory


def as_actor(user):
    return Actor.for_user(user)


def lines(variances):
    return {(v.kind, v.serial or v.lot.lot_number, v.expected, v.counted) for v in variances}


def counted_vault(armory, counter, *, extra=()):
    """A blind count of the vault: R0010 not there, R0002 there after all, an unknown serial,
    and the lot 20 rounds short."""
    count = start_count(
        actor=armory["armorer"], site=armory["vault"], counter=counter, category=None
    )
    present = [f"R{n:04d}" for n in range(1, 10) if n != 2]
    record_count(
        actor=as_actor(counter),
        count=count,
        serials=[*present, "R0002", "ZZ-999", *extra],
        lots=[(LOT, 980)],
    )
    return count


def test_a_blind_count_reports_exactly_the_missing_unexpected_mislocated_and_short(
    stocked, counters
):
    count = counted_vault(stocked, counters[0], extra=["R0001"])  # R0001 seen twice counts once
    assert count.blind
    sheet = count_sheet(count)
    assert sheet.expected_serials is None and sheet.expected_lots is None
    assert "R0002" in sheet.serials and sheet.lots == ((f"AMM-556:{LOT}", 980),)

    variances = close_count(actor=as_actor(counters[0]), count=count)

    assert lines(variances) == {
        ("missing", "R0010", 1, 0),
        ("mislocated", "R0002", 0, 1),
        ("unexpected", "ZZ-999", 0, 1),
        ("quantity", LOT, 1000, 980),
    }
    mislocated = next(v for v in variances if v.kind == "mislocated")
    assert mislocated.item == item_by_serial("R0002")
    assert "issued to VD50000001" in mislocated.detail
    assert InventoryCount.objects.get().status == "closed"
    closed = JournalEntry.objects.get(kind="count.closed")
    assert closed.subject_id == str(count.pk)
    assert lines(variance_report(count)) == lines(variances)


def test_a_category_count_looks_at_that_category_only(stocked, counters):
    count = start_count(
        actor=stocked["armorer"], site=stocked["vault"], counter=counters[0], category="firearm"
    )
    with pytest.raises(CustodyError, match="is ammunition; this count is of firearm"):
        record_count(actor=as_actor(counters[0]), count=count, lots=[(LOT, 980)])
    record_count(
        actor=as_actor(counters[0]), count=count, serials=[f"R{n:04d}" for n in range(1, 11)]
    )
    variances = close_count(actor=stocked["armorer"], count=count)
    assert lines(variances) == {("mislocated", "R0002", 0, 1)}


def test_closing_twice_is_refused_and_writes_nothing(stocked, counters):
    count = counted_vault(stocked, counters[0])
    close_count(actor=as_actor(counters[0]), count=count)
    entries, variances = JournalEntry.objects.count(), Variance.objects.count()
    with pytest.raises(CustodyError, match="already closed by counter1"):
        close_count(actor=as_actor(counters[0]), count=count)
    assert (JournalEntry.objects.count(), Variance.objects.count()) == (entries, variances)


def test_the_custodian_may_not_count_their_own_site(stocked, counters):
    SiteCustodian.objects.create(site=stocked["vault"], user=counters[0], since="2026-01-15")
    with pytest.raises(CustodyError, match="counter1 is a custodian of ARM-1"):
        start_count(
            actor=stocked["armorer"], site=stocked["vault"], counter=counters[0], category=None
        )
    assert not InventoryCount.objects.exists()


def test_the_previous_counter_may_not_count_again(stocked, counters):
    close_count(actor=stocked["armorer"], count=counted_vault(stocked, counters[0]))
    with pytest.raises(CustodyError, match="counter1 did the previous count of ARM-1"):
        start_count(
            actor=stocked["armorer"], site=stocked["vault"], counter=counters[0], category=None
        )
    start_count(actor=stocked["armorer"], site=stocked["vault"], counter=counters[1], category=None)


def test_a_policy_may_let_the_custodian_count(stocked, counters, actor):
    lenient = NATIONAL.replace('version: "2026.1"', 'version: "2026.1-lenient"').replace(
        "counter_may_be_custodian: false", "counter_may_be_custodian: true"
    )
    load_policy(actor=actor, text=lenient, source="lenient.yaml")
    SiteCustodian.objects.create(site=stocked["vault"], user=counters[0], since="2026-01-15")
    count = start_count(
        actor=stocked["armorer"], site=stocked["vault"], counter=counters[0], category=None
    )
    assert count.counter == counters[0]


def test_a_blind_policy_cannot_be_overridden_and_scopes_do_not_overlap(stocked, counters):
    with pytest.raises(CustodyError, match=r"counts\.blind is true"):
        start_count(
            actor=stocked["armorer"],
            site=stocked["vault"],
            counter=counters[0],
            category=None,
            blind=False,
        )
    count = start_count(
        actor=stocked["armorer"], site=stocked["vault"], counter=counters[0], category="firearm"
    )
    for category in (None, "firearm"):
        with pytest.raises(CustodyError, match=f"count {count.pk} of firearm .* is still open"):
            start_count(
                actor=stocked["armorer"],
                site=stocked["vault"],
                counter=counters[1],
                category=category,
            )


def test_only_someone_authorised_at_the_site_orders_a_count(stocked, counters):
    with pytest.raises(CustodyError, match="clerk may not order a count at ARM-1"):
        start_count(
            actor=stocked["clerk"], site=stocked["vault"], counter=counters[0], category=None
        )


def test_only_the_assigned_counter_records_and_only_while_open(stocked, counters):
    count = start_count(
        actor=stocked["armorer"], site=stocked["vault"], counter=counters[0], category=None
    )
    for intruder in (stocked["armorer"], as_actor(counters[1])):
        with pytest.raises(CustodyError, match=r"only the assigned counter \(counter1\)"):
            record_count(actor=intruder, count=count, serials=["R0001"])
    assert not CountRecord.objects.exists()
    close_count(actor=as_actor(counters[0]), count=count)
    with pytest.raises(CustodyError, match="is closed"):
        record_count(actor=as_actor(counters[0]), count=count, serials=["R0001"])


def test_reported_lost_opens_an_incident_and_the_item_leaves_stock(stocked, counters):
    variances = close_count(actor=as_actor(counters[0]), count=counted_vault(stocked, counters[0]))
    missing = next(v for v in variances if v.kind == "missing")

    resolve_variance(
        actor=stocked["armorer"],
        second=stocked["commander"],
        variance=missing,
        resolution="reported_lost",
        note="not in rack 3; last seen at the range on Friday",
    )

    item = item_by_serial("R0010")
    assert item.place == "lost"
    incident = Incident.objects.get(kind="loss")
    assert list(incident.items.all()) == [item]
    assert "R0010" in JournalEntry.objects.get(kind="variance.resolved").body
    assert Variance.objects.get(pk=missing.pk).resolution == "reported_lost"
    assert [e.kind for e in item_history(item)][-1] == "custody.reported_lost"


def test_a_variance_is_resolved_once(stocked, counters):
    variances = close_count(actor=as_actor(counters[0]), count=counted_vault(stocked, counters[0]))
    missing = next(v for v in variances if v.kind == "missing")
    resolve_variance(
        actor=stocked["armorer"],
        second=stocked["commander"],
        variance=missing,
        resolution="found",
        note="it was in the cleaning room",
    )
    entries = JournalEntry.objects.count()
    with pytest.raises(CustodyError, match="already resolved as found by armorer"):
        resolve_variance(
            actor=stocked["armorer"],
            second=stocked["commander"],
            variance=missing,
            resolution="reported_lost",
            note="changed my mind",
        )
    assert JournalEntry.objects.count() == entries
    assert item_by_serial("R0010").place == "site"


def test_resolutions_need_authority_and_fit_the_variance(stocked, counters):
    variances = close_count(actor=as_actor(counters[0]), count=counted_vault(stocked, counters[0]))
    missing = next(v for v in variances if v.kind == "missing")
    with pytest.raises(CustodyError, match="two-person rule"):
        resolve_variance(
            actor=stocked["armorer"], second=None, variance=missing, resolution="found", note="x"
        )
    with pytest.raises(CustodyError, match="clerk may not authorise"):
        resolve_variance(
            actor=stocked["clerk"],
            second=stocked["commander"],
            variance=missing,
            resolution="found",
            note="x",
        )
    with pytest.raises(
        CustodyError, match="missing variance is resolved as found or reported_lost"
    ):
        resolve_variance(
            actor=stocked["armorer"],
            second=stocked["commander"],
            variance=missing,
            resolution="correction",
            note="x",
        )
    assert not Variance.objects.exclude(resolution="").exists()


def test_a_correction_moves_a_mislocated_item_to_where_it_was_counted(stocked, counters, rifleman):
    variances = close_count(actor=as_actor(counters[0]), count=counted_vault(stocked, counters[0]))
    mislocated = next(v for v in variances if v.kind == "mislocated")
    assert QuotaUsage.objects.get().issued == 1

    resolve_variance(
        actor=stocked["armorer"],
        second=stocked["commander"],
        variance=mislocated,
        resolution="correction",
        note="returned at shift end without a return entry",
    )

    item = item_by_serial("R0002")
    assert (item.place, item.site, item.holder) == ("site", stocked["vault"], None)
    assert holdings_of(rifleman).items == []
    assert QuotaUsage.objects.get().issued == 0
    assert [e.kind for e in item_history(item)][-1] == "custody.corrected"


def test_an_unexpected_serial_is_closed_by_a_correction_entry(stocked, counters):
    variances = close_count(actor=as_actor(counters[0]), count=counted_vault(stocked, counters[0]))
    unexpected = next(v for v in variances if v.kind == "unexpected")
    resolve_variance(
        actor=stocked["armorer"],
        second=stocked["commander"],
        variance=unexpected,
        resolution="correction",
        note="misread: ZZ-999 is the rack number",
    )
    assert Variance.objects.get(pk=unexpected.pk).resolution == "correction"


def test_a_lot_shortfall_reported_lost_keeps_the_lot_reconciled(stocked, counters):
    variances = close_count(actor=as_actor(counters[0]), count=counted_vault(stocked, counters[0]))
    short = next(v for v in variances if v.kind == "quantity")
    resolve_variance(
        actor=stocked["armorer"],
        second=stocked["commander"],
        variance=short,
        resolution="reported_lost",
        note="one box of 20 not found",
    )
    lot = Lot.objects.get(lot_number=LOT)
    balance = LotBalance.objects.get(lot=lot, site=stocked["vault"]).quantity
    assert (balance, lot.written_off_total) == (980, 20)
    assert lot.received_total - lot.expended_total - lot.written_off_total == balance
    assert Incident.objects.get(kind="loss").summary.startswith("20 of lot L-2026-01")


def run(monkeypatch, user, *args):
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    monkeypatch.setenv("MUSTER_SECOND_PASSWORD", PASSWORD)
    out = StringIO()
    call_command("count", *args, "--user", user, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_count_command_runs_a_count_end_to_end(stocked, counters, monkeypatch, tmp_path):
    started = run(monkeypatch, "armorer", "start", "--site", "ARM-1", "--counter", "counter1")
    count_id = started.split()[1]
    assert "blind" in started
    sheet = tmp_path / "rack.txt"
    sheet.write_text("\n".join(f"R{n:04d}" for n in range(1, 10)) + "\n\n")
    recorded = run(
        monkeypatch,
        "counter1",
        "record",
        count_id,
        "ZZ-999",
        "--file",
        str(sheet),
        "--lot",
        f"{LOT}=980",
    )
    assert "11 record(s)" in recorded
    out = StringIO()
    call_command("count", "show", count_id, stdout=out)
    assert "blind count: the expected list is not shown" in out.getvalue()

    closed = run(monkeypatch, "counter1", "close", count_id)
    assert "4 variance(s)" in closed
    missing = Variance.objects.get(kind="missing")
    resolved = run(
        monkeypatch,
        "armorer",
        "resolve",
        str(missing.pk),
        "--as",
        "found",
        "--note",
        "in the cleaning room",
        "--second",
        "commander",
    )
    assert f"variance {missing.pk} resolved as found" in resolved
    out = StringIO()
    call_command("count", "show", count_id, stdout=out)
    assert "found by armorer" in out.getvalue()

    with pytest.raises(CommandError) as refused:
        run(monkeypatch, "counter1", "close", count_id)
    assert refused.value.returncode == 2


def test_a_count_with_many_variances_is_journaled_in_parts_that_fit_the_log(stocked, counters):
    from muster.armory.services.catalogue import NewItem, receive_items
    from muster.journal.services import MAX_ENTRY_BYTES

    receive_items(
        actor=stocked["armorer"],
        site=stocked["vault"],
        reference="SHIP-BIG",
        items=[NewItem("RAD-DMR", f"RADIO-{n:05d}-" + "X" * 60) for n in range(1_000)],
    )
    count = start_count(
        actor=stocked["armorer"], site=stocked["vault"], counter=counters[0], category=None
    )
    variances = close_count(actor=as_actor(counters[0]), count=count)  # nothing counted

    entries = list(
        JournalEntry.objects.filter(
            subject_type="count", kind__in=["count.closed", "count.lines"]
        ).order_by("seq")
    )
    assert len(entries) > 1
    assert [e.kind for e in entries] == ["count.closed"] + ["count.lines"] * (len(entries) - 1)
    assert all(len(e.body.encode()) <= MAX_ENTRY_BYTES for e in entries)
    journaled = [line for e in entries for line in json.loads(e.body)["data"]["lines"]]
    assert len(journaled) == len(variances) == 1_000 + 9 + 1  # radios, rifles on the rack, the lot
    assert json.loads(entries[0].body)["data"]["parts"] == len(entries)


def test_many_serials_recorded_at_once_are_journaled_in_parts_that_fit_the_log(stocked, counters):
    from muster.journal.services import MAX_ENTRY_BYTES

    count = start_count(
        actor=stocked["armorer"], site=stocked["vault"], counter=counters[0], category=None
    )
    # 80 characters of four bytes each: the longest serials there can be
    serials = [f"{n:05d}" + "𝔸" * 75 for n in range(1_000)]

    written = record_count(
        actor=as_actor(counters[0]), count=count, serials=serials, lots=[(LOT, 980)]
    )

    entries = list(JournalEntry.objects.filter(kind="count.recorded").order_by("seq"))
    bodies = [json.loads(e.body)["data"] for e in entries]
    assert written == 1_001 and len(entries) > 5
    assert all(len(e.body.encode()) <= MAX_ENTRY_BYTES for e in entries)
    assert [serial for body in bodies for serial in body["serials"]] == serials
    assert [(b["part"], b["parts"]) for b in bodies] == [
        (n, len(entries)) for n in range(1, len(entries) + 1)
    ]
    assert [b["lots"] for b in bodies] == [[[f"AMM-556:{LOT}", 980]]] + [[]] * (len(entries) - 1)


def test_an_entry_too_large_for_the_log_is_refused(db, actor):
    from django.db import transaction

    from muster.core.errors import DomainError
    from muster.journal.services import record_change

    with pytest.raises(DomainError, match="an entry holds at most 65,535"), transaction.atomic():
        record_change(actor=actor, change=Change("test.big", "test", 1, {"x": "y" * 70_000}))
    assert not JournalEntry.objects.filter(kind="test.big").exists()
