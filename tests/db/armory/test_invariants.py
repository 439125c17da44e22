"""Whatever armorers do, in whatever order, with whatever (often wrong) arguments, custody adds up.

A Hypothesis state machine drives the custody services over three sites, six items, two
ammunition lots and four people (two of them not eligible). After every step the current state
is checked against itself (one place per item, balances never negative, lots reconcile to the
round, quotas match what is out) and against the journal: replaying the journal's custody
events gives back exactly where every item and every round is now, and each item's events form
an unbroken chain.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import muster.policy
from muster.accounts.models import User
from muster.armory.models import Item, Lot, LotBalance, QuotaUsage, Site, Transfer
from muster.armory.rules import security_meets
from muster.armory.selectors import item_by_serial
from muster.armory.services.ammunition import (
    expend_ammunition,
    issue_ammunition,
    receive_lot,
    return_ammunition,
)
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.common import policy_for_site, region_for_site
from muster.armory.services.custody import Returned, issue_items, return_items
from muster.armory.services.movements import (
    dispatch_transfer,
    dispose_item,
    receive_from_maintenance,
    receive_transfer,
    recover_item,
    report_missing,
    send_to_maintenance,
)
from muster.core.actors import Actor
from muster.core.errors import CustodyError
from muster.journal.models import JournalEntry
from muster.people.services import change_status
from muster.policy.services import load_policy
from muster.vetting.services import NewQualification, award_qualifications

NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()

SERIALS = ("R0001", "R0002", "R0003", "R0101", "D0001", "D0002")
NO_SUCH_ITEM = 10**9
SITES = ("ARM-1", "STORE-1", "ARM-3")
LOTS = ("LOT-A", "LOT-B")
PEOPLE = ("p1", "p2", "p3", "p4")
CONDITIONS = ("serviceable", "unserviceable", "awaiting_inspection")
# (actor, second person): who may act and confirm for a firearm in region R1, and who may not.
GOOD_AUTHORITY = [("armorer", "commander"), ("commander", "armorer")]
BAD_AUTHORITY = [
    ("armorer", None),
    ("armorer", "armorer"),
    ("clerk", "commander"),
    ("system", None),
]


@dataclass
class World:
    sites: dict[str, Site]
    item_ids: dict[str, int]
    lots: dict[str, Lot]
    people: dict[str, Any]
    actors: dict[str, Actor]
    # Policies and sites do not change while the machine runs: answers about them are kept.
    safe: dict[tuple[int, str], bool] = field(default_factory=dict)
    regions: dict[int, int] = field(default_factory=dict)

    def region_of(self, site: Site) -> int:
        if site.pk not in self.regions:
            self.regions[site.pk] = region_for_site(site).pk
        return self.regions[site.pk]


@pytest.fixture
def world(armory, org, actor, make_person):
    """Three sites (a vault and a locked room in region R1, a small vault in R2 kept by the
    armorer and the commander), four rifles and two radios, two lots, four people: p1 and p2
    vetted for a rifle (p2 also a radio operator), p3 a recruit, p4 vetted but suspended.
    The firearm quota is two per region, so that it bites."""
    load_policy(
        actor=actor,
        text=NATIONAL.replace("per_region: 300", "per_region: 2").replace(
            'version: "2026.1"', 'version: "2026.1-quota2"'
        ),
        source="national-quota2.yaml",
    )
    keepers = list(User.objects.filter(username__in=["armorer", "commander"]))
    far = create_site(
        actor=actor,
        code="ARM-3",
        name="Southern vault",
        unit=org["other_region"],
        security_level="vault",
        certified_on=dt.date(2026, 1, 15),
        capacities={"firearm": 2},
        custodians=keepers,
    )
    receive_items(
        actor=armory["armorer"], site=far, reference="SHIP-3", items=[NewItem("VPR-223", "R0101")]
    )
    receive_items(
        actor=armory["armorer"],
        site=armory["room"],
        reference="SHIP-R",
        items=[NewItem("RAD-DMR", "D0001"), NewItem("RAD-DMR", "D0002")],
    )
    lots = {
        "LOT-A": receive_lot(
            actor=armory["armorer"],
            site=armory["vault"],
            model_code="AMM-556",
            lot_number="LOT-A",
            quantity=500,
            reference="SHIP-A",
        ),
        "LOT-B": receive_lot(
            actor=armory["armorer"],
            site=far,
            model_code="AMM-556",
            lot_number="LOT-B",
            quantity=300,
            reference="SHIP-B",
        ),
    }
    today = dt.date.today()
    people = {name: make_person(national_id=f"VI{n:08d}") for n, name in enumerate(PEOPLE)}
    awards = []
    for name in ("p1", "p2", "p4"):
        person = people[name]
        awards += [
            NewQualification(person, "firearms_training", today - dt.timedelta(30), klass="rifle"),
            NewQualification(person, "psych_assessment", today - dt.timedelta(60)),
            NewQualification(person, "medical_fitness", today - dt.timedelta(60)),
            NewQualification(person, "background_check", today - dt.timedelta(90)),
        ]
    awards.append(
        NewQualification(
            people["p2"],
            "radio_operator",
            today - dt.timedelta(10),
            expires_on=today + dt.timedelta(365),
        )
    )
    award_qualifications(actor=actor, awards=awards)
    change_status(
        actor=actor,
        person=people["p4"],
        to_status="suspended",
        effective_on=today,
        reason="under investigation",
    )
    return World(
        sites={"ARM-1": armory["vault"], "STORE-1": armory["room"], "ARM-3": far},
        item_ids={serial: item_by_serial(serial).pk for serial in SERIALS},
        lots=lots,
        people=people,
        actors={
            "armorer": armory["armorer"],
            "commander": armory["commander"],
            "clerk": armory["clerk"],
            "system": Actor.system("tests"),
        },
    )


# --- replaying the journal -------------------------------------------------------------------


@dataclass(frozen=True)
class Custody:
    """Where the journal says an item is, and the event that put it there."""

    place: str
    site: str | None
    holder: str | None
    transit_to: str | None
    home: str
    condition: str
    last_seq: int
    transfer: int | None = None


def replay_items() -> dict[int, Custody]:
    """Every item's custody, derived from the journal alone, checking on the way that each
    event follows the item's previous one (`prev`) and starts from where that one left it."""
    state: dict[int, Custody] = {}
    entries = JournalEntry.objects.filter(subject_type="item").order_by("seq")
    for seq, kind, subject, body in entries.values_list("seq", "kind", "subject_id", "body"):
        data = json.loads(body)["data"]
        pk = int(subject)
        was = state.get(pk)
        if kind == "custody.received":
            assert was is None and data["prev"] is None, f"#{seq}: received twice"
            to = data["to_site"]
            state[pk] = Custody("site", to, None, None, to, data["condition"], seq)
            continue
        assert was is not None, f"#{seq} {kind}: an event before the item was received"
        assert data["prev"] == was.last_seq, f"#{seq} {kind}: prev {data['prev']} ≠ {was.last_seq}"
        now = replace(was, last_seq=seq)
        if kind == "custody.issued":
            assert (was.place, was.site) == ("site", data["from_site"]), f"#{seq}"
            now = replace(now, place="person", site=None, holder=data["to_person"])
        elif kind == "custody.returned":
            assert (was.place, was.holder) == ("person", data["from_person"]), f"#{seq}"
            assert data["to_site"] == was.home, f"#{seq}: returned to a site not its home"
            now = replace(
                now, place="site", site=was.home, holder=None, condition=data["condition"]
            )
        elif kind == "custody.dispatched":
            assert (was.place, was.site) == ("site", data["from_site"]), f"#{seq}"
            now = replace(
                now, place="in_transit", transit_to=data["to_site"], transfer=data["transfer"]
            )
        elif kind == "custody.arrived":
            assert was.place == "in_transit", f"#{seq}: arrived while {was.place}"
            assert data["transfer"] == was.transfer, (
                f"#{seq}: arrived with transfer {data['transfer']}, "
                f"but it was last dispatched with transfer {was.transfer}"
            )
            assert data["to_site"] == was.transit_to, f"#{seq}"
            to = data["to_site"]
            now = replace(now, place="site", site=to, home=to, transit_to=None, transfer=None)
        elif kind == "custody.sent_to_maintenance":
            assert (was.place, was.site) == ("site", data["from_site"]), f"#{seq}"
            now = replace(now, place="maintenance", site=None)
        elif kind == "custody.returned_from_maintenance":
            assert was.place == "maintenance", f"#{seq}"
            to = data["to_site"]
            now = replace(now, place="site", site=to, home=to, condition=data["condition"])
        elif kind in {"custody.reported_lost", "custody.reported_stolen"}:
            assert (data["was"], data["holder"], data["site"]) == (
                was.place,
                was.holder,
                was.site,
            ), f"#{seq}"
            now = replace(
                now,
                place=kind.removeprefix("custody.reported_"),
                site=None,
                holder=None,
                transit_to=None,
                transfer=None,
            )
        elif kind == "custody.recovered":
            assert data["was"] == was.place in {"lost", "stolen", "in_transit"}, f"#{seq}"
            to = data["to_site"]
            now = replace(
                now,
                place="site",
                site=to,
                home=to,
                transit_to=None,
                transfer=None,
                condition="awaiting_inspection",
            )
        elif kind == "custody.disposed":
            assert data["was"] == was.place in {"site", "maintenance"}, f"#{seq}"
            assert data["site"] == (was.site or was.home), f"#{seq}"
            now = replace(now, place="disposed", site=None)
        else:
            raise AssertionError(f"#{seq}: the replay does not know the custody event {kind}")
        state[pk] = now
    return state


