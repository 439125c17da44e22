"""The experience score: who gets one of the 300 rifles first, with the arithmetic shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.policy.ranking import ExperienceFacts, Score, experience_score, rank
from muster.policy.schema import PriorityWeights, parse_policy

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "muster" / "policy" / "examples"
WEIGHTS = parse_policy((EXAMPLES / "national-2026.yaml").read_text(encoding="utf-8")).priority


def facts(
    prior: int = 0, combat: int = 0, quals: frozenset[str] = frozenset(), unit: int = 0
) -> ExperienceFacts:
    return ExperienceFacts(prior, combat, quals, unit)


def points(score: Score) -> dict[str, int]:
    return {c.name: c.points for c in score.components}


def test_worked_example_from_the_docs() -> None:
    """30 months of prior service, 8 of combat, three trainings (one not counted), 20 in unit."""
    veteran = facts(30, 8, frozenset({"firearms_training", "first_aid", "medical_fitness"}), 20)
    score = experience_score(veteran, WEIGHTS)
    assert points(score) == {
        "prior_service": 25,
        "combat_experience": 40,
        "training": 10,
        "time_in_unit": 5,
    }
    assert score.total == 80
    explained = {c.name: c.explanation for c in score.components}
    assert explained["prior_service"] == "30 months × 10 points a year ÷ 12 = 25"
    assert explained["combat_experience"] == "8 months × 5 points a month = 40"
    assert explained["training"] == (
        "2 counted qualifications (firearms_training, first_aid) × 5 points = 10"
    )
    assert explained["time_in_unit"] == "20 months × 3 points a year ÷ 12 = 5"


def test_each_component_is_capped() -> None:
    score = experience_score(facts(prior=300, combat=100, unit=200), WEIGHTS)
    assert points(score) == {
        "prior_service": 100,
        "combat_experience": 180,
        "training": 0,
        "time_in_unit": 15,
    }
    combat = next(c for c in score.components if c.name == "combat_experience")
    assert combat.value == 100
    assert combat.explanation == "36 months, capped at 36 × 5 points a month = 180"


def test_a_newcomer_scores_zero() -> None:
    assert experience_score(facts(), WEIGHTS).total == 0


def test_default_weights_count_no_qualification_unless_listed() -> None:
    score = experience_score(facts(quals=frozenset({"firearms_training"})), PriorityWeights())
    assert points(score)["training"] == 0


def test_negative_months_are_refused() -> None:
    with pytest.raises(ValueError, match="combat_experience_months may not be negative"):
        facts(combat=-1)


def test_rank_puts_the_most_experienced_first() -> None:
    ranked = rank(
        [("recruit", facts(unit=6)), ("veteran", facts(60, 12)), ("reservist", facts(120))],
        WEIGHTS,
    )
    assert [(name, score.total) for name, score in ranked] == [
        ("veteran", 110),
        ("reservist", 100),
        ("recruit", 1),
    ]


def test_ties_go_to_combat_then_prior_service_then_the_order_given() -> None:
    # Each scores 60 points: 12 combat months; 6 combat + 36 prior; 72 prior months.
    by_combat = ("by_combat", facts(combat=12))
    mixed = ("mixed", facts(prior=36, combat=6))
    by_service = ("by_service", facts(prior=72))
    same_a = ("same_a", facts(prior=72))
    ranked = rank([by_service, same_a, mixed, by_combat], WEIGHTS)
    assert {s.total for _, s in ranked} == {60}
    assert [name for name, _ in ranked] == ["by_combat", "mixed", "by_service", "same_a"]


experience = st.builds(
    ExperienceFacts,
    prior_service_months=st.integers(0, 600),
    combat_experience_months=st.integers(0, 200),
    qualification_codes=st.frozensets(
        st.sampled_from(["firearms_training", "first_aid", "psych_assessment", "radio_operator"])
    ),
    months_in_unit=st.integers(0, 400),
)


@given(experience)
def test_the_total_is_the_sum_of_integer_components(item: ExperienceFacts) -> None:
    score = experience_score(item, WEIGHTS)
    assert all(type(c.points) is int and c.points >= 0 for c in score.components)
    assert score.total == sum(c.points for c in score.components)


@given(experience, st.integers(0, 24), st.integers(0, 24), st.integers(0, 24))
def test_more_experience_never_lowers_the_score(
    item: ExperienceFacts, more_prior: int, more_combat: int, more_unit: int
) -> None:
    grown = ExperienceFacts(
        item.prior_service_months + more_prior,
        item.combat_experience_months + more_combat,
        item.qualification_codes | {"first_aid"},
        item.months_in_unit + more_unit,
    )
    assert experience_score(grown, WEIGHTS).total >= experience_score(item, WEIGHTS).total


@given(st.lists(experience, max_size=30))
def test_rank_is_a_deterministic_permutation_ordered_by_total(items: list[ExperienceFacts]) -> None:
    ranked = rank(enumerate(items), WEIGHTS)
    assert sorted(i for i, _ in ranked) == list(range(len(items)))
    totals = [s.total for _, s in ranked]
    assert totals == sorted(totals, reverse=True)
    assert rank(enumerate(items), WEIGHTS) == ranked
