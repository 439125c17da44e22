"""The allocation rule as properties (planning.rules, no database): seats per battalion follow
the largest-remainder share of the documented rule, each battalion's seats go to its best
ranks, and nobody ineligible, armed or already tasked is ever chosen."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from muster.planning.rules import Candidate, Slot, allocate, rank_key, share_seats

GROUPS = ("R1-B1", "R1-B2", "R1-B3", "R1-B4")
RIFLE, PISTOL = "firearm/rifle", "firearm/pistol"


@st.composite
def people(draw, *, uniform: bool = False) -> list[Candidate]:
    count = draw(st.integers(0, 40))
    found = []
    for n in range(count):
        targets = (
            frozenset({RIFLE})
            if uniform
            else draw(st.sets(st.sampled_from([RIFLE, PISTOL])).map(frozenset))
        )
        group = draw(st.sampled_from(GROUPS))
        found.append(
            Candidate(
                key=n,
                national_id=f"ID{draw(st.integers(0, 10**6)):07d}-{n}",
                name=f"Person {n}",
                group=group,
                unit_path=f"/1/{GROUPS.index(group) + 2}/",
                targets=targets,
                score=draw(st.integers(0, 50)),
                combat_months=draw(st.integers(0, 3)),
                prior_months=draw(st.integers(0, 3)),
                armed=False if uniform else draw(st.booleans()),
                tasked=False if uniform else draw(st.booleans()),
            )
        )
    return found


@st.composite
def slots(draw, *, uniform: bool = False) -> list[Slot]:
    count = draw(st.integers(0, 30))
    return [
        Slot(
            key=n,
            label=f"VPR S{n:04d}",
            target=RIFLE if uniform else draw(st.sampled_from([RIFLE, PISTOL])),
            site=f"ARM-{n % 3}",
            site_path=draw(st.sampled_from(["/1/", "/1/2/", "/1/3/"])),
        )
        for n in range(count)
    ]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 60), st.dictionaries(st.sampled_from(GROUPS), st.integers(0, 30)))
def test_shares_are_proportional_rounded_down_or_up_and_add_up(seats, demand):
    shares = share_seats(seats, demand)
    total = sum(demand.values())
    assert sum(shares.values()) == min(seats, total)
    for group, share in shares.items():
        assert 0 <= share <= demand[group]
        if seats < total:
            exact = Fraction(seats * demand[group], total)
            assert exact - 1 < share < exact + 1


@settings(max_examples=300, deadline=None)
@given(people(), slots(), st.integers(0, 40))
def test_nobody_ineligible_armed_or_tasked_is_chosen_and_each_gets_an_item_they_may_hold(
    population, items, seats
):
    result = allocate(population, items, seats)
    chosen = result.chosen
    assert len(chosen) <= min(seats, len(items))
    assert len({line.slot.key for line in chosen if line.slot}) == len(chosen)
    for line in chosen:
        person = line.candidate
        assert person.targets and not person.armed and not person.tasked
        assert line.slot is not None and line.slot.target in person.targets
    assert len({line.candidate.key for line in result.lines}) == len(result.lines)


@settings(max_examples=300, deadline=None)
@given(people(uniform=True), slots(uniform=True), st.integers(0, 40))
def test_seats_per_battalion_follow_the_rule_and_go_to_the_best_ranks(population, items, seats):
    result = allocate(population, items, seats)
    demand = Counter(p.group for p in population)
    expected = {g: n for g, n in share_seats(min(seats, len(items)), demand).items() if n}
    assert result.seats_by_group() == expected
    for group in demand:
        ranking = sorted((p for p in population if p.group == group), key=rank_key)
        picked = [line.candidate for line in result.chosen if line.candidate.group == group]
        assert sorted(picked, key=rank_key) == ranking[: len(picked)]
        assert all(line.rank == ranking.index(line.candidate) + 1 for line in result.lines
                   if line.candidate.group == group)  # fmt: skip
