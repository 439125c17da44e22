"""The demo's armory, written through the armory services so that every row is journaled.

Per region: a certified arms room (vault, alarmed) and a company store (locked room) for each
battalion, and a regional depot (24-hour guard), filled by shipments: firearms up to the
policy's regional quota, magazines, optics, drones, counter-drone devices, radios, vehicles,
protective gear, and ammunition by lot. In the first region a few weeks of custody follow:
rifles assigned to the best-ranked eligible volunteers (the battalion's armorer acting, its
commander confirming; the demo has accounts for the first battalion's, and the region's
quartermaster and commander stand in for the others), radios, drones and a vehicle out on
checkout, rounds issued and some fired; a count of a company store's radios closed (its
entries attest each radio's last event); one count, one loss, one repair and one transfer are
left open for someone trying the demo to take further.

Everything is drawn from a seeded Random and plain counters, so the same seed builds the same
armory; the national scale stocks each battalion more thinly (~1,100 items a region).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources

from django.db import transaction
from django.db.models import Count, Q, Sum

from muster.accounts.models import User
from muster.accounts.services import create_user, grant_role
from muster.armory.catalogue_file import load_catalogue
from muster.armory.models import (
    EquipmentModel,
    Incident,
    InventoryCount,
    Item,
    Lot,
    LotBalance,
    Site,
    Transfer,
)
from muster.armory.services.ammunition import (
    expend_ammunition,
    issue_ammunition,
    receive_lot,
    return_ammunition,
)
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.counts import close_count, record_count, start_count
from muster.armory.services.custody import issue_items
from muster.armory.services.incidents import add_incident_note
from muster.armory.services.movements import dispatch_transfer, report_missing, send_to_maintenance
from muster.core.actors import Actor
from muster.demo.plan import RegionSpec
from muster.people.models import Person, Unit
from muster.people.selectors import people_in_subtree, unit_by_code
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import Ranked, ranked_eligible

ACTOR = Actor.system("demo")
# The accounts the armory adds: the first region's quartermaster and commander.
ARMORY_USERS = ("quartermaster", "region-commander")
CATALOGUE_FILE = "examples/catalogue.yaml"
FIREARMS_PER_BATTALION = 40  # a region gets this many a battalion, up to its quota
LEAN_ABOVE_REGIONS = 2  # national scale: thinner stock per battalion (~1,100 items a region)
ASSIGNED_SHARE = 0.55  # of a battalion's firearms, assigned to its best-ranked volunteers
RADIO_CHECKOUTS = 6  # per battalion, for a 12-hour patrol
AMMUNITION_ISSUES = 4  # per battalion: rifle holders drawing rounds for the range
ROUNDS_ISSUED, ROUNDS_FIRED, ROUNDS_BACK = 60, 30, 30

MAGAZINE_FOR = {"RFL-556": "MAG-556-10", "RFL-762": "MAG-762-10", "PST-9": "MAG-9-10"}
AMMUNITION_FOR = {"RFL-556": "AMM-556", "RFL-762": "AMM-762", "PST-9": "AMM-9"}
SERIAL_PREFIX = {
    "RFL-556": "R5A", "RFL-762": "R7B", "PST-9": "P9C", "MAG-556-10": "M5",
    "MAG-762-10": "M7", "MAG-9-10": "M9", "UAV-T4": "T4Q", "UAV-D2": "D2Q", "CD-HJ": "HJ",
    "RAD-DMR-U": "DU", "RAD-DMR-V": "DV", "RAD-DMR-M": "DM", "VEH-PICKUP": "VP",
    "VEH-SUV": "VS", "OPT-NVM": "NV", "OPT-TS35": "TS", "PG-HELMET": "HL", "PG-ARMOUR": "BA",
}  # fmt: skip
VEHICLES = ("VEH-PICKUP", "VEH-SUV")
# Letters that read the same in Latin and Cyrillic, as on Ukrainian number plates.
PLATE_LETTERS = "ABCEHIKMOPTX"


@dataclass(frozen=True)
class LotPlan:
    """One ammunition lot, delivered to every region: rounds per arms room and per depot."""

    model: str
    number: str
    arms_room: int
    depot: int


LOTS = (
    LotPlan("AMM-556", "556-2025-114", 2000, 8000),
    LotPlan("AMM-556", "556-2026-007", 1500, 0),
    LotPlan("AMM-556", "556-2026-019", 0, 12000),
    LotPlan("AMM-762", "762-2025-031", 600, 2000),
    LotPlan("AMM-9", "9-2025-212", 300, 1000),
)


# --- what each site receives (no database) -----------------------------------------------


def firearms_by_battalion(battalions: int, quota: int | None) -> list[int]:
    """Firearms per battalion: FIREARMS_PER_BATTALION each, the region's total capped at its
    quota (300 in the national policy), the remainder going to the first battalions."""
    total = FIREARMS_PER_BATTALION * battalions
    if quota is not None:
        total = min(total, quota)
    share, extra = divmod(total, battalions)
    return [share + (b < extra) for b in range(battalions)]


def arms_room_stock(firearms: int, *, lean: bool) -> Counter[str]:
    """Weapons, their magazines, optics, drones and a counter-drone device for one battalion."""
    pistols = max(1, round(firearms * 0.06))
    rifles_762 = round(firearms * 0.12)
    stock: Counter[str] = Counter(
        {"RFL-556": firearms - pistols - rifles_762, "RFL-762": rifles_762, "PST-9": pistols}
    )
    per_weapon = 1 if lean else 2
    for weapon, magazine in MAGAZINE_FOR.items():
        stock[magazine] = per_weapon * stock[weapon]
    stock["OPT-NVM"] = math.ceil(firearms / (10 if lean else 6))
    stock["OPT-TS35"] = math.ceil(firearms / (15 if lean else 10))
    stock["UAV-T4"], stock["UAV-D2"] = (1, 1) if lean else (2, 3)
    stock["CD-HJ"] = 1
    return stock


def store_stock(*, lean: bool) -> Counter[str]:
    """Radios, helmets, body armour and vehicles for one battalion's company store."""
    if lean:
        return Counter(
            {"RAD-DMR-U": 16, "RAD-DMR-V": 3, "RAD-DMR-M": 1, "PG-HELMET": 10,
             "PG-ARMOUR": 10, "VEH-PICKUP": 1}
        )  # fmt: skip
    return Counter(
        {"RAD-DMR-U": 36, "RAD-DMR-V": 6, "RAD-DMR-M": 3, "PG-HELMET": 25, "PG-ARMOUR": 25,
         "VEH-PICKUP": 1, "VEH-SUV": 1}
    )  # fmt: skip