@dataclass
class LotLedger:
    received: int = 0
    issued: int = 0
    returned: int = 0
    expended: int = 0

    def __post_init__(self) -> None:
        self.sites: Counter[str] = Counter()
        self.holders: Counter[str] = Counter()


def replay_lots() -> dict[int, LotLedger]:
    """Every lot's stock by site and by holder, from `lot.received` and `ammunition.*` alone;
    no stock may ever have gone below zero on the way."""
    ledgers: dict[int, LotLedger] = {}
    entries = JournalEntry.objects.filter(subject_type="lot").order_by("seq")
    for seq, kind, subject, body in entries.values_list("seq", "kind", "subject_id", "body"):
        data = json.loads(body)["data"]
        ledger = ledgers.setdefault(int(subject), LotLedger())
        quantity = data["quantity"]
        assert isinstance(quantity, int) and quantity > 0, f"#{seq}: quantity {quantity}"
        if kind == "lot.received":
            ledger.received += quantity
            ledger.sites[data["to_site"]] += quantity
        elif kind == "ammunition.issued":
            ledger.issued += quantity
            ledger.sites[data["from_site"]] -= quantity
            ledger.holders[data["to_person"]] += quantity
        elif kind == "ammunition.returned":
            ledger.returned += quantity
            ledger.holders[data["from_person"]] -= quantity
            ledger.sites[data["to_site"]] += quantity
        elif kind == "ammunition.expended":
            ledger.expended += quantity
            ledger.holders[data["person"]] -= quantity
        else:
            raise AssertionError(f"#{seq}: the replay does not know the lot event {kind}")
        assert min([0, *ledger.sites.values(), *ledger.holders.values()]) == 0, (
            f"#{seq} {kind}: a stock went below zero"
        )
    return ledgers


