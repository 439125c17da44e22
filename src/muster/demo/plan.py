"""The demo force as plain data, drawn from a seeded Random: units, volunteers, statuses.

No Django here. Dates are drawn relative to today, so that eligibility has a realistic spread
whenever the demo is built; the same seed on the same day plans the same force. A plan can be
inspected without a database; builder.py writes it through the services. Qualification
histories are drawn by history.py.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from muster.demo import names
from muster.demo.history import HistoryDrawer, QualificationPlan, days_between, years_after
from muster.vetting.rules import add_months

FORCE_RAISED = dt.date(2022, 3, 1)  # the first volunteers join
# Share of volunteers by the status they end up in (role holders are always active).
MEMBER_STATUSES = {
    "applicant": 8.3,
    "vetting": 7.2,
    "active": 76.9,
    "suspended": 4.3,
    "discharged": 3.3,
}
SUSPENSION_REASONS = (
    "pending disciplinary inquiry",
    "failed psychological re-assessment",
    "unexplained absence from duty",
    "medical leave",
    "breach of equipment rules",
)
DISCHARGE_REASONS = (
    "resigned at own request",
    "moved out of the region",
    "health reasons",
    "called up to the armed forces",
    "dismissed after disciplinary inquiry",
)
MOVE_REASONS = (
    "reassigned to balance company strength",
    "moved house closer to the company's area",
    "at own request",
    "driver needed in the company",
)


@dataclass(frozen=True)
class RegionSpec:
    """How big one region of the demo is: battalions and volunteers per battalion."""

    number: int
    battalions: int
    people_per_battalion: int

    @property
    def code(self) -> str:
        return f"R{self.number:02d}"

    @property
    def name(self) -> str:
        return names.region_name(self.number)


@dataclass(frozen=True)
class UnitPlan:
    code: str
    name: str
    kind: str
    parent: str | None


@dataclass(frozen=True)
class StatusStep:
    to_status: str
    effective_on: dt.date
    reason: str


@dataclass(frozen=True)
class Move:
    to_unit: str
    since: dt.date
    reason: str


@dataclass
class PersonPlan:
    """A volunteer as registered (unit, status), then the steps, move and records that follow."""

    national_id: str
    family_name: str
    given_name: str
    patronymic: str
    birth_date: dt.date
    phone: str
    email: str
    unit: str
    role: str
    status: str
    registration_reason: str
    joined_on: dt.date
    prior_service_months: int
    combat_experience_months: int
    steps: list[StatusStep] = field(default_factory=list)
    move: Move | None = None
    qualifications: list[QualificationPlan] = field(default_factory=list)

    @property
    def final_status(self) -> str:
        return self.steps[-1].to_status if self.steps else self.status

    @property
    def final_unit(self) -> str:
        return self.move.to_unit if self.move else self.unit


@dataclass
class RegionPlan:
    spec: RegionSpec
    units: list[UnitPlan]
    people: list[PersonPlan]


def scale_regions(scale: str, regions: int | None = None) -> tuple[RegionSpec, ...]:
    """The regions of a named scale: seed (one full region and a small one), national, tiny."""
    if scale == "seed":
        return (RegionSpec(1, 8, 262), RegionSpec(2, 2, 150))
    if scale == "national":
        return tuple(RegionSpec(n, 10, 330) for n in range(1, (regions or 30) + 1))
    if scale == "tiny":  # for tests: a few dozen people, still two regions
        return (RegionSpec(1, 1, 40), RegionSpec(2, 1, 16))
    raise ValueError(f"unknown demo scale {scale!r}")


def plan_region(
    spec: RegionSpec,
    *,
    seed: int,
    today: dt.date,
    validity: Mapping[str, int | None],
    taken_ids: set[str],
) -> RegionPlan:
    """Plan one region; `taken_ids` (national ids already planned) is extended in place."""
    rng = random.Random(f"muster-demo:{seed}:{spec.code}")
    return _Planner(rng, spec, today, validity, taken_ids).region()


class _Planner:
    """Draws one region; every random choice goes through self.rng in a fixed order."""

    def __init__(
        self,
        rng: random.Random,
        spec: RegionSpec,
        today: dt.date,
        validity: Mapping[str, int | None],
        taken: set[str],
    ) -> None:
        self.rng, self.spec, self.today, self.taken = rng, spec, today, taken
        self.history = HistoryDrawer(rng, today, validity, spec.name.removesuffix(" Region"))

    # --- units and who is in them --------------------------------------------------------

    def region(self) -> RegionPlan:
        spec, rng = self.spec, self.rng
        units = [UnitPlan(spec.code, spec.name, "region", None)]
        people: list[PersonPlan] = []
        for b in range(1, spec.battalions + 1):
            bcode = f"{spec.code}-B{b}"
            units.append(UnitPlan(bcode, f"{names.ordinal(b)} Battalion", "battalion", spec.code))
            size = round(spec.people_per_battalion * rng.uniform(0.92, 1.08))
            companies = rng.choice((3, 4))
            platoons: dict[str, list[str]] = {}
            for c in range(1, companies + 1):
                ccode = f"{bcode}-C{c}"
                units.append(
                    UnitPlan(ccode, f"{names.COMPANY_LETTERS[c - 1]} Company", "company", bcode)
                )
                platoons[ccode] = []
                for p in range(1, 4):
                    units.append(
                        UnitPlan(f"{ccode}-P{p}", f"{names.ordinal(p)} Platoon", "platoon", ccode)
                    )
                    platoons[ccode].append(f"{ccode}-P{p}")
            for role in ("commander", "deputy", "armorer", "vetting_officer"):
                people.append(self.person(bcode, role, "active"))
            for ccode in platoons:
                people.extend(
                    self.person(ccode, role, "active") for role in ("commander", "deputy")
                )
            hq = max(2, round(size * 0.03))
            people.extend(self.person(bcode, "member", self.status()) for _ in range(hq))
            members = max(0, size - 4 - 2 * companies - hq)
            all_platoons = [p for group in platoons.values() for p in group]
            weights = [rng.uniform(0.8, 1.2) for _ in all_platoons]
            for unit in rng.choices(all_platoons, weights=weights, k=members):
                person = self.person(unit, "member", self.status())
                others = [
                    p for c, group in platoons.items() if not unit.startswith(c) for p in group
                ]
                if person.final_status == "active" and rng.random() < 0.06:
                    since = days_between(add_months(person.joined_on, 2), self.today, rng)
                    if since > person.joined_on:
                        person.move = Move(unit, since, rng.choice(MOVE_REASONS))
                        person.unit = rng.choice(others)
                people.append(person)
        return RegionPlan(spec, units, people)

    def status(self) -> str:
        statuses = list(MEMBER_STATUSES)
        return self.rng.choices(statuses, weights=list(MEMBER_STATUSES.values()))[0]

    # --- one volunteer -------------------------------------------------------------------

    def person(self, unit: str, role: str, status: str) -> PersonPlan:
        rng, today = self.rng, self.today
        leader = role != "member"
        male = rng.random() < (0.9 if leader else 0.84)
        family = rng.choice(names.FAMILY_NAMES)[0 if male else 1]
        father = rng.choice(names.MALE_NAMES)
        given = rng.choice(names.MALE_NAMES)[0] if male else rng.choice(names.FEMALE_NAMES)
        if leader:
            born = days_between(dt.date(1965, 1, 1), dt.date(1990, 12, 31), rng)
        else:
            first, last = dt.date(1960, 1, 1).toordinal(), dt.date(2006, 12, 31).toordinal()
            born = dt.date.fromordinal(
                round(rng.triangular(first, last, dt.date(1988, 1, 1).toordinal()))
            )
        adult = years_after(born, 18)
        if status == "applicant":
            joined = today - dt.timedelta(days=rng.randint(5, 120))
        elif status == "vetting":
            joined = today - dt.timedelta(days=rng.randint(25, 200))
        elif leader:
            joined = days_between(FORCE_RAISED, dt.date(2023, 6, 30), rng)
        elif rng.random() < 0.4:
            joined = days_between(FORCE_RAISED, dt.date(2022, 12, 31), rng)
        else:
            joined = days_between(dt.date(2023, 1, 1), today - dt.timedelta(days=60), rng)
        if joined < adult:
            joined = min(
                adult + dt.timedelta(days=rng.randint(0, 120)), today - dt.timedelta(days=5)
            )
        adult_months = (joined.year - adult.year) * 12 + joined.month - adult.month
        prior = 0
        if rng.random() < (0.9 if leader else 0.45) and adult_months >= 6:
            prior = rng.randint(6, min(240, adult_months))
        combat = 0
        if prior and rng.random() < (0.6 if leader else 0.4):
            combat = rng.randint(1, min(60, prior))
        elif not prior and rng.random() < 0.03:
            combat = rng.randint(1, 12)
        person = PersonPlan(
            national_id=self.national_id(),
            family_name=family,
            given_name=given,
            patronymic=father[1] if male else father[2],
            birth_date=born,
            phone=f"+380{rng.choice(names.PHONE_CODES)}{rng.randint(0, 9_999_999):07d}",
            email=self.email(given, family),
            unit=unit,
            role=role,
            status=status if status in ("applicant", "active") else "active",
            registration_reason="enrolled after vetting",
            joined_on=joined,
            prior_service_months=prior,
            combat_experience_months=combat,
        )
        self.lifecycle(person, status)
        self.history.draw(person, firearms=rng.random() < (0.9 if leader else 0.5))
        return person

    def national_id(self) -> str:
        while True:
            candidate = f"VD{self.rng.randint(0, 99_999_999):08d}"
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate

    def email(self, given: str, family: str) -> str:
        if self.rng.random() >= 0.35:
            return ""
        suffix = str(self.rng.randint(1, 99)) if self.rng.random() < 0.4 else ""
        return f"{given[0]}.{family}{suffix}@{self.rng.choice(names.EMAIL_DOMAINS)}".lower()

    def lifecycle(self, person: PersonPlan, status: str) -> None:
        """Registration status and the steps that lead to `status`, each dated and explained."""
        rng, today, joined = self.rng, self.today, person.joined_on
        if status == "applicant":
            person.registration_reason = "application received"
        elif status == "vetting":
            person.status, person.registration_reason = "applicant", "application received"
            start = min(joined + dt.timedelta(days=rng.randint(3, 21)), today)
            person.steps.append(StatusStep("vetting", start, "documents complete; vetting started"))
        elif status == "suspended":
            when = days_between(joined + dt.timedelta(days=90), today - dt.timedelta(days=1), rng)
            person.steps.append(StatusStep("suspended", when, rng.choice(SUSPENSION_REASONS)))
        elif status == "discharged":
            if rng.random() < 0.15:
                person.status, person.registration_reason = "applicant", "application received"
                when = min(joined + dt.timedelta(days=rng.randint(5, 60)), today)
                person.steps.append(StatusStep("discharged", when, "application withdrawn"))
            else:
                when = days_between(
                    joined + dt.timedelta(days=60), today - dt.timedelta(days=1), rng
                )
                person.steps.append(StatusStep("discharged", when, rng.choice(DISCHARGE_REASONS)))
