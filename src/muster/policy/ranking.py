"""The experience score (R3): who gets a scarce firearm first, with the arithmetic shown.

Integers only, so a score is exact and the same on every machine. Pure Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from muster.policy.schema import PriorityWeights

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ExperienceFacts:
    """What the score is computed from; months and counts are never negative."""

    prior_service_months: int
    combat_experience_months: int
    qualification_codes: frozenset[str]
    months_in_unit: int

    def __post_init__(self) -> None:
        for name in ("prior_service_months", "combat_experience_months", "months_in_unit"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} may not be negative")


@dataclass(frozen=True, slots=True)
class ScoreComponent:
    """One term of the score: the input value, the points it earns, and the sum written out."""

    name: str
    value: int
    points: int
    explanation: str


@dataclass(frozen=True, slots=True)
class Score:
    """The total and the components it is the sum of."""

    total: int
    components: tuple[ScoreComponent, ...]


def experience_score(facts: ExperienceFacts, weights: PriorityWeights) -> Score:
    """Sum of prior service, combat, counted qualifications and time in unit, each capped."""
    components = (
        _per_year(
            "prior_service",
            facts.prior_service_months,
            weights.points_per_year_prior_service,
            weights.max_years_prior_service,
        ),
        _combat(facts.combat_experience_months, weights),
        _training(facts.qualification_codes, weights),
        _per_year(
            "time_in_unit",
            facts.months_in_unit,
            weights.points_per_year_in_unit,
            weights.max_years_in_unit,
        ),
    )
    return Score(sum(c.points for c in components), components)


def rank(
    items: Iterable[tuple[T, ExperienceFacts]], weights: PriorityWeights
) -> list[tuple[T, Score]]:
    """Highest score first; ties go to more combat months, then more prior service, then input order."""
    scored = [(item, facts, experience_score(facts, weights)) for item, facts in items]
    ordered = sorted(
        enumerate(scored),
        key=lambda pair: (
            -pair[1][2].total,
            -pair[1][1].combat_experience_months,
            -pair[1][1].prior_service_months,
            pair[0],
        ),
    )
    return [(item, score) for _, (item, _facts, score) in ordered]


def _per_year(name: str, months: int, per_year: int, max_years: int) -> ScoreComponent:
    """Months count pro rata (points a year × months ÷ 12, rounded down), capped at max_years."""
    counted = min(months, max_years * 12)
    points = counted * per_year // 12
    cap = f", capped at {max_years * 12}" if months > counted else ""
    explanation = f"{counted} months{cap} × {per_year} points a year ÷ 12 = {points}"
    return ScoreComponent(name, months, points, explanation)


def _combat(months: int, weights: PriorityWeights) -> ScoreComponent:
    counted = min(months, weights.max_months_combat)
    points = counted * weights.points_per_month_combat
    cap = f", capped at {weights.max_months_combat}" if months > counted else ""
    per = weights.points_per_month_combat
    explanation = f"{counted} months{cap} × {per} points a month = {points}"
    return ScoreComponent("combat_experience", months, points, explanation)


def _training(codes: frozenset[str], weights: PriorityWeights) -> ScoreComponent:
    counted = sorted(codes.intersection(weights.counted_qualifications))
    points = len(counted) * weights.points_per_qualification
    listed = f" ({', '.join(counted)})" if counted else ""
    per = weights.points_per_qualification
    explanation = f"{len(counted)} counted qualifications{listed} × {per} points = {points}"
    return ScoreComponent("training", len(counted), points, explanation)