def positive(counter: Counter[str]) -> dict[str, int]:
    return {key: value for key, value in counter.items() if value}


# --- the checks after every step -------------------------------------------------------------


def check_items(world: World) -> None:
    replayed = replay_items()
    items = Item.objects.select_related("model__category", "site", "holder", "transit_to")
    items = items.select_related("home_site__unit")
    rows = list(items)
    assert set(replayed) == {i.pk for i in rows}, "an item without a journal history, or back"
    for item in rows:
        where = {
            "site": (True, False, False),
            "person": (False, True, False),
            "in_transit": (True, False, True),
        }.get(item.place, (False, False, False))
        assert (item.site_id is not None, item.holder_id is not None) == where[:2], item
        assert (item.transit_to_id is not None) == where[2], item
        assert (item.issued_at is not None) == (item.place == "person"), item
        actual = Custody(
            place=item.place,
            site=item.site.code if item.site else None,
            holder=item.holder.national_id if item.holder else None,
            transit_to=item.transit_to.code if item.transit_to else None,
            home=item.home_site.code,
            condition=item.condition,
            last_seq=item.last_seq,
            transfer=replayed[item.pk].transfer,
        )
        assert actual == replayed[item.pk], f"{item.serial}: now {actual}, journal says"
        if item.place == "site":
            assert item.site_id == item.home_site_id, f"{item.serial} is at a site not its home"
            assert stored_safely(world, item.site, item.model.category.code), item.serial
    check_quotas(world, rows)