def depot_stock(*, lean: bool) -> Counter[str]:
    """The region's reserve: radios for vehicles, vehicles, counter-drone devices, night vision."""
    if lean:
        return Counter({"RAD-DMR-U": 8, "RAD-DMR-M": 2, "VEH-SUV": 2, "CD-HJ": 1, "OPT-NVM": 2})
    return Counter(
        {"RAD-DMR-U": 30, "RAD-DMR-M": 10, "VEH-PICKUP": 2, "VEH-SUV": 2, "CD-HJ": 2,
         "OPT-NVM": 4}
    )  # fmt: skip


def capacities(stock: Counter[str], categories: dict[str, str]) -> dict[str, int]:
    """Certified capacity per category: what the site holds with a quarter to spare, in tens."""
    by_category: Counter[str] = Counter()
    for model, count in stock.items():
        by_category[categories[model]] += count
    return {c: (math.ceil(n * 1.25 / 10) or 1) * 10 for c, n in sorted(by_category.items())}


class Serials:
    """Serial numbers and number plates, unique across the whole demo and deterministic."""

    def __init__(self, rng: random.Random) -> None:
        self.next = {model: rng.randint(10_000, 90_000) for model in sorted(SERIAL_PREFIX)}
        self.plates = 0

    def new(self, model: str) -> str:
        self.next[model] += 1
        return f"{SERIAL_PREFIX[model]}{self.next[model]:06d}"

    def plate(self, region: int, rng: random.Random) -> str:
        self.plates += 1
        letters = PLATE_LETTERS
        prefix = (
            letters[(region - 1) // len(letters) % len(letters)]
            + letters[(region - 1) % len(letters)]
        )
        suffix = rng.choice(letters) + rng.choice(letters)
        return f"{prefix}{self.plates:04d}{suffix}"


# --- writing it ----------------------------------------------------------------------------


@dataclass
class Battalion:
    """One battalion's sites and, where the demo has accounts for it, who acts there."""

    unit: Unit
    arms_room: Site
    store: Site
    armorer: Actor | None = None
    commander: Actor | None = None
    commander_user: User | None = None
    holders: list[Person] = field(default_factory=list)


def build_armory(
    *, regions: Sequence[RegionSpec], seed: int, today: dt.date, password: str
) -> None:
    """Load the catalogue, then stock every region (one transaction each); custody in the first."""
    load_catalogue(
        actor=ACTOR,
        text=resources.files("muster.armory").joinpath(CATALOGUE_FILE).read_text("utf-8"),
        source=f"muster/armory/{CATALOGUE_FILE}",
    )
    lean = len(regions) > LEAN_ABOVE_REGIONS
    rng = random.Random(f"muster-demo:{seed}:armory")
    serials = Serials(rng)
    for index, spec in enumerate(regions):
        write_region_armory(
            spec, rng=rng, serials=serials, today=today, lean=lean,
            custody=index == 0, password=password,
        )  # fmt: skip


@transaction.atomic
def write_region_armory(
    spec: RegionSpec,
    *,
    rng: random.Random,
    serials: Serials,
    today: dt.date,
    lean: bool,
    custody: bool,
    password: str,
) -> None:
    """Sites and shipments of one region; with `custody`, accounts and a few weeks of issues."""
    region = unit_by_code(spec.code)
    policy = policy_in_force(region.jurisdiction, today)
    quota = policy.categories["firearm"].quota
    categories = dict(EquipmentModel.objects.values_list("code", "category__code"))
    units = {u.code: u for u in Unit.objects.filter(path__startswith=region.path)}
    regional: tuple[User, User] | None = _region_accounts(region, password) if custody else None
    receiver = _receiver(region, regional)
    depot_items = depot_stock(lean=lean)
    depot = create_site(
        actor=ACTOR, code=f"DEP-{spec.code}", name=f"{spec.name} depot", unit=region,
        security_level="guarded_24h", certified_on=today - dt.timedelta(days=rng.randint(60, 400)),
        certification_expires=today + dt.timedelta(days=rng.randint(300, 900)),
        capacities=capacities(depot_items, categories),
        custodians=[regional[0]] if regional else [],
    )  # fmt: skip
    _receive(receiver, depot, depot_items, serials, rng, spec, f"SHP-{spec.code}-RES-01")
    for lot in LOTS:
        if lot.depot:
            receive_lot(
                actor=receiver, site=depot, model_code=lot.model, lot_number=lot.number,
                quantity=lot.depot, reference=f"SHP-{spec.code}-AMM-{lot.number}",
            )  # fmt: skip
    battalions = []
    firearms = firearms_by_battalion(spec.battalions, quota.per_region if quota else None)
    for b, count in enumerate(firearms, start=1):
        code = f"{spec.code}-B{b}"
        # Only the first battalion has accounts of its own (the demo's armorer and commander);
        # elsewhere the region's quartermaster issues and the region's commander confirms.
        pair = None
        if regional is not None:
            pair = regional if b > 1 else (_user("armorer"), _user("commander"))
        battalion = _stock_battalion(
            units[code], units[f"{code}-C1"], count, lean=lean, rng=rng, serials=serials,
            spec=spec, today=today, categories=categories, receiver=receiver,
            custodian=pair[0] if pair and b == 1 else None,
        )  # fmt: skip
        if pair is not None:
            battalion.armorer, battalion.commander = map(Actor.for_user, pair)
            battalion.commander_user = pair[1]
        battalions.append(battalion)
    if regional is not None:
        _custody(region, battalions, depot, Actor.for_user(regional[0]), today)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _stock_battalion(
    unit: Unit,
    company: Unit,
    firearms: int,
    *,
    lean: bool,
    rng: random.Random,
    serials: Serials,
    spec: RegionSpec,
    today: dt.date,
    categories: dict[str, str],
    receiver: Actor,
    custodian: User | None,
) -> Battalion:
    arms = arms_room_stock(firearms, lean=lean)
    store = store_stock(lean=lean)
    certified = today - dt.timedelta(days=rng.randint(30, 300))
    custodians = [custodian] if custodian else []
    arms_room = create_site(
        actor=ACTOR, code=f"ARM-{unit.code}", name=f"{unit.name} arms room", unit=unit,
        security_level="vault_alarmed", certified_on=certified,
        certification_expires=certified + dt.timedelta(days=3 * 365),
        address=f"{unit.name} base, {spec.name}", capacities=capacities(arms, categories),
        custodians=custodians,
    )  # fmt: skip
    store_site = create_site(
        actor=ACTOR, code=f"STR-{company.code}", name=f"{company.name} store, {unit.name}",
        unit=company, security_level="locked_room", certified_on=certified,
        certification_expires=certified + dt.timedelta(days=2 * 365),
        capacities=capacities(store, categories),
        custodians=custodians,
    )  # fmt: skip
    _receive(receiver, arms_room, arms, serials, rng, spec, f"SHP-{unit.code}-ARM-01")
    _receive(receiver, store_site, store, serials, rng, spec, f"SHP-{unit.code}-STR-01")
    for lot in LOTS:
        if lot.arms_room:
            receive_lot(
                actor=receiver, site=arms_room, model_code=lot.model, lot_number=lot.number,
                quantity=lot.arms_room, reference=f"SHP-{unit.code}-AMM-{lot.number}",
            )  # fmt: skip
    return Battalion(unit=unit, arms_room=arms_room, store=store_site)


def _receiver(region: Unit, regional: tuple[User, User] | None) -> Actor:
    """Who receives the region's shipments: the demo's quartermaster, an armorer over the
    first region (made with its accounts) and over every other region too."""
    if regional is not None:
        return Actor.for_user(regional[0])
    quartermaster = ARMORY_USERS[0]
    grant_role(actor=ACTOR, username=quartermaster, role="armorer", unit=region)
    return Actor.for_user(_user(quartermaster))


def _receive(
    receiver: Actor,
    site: Site,
    stock: Counter[str],
    serials: Serials,
    rng: random.Random,
    spec: RegionSpec,
    reference: str,
) -> None:
    items = [
        NewItem(
            model,
            serials.new(model),
            registration=serials.plate(spec.number, rng) if model in VEHICLES else "",
        )
        for model in sorted(stock)
        for _ in range(stock[model])
    ]
    receive_items(actor=receiver, site=site, reference=reference, items=items)


def _account(username: str, role: str, unit: Unit, password: str) -> User:
    user = create_user(actor=ACTOR, username=username, password=password)
    grant_role(actor=ACTOR, username=username, role=role, unit=unit)
    return user


def _region_accounts(region: Unit, password: str) -> tuple[User, User]:
    """The region's quartermaster (armorer over the region, custodian of its depot) and its
    commander: the two people who issue and confirm in battalions without accounts of their own."""
    quartermaster, commander = ARMORY_USERS
    return (
        _account(quartermaster, "armorer", region, password),
        _account(commander, "commander", region, password),
    )


def _battalion_of(unit_code: str) -> str:
    return "-".join(unit_code.split("-")[:2])


class _Shelf:
    """Items still at each site, by model, taken in id order as they are issued."""

    def __init__(self, sites: Sequence[Site]) -> None:
        self.items: dict[tuple[int, str], list[int]] = defaultdict(list)
        rows = Item.objects.filter(site__in=sites, place="site").order_by("pk")
        for pk, site_id, model in rows.values_list("pk", "site_id", "model__code"):
            self.items[(site_id, model)].append(pk)
        self.stocked = {key: len(ids) for key, ids in self.items.items()}

    def take(self, site: Site, model: str, count: int = 1) -> list[int]:
        shelf = self.items[(site.pk, model)]
        taken, shelf[:] = shelf[:count], shelf[count:]
        return taken

    def left(self, site: Site, model: str) -> int:
        return len(self.items[(site.pk, model)])

    def share_left(self, site: Site, model: str) -> float:
        return self.left(site, model) / (self.stocked.get((site.pk, model)) or 1)


def _custody(
    region: Unit,
    battalions: list[Battalion],
    depot: Site,
    quartermaster: Actor,
    today: dt.date,
) -> None:
    """A few weeks of custody in the region, each step through its service."""
    by_code = {b.unit.code: b for b in battalions}
    shelf = _Shelf([s for b in battalions for s in (b.arms_room, b.store)] + [depot])
    people = people_in_subtree(region).filter(status="active")
    _assign_firearms(
        ranked_eligible(category="firearm", moment=today, people=people), by_code, shelf
    )
    for category, models, per_battalion, hours, purpose in (
        ("radio", ("RAD-DMR-U", "RAD-DMR-V"), RADIO_CHECKOUTS, 12, "night patrol"),
        ("drone", ("UAV-T4", "UAV-D2"), 1, 8, "observation over the water works"),
    ):
        ranked = ranked_eligible(category=category, moment=today, people=people)
        _checkouts(ranked, by_code, shelf, models, per_battalion, hours, purpose)
    first = battalions[0]
    _first_battalion(first, shelf, today)
    for battalion in battalions:
        _ammunition(battalion)
    _loose_ends(first, depot, shelf, quartermaster)


def _issue(
    battalion: Battalion,
    person: Person,
    item_ids: list[int],
    *,
    kind: str,
    hours: int | None = None,
    purpose: str = "",
    by_commander: bool = False,
) -> None:
    """Issue through the service: the armorer acting and the commander confirming, or (for
    what only commanders authorise) the commander alone."""
    assert battalion.armorer is not None and battalion.commander is not None
    outcome = issue_items(
        actor=battalion.commander if by_commander else battalion.armorer,
        second=None if by_commander else battalion.commander,
        person=person,
        item_ids=item_ids,
        kind=kind,
        hours=hours,
        purpose=purpose,
    )
    if not outcome.issued:  # the demo only asks for what the ranking says is allowed
        reasons = "; ".join(f"{r.rule}: {r.message}" for r in outcome.refusals)
        raise RuntimeError(f"the demo's issue to {person.national_id} was refused: {reasons}")


def _assign_firearms(ranked: list[Ranked], by_code: dict[str, Battalion], shelf: _Shelf) -> None:
    """Down the region's ranking, each volunteer is assigned a rifle (or a pistol) from their
    battalion's arms room with its magazines, and a helmet and body armour when there are any,
    until ASSIGNED_SHARE of the battalion's firearms are out."""
    budget = {
        code: round(ASSIGNED_SHARE * sum(shelf.left(b.arms_room, m) for m in MAGAZINE_FOR))
        for code, b in by_code.items()
    }
    chosen = []
    for entry in ranked:
        code = _battalion_of(entry.person.unit_code)
        battalion = by_code.get(code)
        if battalion is None or battalion.armorer is None or budget[code] <= 0:
            continue
        targets = {d.target for d in entry.decisions}
        room = battalion.arms_room
        allowed = [
            m
            for m in MAGAZINE_FOR
            if f"firearm/{'pistol' if m == 'PST-9' else 'rifle'}" in targets and shelf.left(room, m)
        ]
        if not allowed:
            continue
        # Each model goes out in proportion to its stock, so every calibre is in use.
        weapon = max(allowed, key=lambda m: shelf.share_left(room, m))
        budget[code] -= 1
        chosen.append((entry.person.pk, battalion, weapon, shelf.take(room, weapon)))
    people = Person.objects.in_bulk([pk for pk, *_ in chosen])
    for pk, battalion, weapon, items in chosen:
        items += shelf.take(battalion.arms_room, MAGAZINE_FOR[weapon], 2)
        for gear in ("PG-HELMET", "PG-ARMOUR"):
            items += shelf.take(battalion.store, gear)
        _issue(battalion, people[pk], items, kind="assignment", purpose="personal weapon")
        battalion.holders.append(people[pk])


def _checkouts(
    ranked: list[Ranked],
    by_code: dict[str, Battalion],
    shelf: _Shelf,
    models: tuple[str, ...],
    per_battalion: int,
    hours: int,
    purpose: str,
) -> None:
    """Items out for one shift to the first eligible volunteers of each battalion."""
    given: Counter[str] = Counter()
    chosen = []
    for entry in ranked:
        code = _battalion_of(entry.person.unit_code)
        battalion = by_code.get(code)
        if battalion is None or battalion.armorer is None or given[code] >= per_battalion:
            continue
        given[code] += 1
        chosen.append((entry.person.pk, battalion))
    people = Person.objects.in_bulk([pk for pk, _ in chosen])
    for n, (pk, battalion) in enumerate(chosen):
        for model in models[n % len(models) :] + models[: n % len(models)]:
            site = battalion.store if model.startswith("RAD") else battalion.arms_room
            if shelf.left(site, model):
                items = shelf.take(site, model)
                _issue(battalion, people[pk], items, kind="checkout", hours=hours, purpose=purpose)
                break


def _first_battalion(battalion: Battalion, shelf: _Shelf, today: dt.date) -> None:
    """The demo's own battalion also has a counter-drone device and a vehicle out."""
    active = people_in_subtree(battalion.unit).filter(status="active")
    jammer = ranked_eligible(category="counter_drone", moment=today, people=active)
    if jammer and shelf.left(battalion.arms_room, "CD-HJ"):
        person = Person.objects.get(pk=jammer[0].person.pk)
        _issue(
            battalion, person, shelf.take(battalion.arms_room, "CD-HJ"), kind="checkout",
            hours=12, purpose="counter-drone cover for the substation",
        )  # fmt: skip
    drivers = ranked_eligible(category="vehicle", moment=today, people=active)
    if drivers and shelf.left(battalion.store, "VEH-PICKUP"):
        person = Person.objects.get(pk=drivers[0].person.pk)
        _issue(
            battalion, person, shelf.take(battalion.store, "VEH-PICKUP"), kind="checkout",
            hours=48, purpose="patrol vehicle for the weekend rota",
            by_commander=True,  # vehicles are authorised by commanders only
        )  # fmt: skip


def _ammunition(battalion: Battalion) -> None:
    """Rounds to a few rifle holders for range training; some fired, some handed back."""
    if battalion.armorer is None or battalion.commander is None:
        return
    weapons = dict(
        Item.objects.filter(
            holder__in=battalion.holders, model__category__code="firearm"
        ).values_list("holder_id", "model__code")
    )
    # One holder of each weapon first, so that every calibre's lot sees some use.
    first_of_each = {weapons[p.pk]: p for p in reversed(battalion.holders)}
    holders = list(dict.fromkeys([*first_of_each.values(), *battalion.holders]))
    holders = holders[:AMMUNITION_ISSUES]
    lots: dict[str, Lot] = {}
    for plan in LOTS:  # each calibre's first lot in the arms rooms
        if plan.arms_room and plan.model not in lots:
            lots[plan.model] = Lot.objects.select_related("model__category").get(
                model__code=plan.model, lot_number=plan.number
            )
    for n, person in enumerate(holders):
        lot = lots[AMMUNITION_FOR[weapons[person.pk]]]
        issued, reasons = issue_ammunition(
            actor=battalion.armorer, second=battalion.commander, person=person, lot=lot,
            site=battalion.arms_room, quantity=ROUNDS_ISSUED, purpose="range training",
        )  # fmt: skip
        if not issued:
            raise RuntimeError(f"the demo's ammunition issue was refused: {'; '.join(reasons)}")
        if n % 2 == 0:
            expend_ammunition(
                actor=battalion.armorer, person=person, lot=lot, quantity=ROUNDS_FIRED,
                reason="range training: zeroing and qualification shoot",
            )  # fmt: skip
        if n == 0:
            return_ammunition(
                actor=battalion.armorer, person=person, lot=lot, site=battalion.arms_room,
                quantity=ROUNDS_BACK,
            )  # fmt: skip


def _count_store_radios(battalion: Battalion) -> None:
    """A count done and closed before: the company store's radios, all there. Its closing
    entries attest each radio's last event, so their proof bundles show none is left out."""
    armorer, counter = battalion.armorer, battalion.commander_user
    assert armorer is not None and counter is not None
    count = start_count(actor=armorer, site=battalion.store, counter=counter, category="radio")
    present = Item.objects.filter(
        site=battalion.store, place="site", model__category__code="radio"
    ).values_list("serial", flat=True)
    record_count(actor=Actor.for_user(counter), count=count, serials=sorted(present))
    close_count(actor=Actor.for_user(counter), count=count)


def _loose_ends(battalion: Battalion, depot: Site, shelf: _Shelf, quartermaster: Actor) -> None:
    """What the demo leaves for its user: a radio lost on patrol (an open incident), a rifle at
    the gunsmith's, night-vision in transit from the depot, and a firearms count half done."""
    armorer, commander, counter = battalion.armorer, battalion.commander, battalion.commander_user
    assert armorer is not None and commander is not None and counter is not None
    _count_store_radios(battalion)
    radio = (
        Item.objects.filter(
            home_site=battalion.store, place="person", model__category__code="radio"
        )
        .order_by("pk")
        .first()
    )
    if radio is not None:
        incident = report_missing(
            actor=armorer, item_ids=[radio.pk], stolen=False,
            summary="Radio lost on night patrol near the pumping station; the holder reported "
            "it at the end of the shift. Search of the route found nothing.",
        )  # fmt: skip
        add_incident_note(
            actor=armorer, incident=incident, status_to="investigating",
            text="Holder interviewed; the radio's key was revoked on the network.",
        )  # fmt: skip
    rifle = shelf.take(battalion.arms_room, "RFL-556")
    send_to_maintenance(
        actor=armorer, item_ids=rifle, provider="Regional gunsmith workshop",
        reason="failure to feed after range training; extractor to be inspected",
    )  # fmt: skip
    sending = shelf.take(depot, "OPT-NVM", 2) + shelf.take(depot, "CD-HJ")
    dispatch_transfer(
        actor=quartermaster, from_site=depot, to_site=battalion.arms_room, item_ids=sending
    )
    count = start_count(
        actor=armorer, site=battalion.arms_room, counter=counter, category="firearm"
    )
    present = sorted(
        Item.objects.filter(
            site=battalion.arms_room, place="site", model__category__code="firearm"
        ).values_list("serial", flat=True)
    )
    if len(present) > 5:  # the last rack is still to be counted
        record_count(actor=commander, count=count, serials=present[:-5])


# --- what was built ------------------------------------------------------------------------


@dataclass(frozen=True)
class LotLine:
    model: str
    number: str
    received: int
    in_store: int
    with_people: int
    expended: int


@dataclass(frozen=True)
class ArmorySummary:
    sites: int
    certified: int
    items_by_category: dict[str, Counter[str]]
    lots: list[LotLine]
    open_counts: list[str]
    open_incidents: list[str]
    in_transit: list[str]


def summarise_armory(today: dt.date) -> ArmorySummary:
    """Counts someone trying the armory cares about, read back from the database."""
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    rows = (
        Item.objects.values_list("model__category__code", "place")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for category, place, n in rows:
        by_category[category][place] += n
    lots = []
    for lot in Lot.objects.select_related("model").order_by("model__code", "lot_number"):
        balances = LotBalance.objects.filter(lot=lot).aggregate(
            store=Sum("quantity", filter=Q(site__isnull=False)),
            people=Sum("quantity", filter=Q(holder__isnull=False)),
        )
        lots.append(
            LotLine(
                lot.model.code, lot.lot_number, lot.received_total, balances["store"] or 0,
                balances["people"] or 0, lot.expended_total,
            )
        )  # fmt: skip
    counts = [
        f"count {c.pk} of {c.category.code if c.category else 'everything'} at {c.site.code} "
        f"(counter {c.counter.username}, {c.records.count():,} serials recorded so far)"
        for c in InventoryCount.objects.filter(status="open").select_related(
            "site", "category", "counter"
        )
    ]
    incidents = [
        f"incident {i.pk} ({i.kind}, {i.status}): {i.summary.split(';')[0]}"
        for i in Incident.objects.exclude(status="closed").order_by("pk")
    ]
    transit = [
        f"transfer {t.pk} {t.from_site.code} → {t.to_site.code}, {t.items.count()} item(s)"
        for t in Transfer.objects.filter(received_at__isnull=True).select_related(
            "from_site", "to_site"
        )
    ]
    sites = Site.objects.all()
    return ArmorySummary(
        sites=sites.count(),
        certified=sites.filter(
            Q(certification_expires__isnull=True) | Q(certification_expires__gt=today),
            certified_on__lte=today,
        ).count(),
        items_by_category=dict(by_category),
        lots=lots,
        open_counts=counts,
        open_incidents=incidents,
        in_transit=transit,
    )
