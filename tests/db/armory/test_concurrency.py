"""Many armorers at once: what InvenTree let through must be impossible here.

Each race starts its threads at a barrier so that they really contend; every thread has its own
database connection and closes it at the end. On PostgreSQL the row locks and conditional
UPDATEs decide the race; on SQLite writers queue behind BEGIN IMMEDIATE. Either way exactly the
right number of requests win, the rest get a clear answer, and the journal shows only the winners.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum

import muster.policy
from muster.armory.models import Item, Lot, LotBalance, QuotaUsage, Transfer
from muster.armory.selectors import item_by_serial
from muster.armory.services.ammunition import (
    _take,
    expend_ammunition,
    issue_ammunition,
    receive_lot,
)
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.common import apply_custody, lock_items
from muster.armory.services.custody import Returned, issue_items, return_items
from muster.armory.services.movements import (
    dispatch_transfer,
    report_missing,
    send_to_maintenance,
)
from muster.core.errors import CustodyError
from muster.journal.models import JournalEntry
from muster.policy.services import load_policy

NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()

pytestmark = pytest.mark.django_db(transaction=True)


def race(n: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """Run work(0) … work(n-1) in n threads released together; ("ok", result) or ("error", exc)."""
    barrier = threading.Barrier(n)
    results: list[tuple[str, Any]] = [("error", RuntimeError("thread did not run"))] * n

    def run(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            results[index] = ("ok", work(index))
        except Exception as error:
            results[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is still running"
    return results


def errors(results: list[tuple[str, Any]]) -> list[BaseException]:
    return [value for status, value in results if status == "error"]


def assert_only_custody_errors(results: list[tuple[str, Any]], words: str) -> None:
    """Every failure is a CustodyError saying `words`: no lock timeout, deadlock or integrity
    error leaks out of a race."""
    for error in errors(results):
        assert isinstance(error, CustodyError), repr(error)
        assert words in str(error), str(error)


def vetted(vetted_rifleman, count: int, prefix: str) -> list:
    return [vetted_rifleman(f"{prefix}{n:05d}") for n in range(count)]


def vaults(org, actor, count: int) -> list:
    return [
        create_site(
            actor=actor,
            code=f"VAULT-{n:02d}",
            name=f"Vault {n}",
            unit=org["battalion"],
            security_level="vault",
            certified_on=dt.date(2026, 1, 15),
        )
        for n in range(count)
    ]


def test_32_armorers_issuing_one_rifle_at_once_issue_it_once(armory, vetted_rifleman):
    people = vetted(vetted_rifleman, 32, "VC1")
    rifle = item_by_serial("R0001")

    results = race(
        32,
        lambda n: issue_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=people[n],
            item_ids=[rifle.pk],
            kind="checkout",
            hours=8,
        ),
    )

    won = [value for status, value in results if status == "ok"]
    assert len(won) == 1 and won[0].issued
    assert len(errors(results)) == 31
    assert_only_custody_errors(results, "is issued to a person; issue needs it at a storage site")
    item = item_by_serial("R0001")
    assert item.place == "person" and item.site is None
    assert Item.objects.filter(holder__isnull=False).count() == 1
    assert item.holder == won[0].items[0].holder
    issued = JournalEntry.objects.filter(
        kind="custody.issued", subject_type="item", subject_id=str(rifle.pk)
    )
    assert issued.count() == 1
    assert QuotaUsage.objects.get().issued == 1


def test_issues_and_returns_running_side_by_side_all_succeed(armory, vetted_rifleman):
    # Every custody change takes the region's quota row and the journal's head row; were an
    # issue to take them in one order and a return in the other, these would deadlock.
    people = vetted(vetted_rifleman, 6, "VSB")
    rifles = [item_by_serial(f"R{n:04d}") for n in range(1, 7)]
    rounds = 8

    def armorer(n: int) -> int:
        for _ in range(rounds):
            outcome = issue_items(
                actor=armory["armorer"], second=armory["commander"], person=people[n],
                item_ids=[rifles[n].pk], kind="checkout", hours=8,
            )  # fmt: skip
            assert outcome.issued, outcome.refusals
            return_items(
                actor=armory["armorer"], second=armory["commander"], person=people[n],
                returns=[Returned(rifles[n].pk)],
            )  # fmt: skip
        return rounds

    results = race(6, armorer)

    assert errors(results) == []
    for kind in ("custody.issued", "custody.returned"):
        assert JournalEntry.objects.filter(kind=kind).count() == 6 * rounds
    assert QuotaUsage.objects.get().issued == 0
    assert set(
        Item.objects.filter(pk__in=[r.pk for r in rifles]).values_list("place", flat=True)
    ) == {"site"}


def test_20_concurrent_transfers_of_one_rifle_dispatch_it_once(armory, org, actor):
    sites = vaults(org, actor, 20)
    rifle = item_by_serial("R0002")

    results = race(
        20,
        lambda n: dispatch_transfer(
            actor=armory["armorer"],
            from_site=armory["vault"],
            to_site=sites[n],
            item_ids=[rifle.pk],
        ),
    )

    won = [value for status, value in results if status == "ok"]
    assert len(won) == 1
    assert_only_custody_errors(results, "is in transit; dispatch needs it at a storage site")
    item = item_by_serial("R0002")
    assert (item.place, item.site, item.transit_to) == (
        "in_transit",
        armory["vault"],
        won[0].to_site,
    )
    assert Transfer.objects.count() == 1
    assert list(Transfer.objects.get().items.all()) == [item]
    dispatched = JournalEntry.objects.filter(kind="custody.dispatched", subject_id=str(rifle.pk))
    assert dispatched.count() == 1


def test_issue_dispatch_and_maintenance_racing_for_one_rifle_leave_one_event(
    armory, org, actor, vetted_rifleman
):
    """Different operations on the same item are no easier to double up than the same one."""
    people = vetted(vetted_rifleman, 8, "VC2")
    sites = vaults(org, actor, 8)
    rifle = item_by_serial("R0003")

    def work(n: int) -> object:
        if n < 8:
            return issue_items(
                actor=armory["armorer"],
                second=armory["commander"],
                person=people[n],
                item_ids=[rifle.pk],
                hours=8,
            )
        if n < 16:
            return dispatch_transfer(
                actor=armory["armorer"],
                from_site=armory["vault"],
                to_site=sites[n - 8],
                item_ids=[rifle.pk],
            )
        return send_to_maintenance(
            actor=armory["armorer"], item_ids=[rifle.pk], provider="Depot", reason="zeroing"
        )

    results = race(24, work)

    assert len(errors(results)) == 23
    assert_only_custody_errors(results, "needs it at a storage site")
    kinds = list(
        JournalEntry.objects.filter(subject_type="item", subject_id=str(rifle.pk))
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert len(kinds) == 2 and kinds[0] == "custody.received"
    item = item_by_serial("R0003")
    assert (
        item.place
        == {
            "custody.issued": "person",
            "custody.dispatched": "in_transit",
            "custody.sent_to_maintenance": "maintenance",
        }[kinds[1]]
    )
    assert item.version == 1


@pytest.mark.parametrize("already_issued", [0, 2])
def test_a_regional_quota_holds_when_16_rifles_are_issued_at_once(
    armory, actor, vetted_rifleman, already_issued
):
    load_policy(
        actor=actor,
        text=NATIONAL.replace("per_region: 300", "per_region: 5").replace(
            'version: "2026.1"', 'version: "2026.1-quota5"'
        ),
        source="national-quota5.yaml",
    )
    receive_items(
        actor=armory["armorer"],
        site=armory["vault"],
        reference="SHIP-002",
        items=[NewItem("VPR-223", f"R{n:04d}") for n in range(11, 11 + 6 + already_issued)],
    )
    people = vetted(vetted_rifleman, 16 + already_issued, "VC3")
    rifles = list(Item.objects.order_by("serial"))
    for n in range(already_issued):
        assert issue_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=people[16 + n],
            item_ids=[rifles[16 + n].pk],
            hours=8,
        ).issued
    free = 5 - already_issued

    results = race(
        16,
        lambda n: issue_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=people[n],
            item_ids=[rifles[n].pk],
            hours=8,
        ),
    )

    assert errors(results) == []
    outcomes = [value for _, value in results]
    assert sum(o.issued for o in outcomes) == free
    for refused in (o for o in outcomes if not o.issued):
        assert [r.code for r in refused.refusals] == ["quota"]
        assert "quota.per_region" in refused.refusals[0].rule
        assert "would exceed the quota" in refused.refusals[0].message
    assert QuotaUsage.objects.get().issued == 5
    assert Item.objects.filter(place="person").count() == 5
    assert JournalEntry.objects.filter(kind="custody.issued").count() == 5
    assert JournalEntry.objects.filter(kind="custody.issue_refused").count() == 16 - free


def hold_while_others_wait(
    hold: Callable[[], Any], waiters: list[Callable[[], Any]]
) -> list[tuple[str, Any]]:
    """Run `hold` in a transaction that stays open until every waiter is queued behind its
    locks, then commit; returns what each waiter came to, as race() does. This is the moment
    a row lock is for: the waiters must act on the state `hold` left, not the one they saw
    when they started waiting."""
    held, release = threading.Event(), threading.Event()
    failed: list[BaseException] = []

    def holder() -> None:
        try:
            with transaction.atomic():
                hold()
                held.set()
                if not release.wait(timeout=60):
                    raise TimeoutError("never released")
        except Exception as error:
            failed.append(error)
        finally:
            held.set()
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(timeout=60) and not failed, failed
    results: list[tuple[str, Any]] = []
    racing = threading.Thread(
        target=lambda: results.extend(race(len(waiters), lambda n: waiters[n]()))
    )
    racing.start()
    try:
        _until_queued(len(waiters))
    finally:
        release.set()
        thread.join(timeout=60)
        racing.join(timeout=120)
    assert not failed, failed
    return results


def _until_queued(count: int) -> None:
    """Until `count` other sessions wait for a lock (PostgreSQL). SQLite cannot tell; its
    writers queue at BEGIN IMMEDIATE, so a moment is enough."""
    if connection.vendor != "postgresql":
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.02)
    raise AssertionError(f"{count} sessions never queued for the lock")


def test_a_rifle_returned_while_eight_wait_to_issue_it_goes_to_exactly_one(
    armory, rifleman, vetted_rifleman
):
    people = vetted(vetted_rifleman, 8, "VC5")
    rifle = item_by_serial("R0005")
    issue = {"actor": armory["armorer"], "second": armory["commander"], "hours": 8}
    issue_items(person=rifleman, item_ids=[rifle.pk], **issue)

    results = hold_while_others_wait(
        lambda: return_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=rifleman,
            returns=[Returned(rifle.pk)],
        ),
        [
            lambda person=person: issue_items(person=person, item_ids=[rifle.pk], **issue)
            for person in people
        ],
    )

    won = [value for status, value in results if status == "ok"]
    assert len(won) == 1 and won[0].issued
    assert_only_custody_errors(results, "is issued to a person; issue needs it at a storage site")
    item = item_by_serial("R0005")
    assert item.place == "person" and item.holder in people
    assert QuotaUsage.objects.get().issued == 1


def test_a_rifle_reported_stolen_as_it_is_issued_names_the_person_who_had_it(armory, rifleman):
    rifle = item_by_serial("R0006")

    results = hold_while_others_wait(
        lambda: issue_items(
            actor=armory["armorer"],
            second=armory["commander"],
            person=rifleman,
            item_ids=[rifle.pk],
            hours=8,
        ),
        [
            lambda: report_missing(
                actor=armory["armorer"],
                item_ids=[rifle.pk],
                stolen=True,
                summary="taken from the guard post",
            )
        ],
    )

    [(status, incident)] = results
    assert status == "ok", incident
    assert list(incident.people.all()) == [rifleman]
    stolen = JournalEntry.objects.get(kind="custody.reported_stolen")
    data = json.loads(stolen.body)["data"]
    assert (data["was"], data["holder"], data["site"]) == ("person", rifleman.national_id, None)
    assert QuotaUsage.objects.get().issued == 0


def balances(lot: Lot) -> list[int]:
    return list(LotBalance.objects.filter(lot=lot).values_list("quantity", flat=True))


def test_20_armorers_issuing_60_rounds_each_from_1000_never_issue_more(
    armory, actor, vetted_rifleman
):
    lot = receive_lot(
        actor=armory["armorer"],
        site=armory["vault"],
        model_code="AMM-556",
        lot_number="L-1000",
        quantity=1000,
        reference="SHIP-A1",
    )
    people = vetted(vetted_rifleman, 20, "VC4")

    results = race(
        20,
        lambda n: issue_ammunition(
            actor=armory["armorer"],
            second=armory["commander"],
            person=people[n],
            lot=lot,
            site=armory["vault"],
            quantity=60,
        ),
    )

    won = [value for status, value in results if status == "ok"]
    assert all(value == (True, []) for value in won)
    assert len(won) == 1000 // 60
    assert_only_custody_errors(results, "holds 40 of lot L-1000 of AMM-556; 60 cannot be taken")
    held = LotBalance.objects.filter(lot=lot, holder__isnull=False)
    assert sorted(held.values_list("quantity", flat=True)) == [60] * len(won)
    assert held.aggregate(total=Sum("quantity"))["total"] == 60 * len(won) <= 1000
    assert LotBalance.objects.get(lot=lot, site=armory["vault"]).quantity == 1000 - 60 * len(won)
    assert sum(balances(lot)) == 1000 and min(balances(lot)) >= 0
    assert JournalEntry.objects.filter(kind="ammunition.issued").count() == len(won)


def test_20_expenditures_of_7_rounds_from_a_holder_of_100_never_take_more(armory, actor, rifleman):
    lot = receive_lot(
        actor=armory["armorer"],
        site=armory["vault"],
        model_code="AMM-556",
        lot_number="L-100",
        quantity=100,
        reference="SHIP-A2",
    )
    issue_ammunition(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        lot=lot,
        site=armory["vault"],
        quantity=100,
    )

    results = race(
        20,
        lambda n: expend_ammunition(
            actor=armory["armorer"], person=rifleman, lot=lot, quantity=7, reason="range day"
        ),
    )

    spent = sum(1 for status, _ in results if status == "ok")
    assert spent == 100 // 7
    assert_only_custody_errors(results, "holds 2 of lot L-100 of AMM-556; 7 cannot be taken")
    lot.refresh_from_db()
    assert lot.expended_total == 7 * spent
    assert LotBalance.objects.get(lot=lot, holder=rifleman).quantity == 100 - 7 * spent
    assert sum(balances(lot)) + lot.expended_total == lot.received_total == 100
    assert JournalEntry.objects.filter(kind="ammunition.expended").count() == spent


def test_the_database_refuses_what_an_application_check_would_have_missed(armory, actor, rifleman):
    """Writes that go around the services (or a service with a missing check) still cannot put
    an item in two places, a balance below zero or a quota below zero, nor repeat a custody
    change from a state that is no longer current."""
    rifle = item_by_serial("R0004")
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=rifle.pk).update(place="person", holder=rifleman)  # site still set
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=rifle.pk).update(place="in_transit")  # to nowhere
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=rifle.pk).update(place="lost")  # lost, yet at the vault
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=rifle.pk).update(due_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert item_by_serial("R0004").place == "site"

    lot = receive_lot(
        actor=armory["armorer"],
        site=armory["vault"],
        model_code="AMM-556",
        lot_number="L-DEF",
        quantity=1000,
        reference="SHIP-A3",
    )
    stock = LotBalance.objects.get(lot=lot, site=armory["vault"])
    with pytest.raises(IntegrityError), transaction.atomic():
        LotBalance.objects.filter(pk=stock.pk).update(quantity=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        LotBalance.objects.filter(pk=stock.pk).update(quantity=F("quantity") - 1140)
    with pytest.raises(IntegrityError), transaction.atomic():
        LotBalance.objects.create(lot=lot, site=armory["vault"], quantity=5)  # a second stock
    with pytest.raises(IntegrityError), transaction.atomic():
        LotBalance.objects.create(lot=lot, site=armory["vault"], holder=rifleman, quantity=5)
    with (
        pytest.raises(CustodyError, match=r"ARM-1 holds 1000 of lot L-DEF .* 1140 cannot be taken"),
        transaction.atomic(),
    ):
        _take(lot, site=armory["vault"], quantity=1140, record="lot L-DEF")
    assert LotBalance.objects.get(pk=stock.pk).quantity == 1000

    issue_items(
        actor=armory["armorer"],
        second=armory["commander"],
        person=rifleman,
        item_ids=[rifle.pk],
        hours=8,
    )
    usage = QuotaUsage.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        QuotaUsage.objects.filter(pk=usage.pk).update(issued=F("issued") - 2)

    # A writer that read the rifle before it was issued, and skipped the lock, cannot move it
    # from that stale state: the conditional UPDATE on the version refuses, and the journal
    # entry it wrote is rolled back with it.
    stale = Item.objects.select_related("model").get(pk=rifle.pk)
    stale.version -= 1
    before = JournalEntry.objects.count()
    with (
        pytest.raises(CustodyError, match="was changed by someone else meanwhile"),
        transaction.atomic(),
    ):
        apply_custody(
            stale,
            actor=armory["armorer"],
            kind="custody.dispatched",
            data={},
            place="in_transit",
            site=armory["vault"],
            holder=None,
            transit_to=armory["room"],
            issue_kind="",
            issued_at=None,
            due_at=None,
        )
    assert JournalEntry.objects.count() == before
    with transaction.atomic():
        (locked,) = lock_items([rifle.pk])
    assert (locked.place, locked.holder, locked.version) == ("person", rifleman, 1)