def check_quotas(world: World, items: list[Item]) -> None:
    """What a region's quota counts is exactly the firearms its sites have out with people."""
    out: Counter[tuple[int, int]] = Counter(
        (world.region_of(i.home_site), i.model.category_id)
        for i in items
        if i.place == "person" and i.model.category.code == "firearm"
    )
    counted = {(q.region_id, q.category_id): q.issued for q in QuotaUsage.objects.all()}
    assert positive(Counter(counted)) == dict(out)


def stored_safely(world: World, site: Site, category: str) -> bool:
    """The site meets the policy's storage security for the category."""
    key = (site.pk, category)
    if key not in world.safe:
        policy = policy_for_site(site)
        storage = policy.categories[category].storage
        needed = storage.min_security if storage else None
        world.safe[key] = not needed or security_meets(
            policy.security_levels, site.security_level, needed
        )
    return world.safe[key]


def check_lots(world: World) -> None:
    ledgers = replay_lots()
    lots = list(Lot.objects.select_related("model__category"))
    assert set(ledgers) == {lot.pk for lot in lots}
    for lot in lots:
        ledger = ledgers[lot.pk]
        rows = list(LotBalance.objects.filter(lot=lot).select_related("site", "holder"))
        assert all(b.quantity >= 0 for b in rows), lot
        at_sites = Counter({b.site.code: b.quantity for b in rows if b.site})
        with_people = Counter({b.holder.national_id: b.quantity for b in rows if b.holder})
        assert lot.received_total == sum(b.quantity for b in rows) + (
            lot.expended_total + lot.written_off_total
        ), f"{lot} does not reconcile to the round"
        assert (lot.received_total, lot.expended_total) == (ledger.received, ledger.expended)
        assert sum(with_people.values()) == ledger.issued - ledger.returned - ledger.expended
        assert positive(at_sites) == positive(ledger.sites), lot
        assert positive(with_people) == positive(ledger.holders), lot
        for balance in rows:
            if balance.site and balance.quantity:
                assert stored_safely(world, balance.site, lot.model.category.code), (
                    f"{balance.quantity} of {lot} at {balance.site.code}, "
                    f"which is not secure enough for {lot.model.category.code}"
                )


# --- the machine -----------------------------------------------------------------------------


