"""Qualification histories for demo volunteers: vetting, training renewals, lapses, revocations.

No Django here. Histories follow the policy's qualification types and default validities, so
that eligibility computed from them gives a realistic spread: most of the firearms-trained
are eligible, some have lapsed, a few were revoked.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from muster.demo import names
from muster.vetting.rules import add_months

if TYPE_CHECKING:
    from muster.demo.plan import PersonPlan

FIREARMS_PROGRAMME = dt.date(2025, 4, 1)  # firearms training starts as the force is equipped
REVOCATION_SHARE = 0.021
REVOCATION_REASONS = {
    "firearms_training": ("failed re-assessment", "safety violation on the range"),
    "psych_assessment": ("failed re-assessment", "new information from the treating physician"),
    "medical_fitness": ("medical condition reported", "failed re-assessment"),
    "background_check": ("new information from the police", "record entered in error"),
}
OTHER_REVOCATION_REASONS = ("failed re-assessment", "record entered in error")
EVIDENCE_PREFIX = {
    "firearms_training": "FT", "psych_assessment": "PSY", "medical_fitness": "MED",
    "background_check": "BGC", "drone_operator": "UAV", "counter_drone_operator": "CUAS",
    "radio_operator": "RAD", "driving_licence": "DL", "first_aid": "FA", "fire_safety": "FS",
}  # fmt: skip
# (type, share of vetted volunteers who hold it, chance each record is renewed)
OPTIONAL_TRAINING = (
    ("drone_operator", 0.095, 0.7),
    ("counter_drone_operator", 0.035, 0.7),
    ("radio_operator", 0.35, 0.0),
    ("first_aid", 0.6, 0.6),
    ("fire_safety", 0.3, 0.6),
)


@dataclass(frozen=True)
class QualificationPlan:
    """One record; `stated_expiry` False leaves the expiry to the type's default validity."""

    type_code: str
    klass: str
    obtained_on: dt.date
    expires_on: dt.date | None
    stated_expiry: bool
    examiner: str
    evidence_ref: str
    revoked_on: dt.date | None = None
    revocation_reason: str = ""


def days_between(start: dt.date, end: dt.date, rng: random.Random) -> dt.date:
    """A day drawn uniformly from start..end; `end` when the range is empty, so never later."""
    span = (end - start).days
    return start + dt.timedelta(days=rng.randint(0, span)) if span > 0 else end