class ArmoryMachine(RuleBasedStateMachine):
    """One armory, rolled back after each example so that every example starts from the same
    state. Each step is taken by a careful armorer (items where the operation needs them, an
    authorised second person, sensible quantities, though maybe an ineligible person or a site
    that may not store the item) or a careless one (anything at all); a CustodyError is a fine
    answer to either."""

    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # Drawing arguments.

    def pick(
        self, data: st.DataObject, careful: bool, good: Sequence[Any], bad: Sequence[Any]
    ) -> Any:
        """One of `good`, or when careless one of `good` and `bad`."""
        return data.draw(st.sampled_from([*good] if careful else [*good, *bad]))

    def serials_at(self, places: set[str]) -> list[str]:
        ids = {pk: serial for serial, pk in self.world.item_ids.items()}
        found = Item.objects.filter(pk__in=list(ids), place__in=places).values_list("pk", flat=True)
        return sorted(ids[pk] for pk in found)

    def draw_serial(self, data: st.DataObject, careful: bool, places: set[str]) -> str:
        fitting = self.serials_at(places)
        if careful and fitting:
            return data.draw(st.sampled_from(fitting))
        return data.draw(st.sampled_from([*SERIALS, "NOSUCH"]))

    def draw_ids(self, data: st.DataObject, careful: bool, places: set[str]) -> list[int]:
        fitting = self.serials_at(places)
        if careful and fitting:
            serials = data.draw(
                st.lists(st.sampled_from(fitting), min_size=1, max_size=2, unique=True)
            )
        else:
            serials = data.draw(st.lists(st.sampled_from([*SERIALS, "NOSUCH"]), max_size=2))
        return [self.item_id(serial) for serial in serials]

    def item_id(self, serial: str) -> int:
        return self.world.item_ids.get(serial, NO_SUCH_ITEM)

    def draw_authority(self, data: st.DataObject, careful: bool) -> tuple[Actor, Actor | None]:
        actor, second = self.pick(data, careful, GOOD_AUTHORITY, BAD_AUTHORITY)
        return self.world.actors[actor], self.world.actors[second] if second else None

    def draw_person(self, data: st.DataObject, careful: bool, likely: Sequence[str] = ()) -> Any:
        people = {p.national_id: p for p in self.world.people.values()}
        if careful and likely:
            return people[data.draw(st.sampled_from(sorted(likely)))]
        return self.world.people[data.draw(st.sampled_from(PEOPLE))]

    def draw_site(self, data: st.DataObject, careful: bool, likely: str | None = None) -> Site:
        code = likely if careful and likely else data.draw(st.sampled_from(SITES))
        return self.world.sites[code]

    def attempt(self, call: Any, **arguments: Any) -> Any:
        """Call a service: refused, it writes nothing (a refusal by policy writes only itself);
        done, it journals what it did."""
        before = JournalEntry.objects.count()  # seqs are 0-based and gapless: the next seq
        try:
            result = call(**arguments)
        except CustodyError as error:
            assert error.problems, "a CustodyError without a reason"
            assert JournalEntry.objects.count() == before, f"{call.__name__} refused, yet wrote"
            return None
        written = list(JournalEntry.objects.filter(seq__gte=before).values_list("kind", flat=True))
        if getattr(result, "issued", None) is False or (
            isinstance(result, tuple) and result[0] is False
        ):
            assert written == ["custody.issue_refused"], written
        else:
            assert written, f"{call.__name__} changed state without a journal entry"
        return result

    @initialize(data=st.data())
    def hand_out(self, data: st.DataObject) -> None:
        """Start with some items and rounds out with people (as far as policy allows), so that
        returns, losses and expenditures have something to work on from the first step."""
        armorer, commander = self.world.actors["armorer"], self.world.actors["commander"]
        for serial in data.draw(st.lists(st.sampled_from(SERIALS), max_size=3, unique=True)):
            self.attempt(
                issue_items,
                actor=armorer,
                second=commander,
                person=self.world.people[data.draw(st.sampled_from(["p1", "p2"]))],
                item_ids=[self.item_id(serial)],
                hours=8,
            )
        for lot, site in (("LOT-A", "ARM-1"), ("LOT-B", "ARM-3")):
            self.attempt(
                issue_ammunition,
                actor=armorer,
                second=commander,
                person=self.world.people[data.draw(st.sampled_from(["p1", "p2"]))],
                lot=self.world.lots[lot],
                site=self.world.sites[site],
                quantity=60,
            )

    # Serialized items.

    @rule(data=st.data(), careful=st.booleans())
    def issue(self, data: st.DataObject, careful: bool) -> None:
        actor, second = self.draw_authority(data, careful)
        self.attempt(
            issue_items,
            actor=actor,
            second=second,
            person=self.draw_person(data, careful),
            item_ids=self.draw_ids(data, careful, {"site"}),
            kind=self.pick(data, careful, ["checkout", "assignment"], ["loan"]),
            hours=self.pick(data, careful, [8, None], [30, 0]),
        )

    @rule(data=st.data(), careful=st.booleans())
    def return_(self, data: st.DataObject, careful: bool) -> None:
        ids = self.draw_ids(data, careful, {"person"})
        holders = Item.objects.filter(pk__in=ids, holder__isnull=False)
        actor, second = self.draw_authority(data, careful)
        self.attempt(
            return_items,
            actor=actor,
            second=second,
            person=self.draw_person(
                data, careful, holders.values_list("holder__national_id", flat=True)[:1]
            ),
            returns=[Returned(pk, self.pick(data, careful, CONDITIONS, ["bent"])) for pk in ids],
        )

    @rule(data=st.data())
    def hand_back(self, data: st.DataObject) -> None:
        """Returns come at the end of every shift: a careful one, more often."""
        self.return_(data, careful=True)

    @rule(data=st.data(), careful=st.booleans())
    def dispatch(self, data: st.DataObject, careful: bool) -> None:
        self.dispatch_items(data, careful)

    def dispatch_items(self, data: st.DataObject, careful: bool) -> Transfer | None:
        ids = self.draw_ids(data, careful, {"site"})
        here = Item.objects.filter(pk__in=ids[:1]).values_list("site__code", flat=True).first()
        elsewhere = [code for code in SITES if code != here]
        transfer: Transfer | None = self.attempt(
            dispatch_transfer,
            actor=self.draw_authority(data, careful)[0],
            from_site=self.draw_site(data, careful, here),
            to_site=self.world.sites[self.pick(data, careful, elsewhere, [here or "ARM-1"])],
            item_ids=ids,
        )
        return transfer

    @precondition(lambda self: Transfer.objects.exists())
    @rule(data=st.data(), careful=st.booleans())
    def receive(self, data: st.DataObject, careful: bool) -> None:
        transfers = list(Transfer.objects.order_by("pk"))
        open_ones = [t for t in transfers if t.received_at is None]
        transfer = self.pick(data, careful and bool(open_ones), open_ones, transfers)
        sent = list(transfer.items.values_list("serial", flat=True))
        actor = self.draw_authority(data, careful)[0]
        received = self.attempt(
            receive_transfer,
            actor=actor,
            transfer=transfer,
            serials=data.draw(st.lists(st.sampled_from([*sent, "R0009", "X-1"]), max_size=3)),
        )
        if received is not None:
            assert actor.label in {"armorer", "commander"}, f"{actor} received {transfer}"

    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        """Dispatch and receive at once; maybe not everything arrives."""
        transfer = self.dispatch_items(data, careful=True)
        if transfer is not None:
            sent = list(transfer.items.values_list("serial", flat=True))
            self.attempt(
                receive_transfer,
                actor=self.world.actors["armorer"],
                transfer=transfer,
                serials=data.draw(st.lists(st.sampled_from(sent), unique=True)),
            )

    @rule(data=st.data(), careful=st.booleans())
    def to_maintenance(self, data: st.DataObject, careful: bool) -> None:
        self.attempt(
            send_to_maintenance,
            actor=self.draw_authority(data, careful)[0],
            item_ids=self.draw_ids(data, careful, {"site"}),
            provider=self.pick(data, careful, ["Depot"], [" "]),
            reason=self.pick(data, careful, ["zeroing"], [""]),
        )

    @rule(data=st.data(), careful=st.booleans())
    def from_maintenance(self, data: st.DataObject, careful: bool) -> None:
        self.attempt(
            receive_from_maintenance,
            actor=self.draw_authority(data, careful)[0],
            item_ids=self.draw_ids(data, careful, {"maintenance"}),
            site=self.draw_site(data, careful=False),
            condition=self.pick(data, careful, CONDITIONS, ["bent"]),
        )

    @rule(data=st.data(), careful=st.booleans())
    def report(self, data: st.DataObject, careful: bool) -> None:
        self.attempt(
            report_missing,
            actor=self.draw_authority(data, careful)[0],
            item_ids=self.draw_ids(data, careful, {"site", "person", "in_transit", "maintenance"}),
            stolen=data.draw(st.booleans()),
            summary=self.pick(data, careful, ["not at the rack"], [""]),
        )

    @rule(data=st.data(), careful=st.booleans())
    def recover(self, data: st.DataObject, careful: bool) -> None:
        self.attempt(
            recover_item,
            actor=self.draw_authority(data, careful)[0],
            item_id=self.item_id(self.draw_serial(data, careful, {"lost", "stolen", "in_transit"})),
            site=self.draw_site(data, careful=False),
            note=self.pick(data, careful, ["found in the truck"], [""]),
        )

    @rule(data=st.data(), careful=st.booleans())
    def dispose(self, data: st.DataObject, careful: bool) -> None:
        actor, second = self.draw_authority(data, careful)
        self.attempt(
            dispose_item,
            actor=actor,
            second=second,
            item_id=self.item_id(self.draw_serial(data, careful, {"site", "maintenance"})),
            reason=self.pick(data, careful, ["cracked receiver"], [""]),
        )

    # Ammunition.

    def draw_lot(self, data: st.DataObject) -> Lot:
        return self.world.lots[data.draw(st.sampled_from(LOTS))]

    def stock_site(self, lot: Lot) -> str | None:
        found = LotBalance.objects.filter(lot=lot, site__isnull=False, quantity__gt=0)
        return found.values_list("site__code", flat=True).first()

    def holders_of(self, lot: Lot) -> list[str]:
        found = LotBalance.objects.filter(lot=lot, holder__isnull=False, quantity__gt=0)
        return list(found.values_list("holder__national_id", flat=True))

    @rule(data=st.data(), careful=st.booleans())
    def receive_rounds(self, data: st.DataObject, careful: bool) -> None:
        self.attempt(
            receive_lot,
            actor=self.draw_authority(data, careful)[0],
            site=self.draw_site(data, careful=False),
            model_code=self.pick(data, careful, ["AMM-556"], ["VPR-223"]),
            lot_number=data.draw(st.sampled_from(LOTS)),
            quantity=self.pick(data, careful, [50, 200], [0, -5]),
            reference=self.pick(data, careful, ["SHIP-X"], [""]),
        )

    @rule(data=st.data(), careful=st.booleans())
    def issue_rounds(self, data: st.DataObject, careful: bool) -> None:
        lot = self.draw_lot(data)
        actor, second = self.draw_authority(data, careful)
        self.attempt(
            issue_ammunition,
            actor=actor,
            second=second,
            person=self.draw_person(data, careful),
            lot=lot,
            site=self.draw_site(data, careful, self.stock_site(lot)),
            quantity=self.pick(data, careful, [10, 60, 400], [0, -1]),
        )

    @rule(data=st.data(), careful=st.booleans())
    def return_rounds(self, data: st.DataObject, careful: bool) -> None:
        lot = self.draw_lot(data)
        self.attempt(
            return_ammunition,
            actor=self.draw_authority(data, careful)[0],
            person=self.draw_person(data, careful, self.holders_of(lot)),
            lot=lot,
            site=self.draw_site(data, careful=False),
            quantity=self.pick(data, careful, [5, 10, 100], [0]),
        )

    @rule(data=st.data(), careful=st.booleans())
    def expend_rounds(self, data: st.DataObject, careful: bool) -> None:
        lot = self.draw_lot(data)
        self.attempt(
            expend_ammunition,
            actor=self.draw_authority(data, careful)[0],
            person=self.draw_person(data, careful, self.holders_of(lot)),
            lot=lot,
            quantity=self.pick(data, careful, [7, 30, 100], [0]),
            reason=self.pick(data, careful, ["range day"], [" "]),
        )

    # After every step.

    @invariant()
    def items_are_where_the_journal_says(self) -> None:
        check_items(self.world)

    @invariant()
    def lots_reconcile_to_the_round(self) -> None:
        check_lots(self.world)


def test_custody_invariants_hold_whatever_armorers_do(world):
    ArmoryMachine.world = world
    run_state_machine_as_test(
        ArmoryMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_an_old_transfer_does_not_receive_an_item_dispatched_again_since(world):
    """A rifle goes missing on its way to ARM-3, turns up there and is sent back to ARM-1;
    when ARM-3 then books the first transfer in, naming the rifle, the rifle stays on its way
    to ARM-1 with the second transfer."""
    armorer = world.actors["armorer"]
    arm1, arm3 = world.sites["ARM-1"], world.sites["ARM-3"]
    rifle = world.item_ids["R0001"]
    first = dispatch_transfer(actor=armorer, from_site=arm1, to_site=arm3, item_ids=[rifle])
    recover_item(actor=armorer, item_id=rifle, site=arm3, note="left at the ARM-3 gate")
    second = dispatch_transfer(actor=armorer, from_site=arm3, to_site=arm1, item_ids=[rifle])

    receive_transfer(actor=armorer, transfer=first, serials=["R0001"])

    item = Item.objects.get(pk=rifle)
    assert (item.place, item.site, item.transit_to) == ("in_transit", arm3, arm1)
    assert Transfer.objects.get(pk=first.pk).discrepancies == [
        {"kind": "not_dispatched", "serial": "R0001"}
    ]
    check_items(world)
    receive_transfer(actor=armorer, transfer=second, serials=["R0001"])
    assert Item.objects.get(pk=rifle).site == arm1
    check_items(world)


def test_only_an_authorised_person_books_in_a_transfer_even_when_nothing_arrived(world):
    """Booking a transfer in closes it for good; when everything on it was lost on the way,
    that still takes someone who may receive its items at the site."""
    armorer, clerk = world.actors["armorer"], world.actors["clerk"]
    rifle = world.item_ids["R0002"]
    transfer = dispatch_transfer(
        actor=armorer,
        from_site=world.sites["ARM-1"],
        to_site=world.sites["ARM-3"],
        item_ids=[rifle],
    )
    report_missing(actor=armorer, item_ids=[rifle], stolen=True, summary="truck broken into")

    with pytest.raises(CustodyError, match="clerk may not authorise firearm at ARM-3"):
        receive_transfer(actor=clerk, transfer=transfer, serials=[])
    assert Transfer.objects.get(pk=transfer.pk).received_at is None
    receive_transfer(actor=armorer, transfer=transfer, serials=[])
    assert Transfer.objects.get(pk=transfer.pk).received_by == "armorer"
    check_items(world)