def years_after(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


def _later(day: dt.date, low: int, high: int, rng: random.Random) -> dt.date:
    return day + dt.timedelta(days=rng.randint(low, high))


class HistoryDrawer:
    """Draws the records of one region's volunteers from the region's Random, in a fixed order."""

    def __init__(
        self, rng: random.Random, today: dt.date, validity: Mapping[str, int | None], region: str
    ) -> None:
        self.rng, self.today, self.validity = rng, today, validity
        instructors = [f"Range instructor {self._initial_name()}" for _ in range(4)]
        self.examiners = {
            "firearms_training": [*instructors, f"{region} Training Centre"],
            "psych_assessment": [f"Dr. {self._initial_name()}, psychologist" for _ in range(3)],
            "medical_fitness": [f"{region} Medical Commission"],
            "background_check": [f"{region} Police liaison office"],
            "drone_operator": ["UAV Operator School"],
            "counter_drone_operator": ["Electronic Warfare Training Centre"],
            "radio_operator": [f"{region} Signals course"],
            "driving_licence": ["Service Centre of the Ministry of Internal Affairs"],
            "first_aid": ["Red Cross first-aid course", f"{region} Emergency Medicine Centre"],
            "fire_safety": ["State Emergency Service instructor"],
        }

    def _initial_name(self) -> str:
        given = self.rng.choice(names.MALE_NAMES)[0]
        return f"{given[0]}. {self.rng.choice(names.FAMILY_NAMES)[0]}"

    def draw(self, person: PersonPlan, *, firearms: bool) -> None:
        """Every record of one volunteer; nothing is obtained after suspension or discharge."""
        rng, status = self.rng, person.final_status
        end = person.steps[-1].effective_on if status in ("suspended", "discharged") else self.today
        self.driving(person, end)
        joined = person.joined_on
        if status == "applicant" or (person.status == "applicant" and status == "discharged"):
            if rng.random() < 0.15:  # a civilian first-aid course before applying
                self.chain(person, "first_aid", "", _later(joined, -700, -30, rng), end, 0)
            return
        if status == "vetting":  # some checks done, others still to come
            start = person.steps[0].effective_on
            for code, share in (("background_check", 0.6), ("medical_fitness", 0.5)):
                if rng.random() < share:
                    self.record(person, code, "", _later(start, 3, 30, rng))
            if rng.random() < 0.4:
                self.record(person, "psych_assessment", "", _later(start, 3, 30, rng))
            return
        vetted = _later(joined, -45, -10, rng)
        self.chain(person, "background_check", "", vetted, end, 0.9)
        first_training = max(_later(joined, 30, 120, rng), _later(FIREARMS_PROGRAMME, 0, 330, rng))
        if firearms and first_training <= end:
            self.firearms(person, first_training, end)
        else:
            if rng.random() < 0.3:
                self.record(person, "medical_fitness", "", vetted)
            if rng.random() < 0.15:
                self.record(person, "psych_assessment", "", vetted)
        for code, share, renew in OPTIONAL_TRAINING:
            if rng.random() < share:
                self.chain(person, code, "", _later(joined, 14, 400, rng), end, renew)
        self.revocations(person)

    def firearms(self, person: PersonPlan, first: dt.date, end: dt.date) -> None:
        """Yearly rifle training, each preceded by a medical and, every other year, a psych test."""
        rng = self.rng
        rifle = self.chain(person, "firearms_training", "rifle", first, end, 0.85, lead=(-30, 15))
        last_psych: dt.date | None = None
        for training in rifle:
            self.record(person, "medical_fitness", "", _later(training.obtained_on, -25, -5, rng))
            if last_psych is None or add_months(last_psych, 20) < training.obtained_on:
                last_psych = _later(training.obtained_on, -20, -3, rng)
                self.record(person, "psych_assessment", "", last_psych)
        if rng.random() < 0.25:
            self.chain(person, "firearms_training", "pistol", _later(first, 1, 60, rng), end, 0.8)

    def driving(self, person: PersonPlan, end: dt.date) -> None:
        """Driving licences carry their own expiry (ten years from issue), most still valid."""
        rng = self.rng
        if rng.random() >= 0.55:
            return
        adult = years_after(person.birth_date, 18)
        earliest = max(adult, years_after(self.today, -10))
        if rng.random() < 0.05:  # an old licence the volunteer has not renewed
            earliest = max(adult, years_after(self.today, -12))
        latest = min(person.joined_on, end)
        issued = days_between(earliest, latest, rng)
        for klass, share in (("B", 1.0), ("C", 0.22), ("D", 0.03), ("BE", 0.03)):
            if rng.random() < share:
                day = issued if klass == "B" else days_between(issued, latest, rng)
                self.record(person, "driving_licence", klass, day, expires=years_after(day, 10))

    def chain(
        self,
        person: PersonPlan,
        code: str,
        klass: str,
        first: dt.date,
        end: dt.date,
        renew: float,
        lead: tuple[int, int] = (-45, 20),
    ) -> list[QualificationPlan]:
        """A record from `first`, renewed near each expiry with probability `renew`, up to `end`."""
        made: list[QualificationPlan] = []
        day = first
        while day <= end:
            record = self.record(person, code, klass, day)
            if record is None:
                break
            made.append(record)
            if record.expires_on is None or self.rng.random() >= renew:
                break
            day = _later(record.expires_on, *lead, self.rng)
        return made

    def record(
        self,
        person: PersonPlan,
        code: str,
        klass: str,
        day: dt.date,
        expires: dt.date | None = None,
    ) -> QualificationPlan | None:
        """Add one record unless it would be in the future or repeat one already there."""
        if day > self.today or any(
            q.type_code == code and q.klass == klass and q.obtained_on == day
            for q in person.qualifications
        ):
            return None
        months = self.validity.get(code)
        serial = self.rng.randint(1, 999_999)
        record = QualificationPlan(
            type_code=code,
            klass=klass,
            obtained_on=day,
            expires_on=expires or (add_months(day, months) if months else None),
            stated_expiry=expires is not None,
            examiner=self.rng.choice(self.examiners[code]),
            evidence_ref=f"{EVIDENCE_PREFIX[code]}-{day.year}-{serial:06d}",
        )
        person.qualifications.append(record)
        return record

    def revocations(self, person: PersonPlan) -> None:
        """About 2% of records are revoked; a suspension for a failed psychological
        re-assessment revokes the latest assessment on the day of the suspension."""
        rng, quals = self.rng, person.qualifications
        for i, qual in enumerate(quals):
            if qual.type_code == "driving_licence" or rng.random() >= REVOCATION_SHARE:
                continue
            latest = min(qual.expires_on or self.today, self.today)
            when = days_between(qual.obtained_on + dt.timedelta(days=1), latest, rng)
            reasons = REVOCATION_REASONS.get(qual.type_code, OTHER_REVOCATION_REASONS)
            quals[i] = replace(qual, revoked_on=when, revocation_reason=rng.choice(reasons))
        step = person.steps[-1] if person.steps else None
        if step is None or step.reason != "failed psychological re-assessment":
            return
        psych = [
            i
            for i, q in enumerate(quals)
            if q.type_code == "psych_assessment" and q.obtained_on < step.effective_on
        ]
        if psych:
            i = max(psych, key=lambda j: quals[j].obtained_on)
            if quals[i].revoked_on is None:
                quals[i] = replace(
                    quals[i], revoked_on=step.effective_on, revocation_reason="failed re-assessment"
                )
