"""The allocation rule (R3): who of the volunteers eligible for a scarce item, and not yet
holding one, is proposed for each available item, shared fairly among battalions, with every
choice and every notable non-choice explained. Pure Python: no Django here.

The rule, step by step (docs and explanations quote it):

1. Seats: the plan shares out S = min(serviceable items of the category available in its
   scope, the region's quota headroom, the limit asked). The headroom is the policy's
   `quota.per_region` minus the items issued in the region now minus the seats held by open
   tasks of approved plans (planning.selectors works it out).
2. Candidates: volunteers whom the eligibility engine allows a target of an available item
   (e.g. firearm/rifle) under the policy in force, who hold no item of the category and have
   no open issue task for it. Everyone else is counted, never chosen.
3. Rank within a battalion: the R3 experience score, highest first; ties go to more combat
   months, then more prior service, then the lower national id.
4. Shares: the seats are shared among battalions in proportion to their candidates by the
   largest remainder (Hamilton) method: battalion b with n_b of the N candidates gets
   floor(S × n_b / N) seats, and the seats left over go one each to the largest remainders
   (ties: more candidates, then the battalion's code). When S ≥ N everyone gets a seat. So a
   battalion gets its exact proportional share rounded down or up, never more seats than it
   has candidates, and the shares add up to S.
5. Filling: a battalion's seats go to its best-ranked candidates, each taking an available
   item of a target they are allowed, from the nearest site (the site of their own unit or of
   the closest unit above it, then by site code, then by serial). A candidate for whom no such
   item is left is passed over, with that reason, and the next one takes the seat.
6. Seats a battalion cannot fill (its candidates ran out) are shared again among the
   battalions that still have candidates, by the same rule, round after round, until the seats
   or the candidates run out.

Explained non-choices: in each battalion, the best-ranked candidates left without a seat (up
to PASSED_SHOWN of them), and every candidate passed over for want of an item they may hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

PASSED_SHOWN = 3  # best-ranked candidates without a seat explained per battalion

Outcome = Literal["chosen", "no_seat", "no_item"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One volunteer as the rule sees them: `targets` are what the engine allows them (empty:
    not eligible); `armed` holds an item of the category; `tasked` has an open issue task."""

    key: int
    national_id: str
    name: str
    group: str  # the battalion's code (or the region's, outside any battalion)
    unit_path: str
    targets: frozenset[str]
    score: int
    combat_months: int = 0
    prior_months: int = 0
    score_text: str = ""
    armed: bool = False
    tasked: bool = False


@dataclass(frozen=True, slots=True)
class Slot:
    """One available item: what the engine decides it as (`target`) and where it is."""

    key: int
    label: str  # "RFL-556 R5A00001"
    target: str
    site: str  # the site's code
    site_path: str  # the unit path of the site's unit


@dataclass(frozen=True, slots=True)
class Share:
    """One battalion's seats in one round of step 4, and the arithmetic behind them."""

    round: int
    group: str
    candidates: int
    of_candidates: int
    seats_shared: int
    floor: int
    remainder_seat: bool
    seats: int

    @property
    def quota_text(self) -> str:
        """The proportional share, exactly: "12 of 40 candidates × 10 seats = 3.00"."""
        exact = self.seats_shared * self.candidates / self.of_candidates
        return (
            f"{self.candidates} of {self.of_candidates} candidates × {self.seats_shared} "
            f"seats = {exact:.2f}"
        )

    def explained(self) -> str:
        extra = " + 1 for a largest remainder" if self.remainder_seat else ""
        return (
            f"round {self.round}: {self.group} gets {self.seats} of {self.seats_shared} seats "
            f"({self.quota_text} → {self.floor}{extra})"
        )


@dataclass(frozen=True, slots=True)
class Line:
    """What the plan says of one candidate."""

    candidate: Candidate
    outcome: Outcome
    rank: int  # within the battalion's candidates, from 1
    slot: Slot | None
    step: str
    explanation: str


@dataclass(frozen=True)
class Allocation:
    """The rule's answer: the lines (chosen ones first, in the order seats were given, then the
    non-choices), the shares of each round, and who was left out before ranking and why."""

    seats: int
    lines: list[Line]
    shares: list[Share]
    candidates: int
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def chosen(self) -> list[Line]:
        return [line for line in self.lines if line.outcome == "chosen"]

    def seats_by_group(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for line in self.chosen:
            found[line.candidate.group] = found.get(line.candidate.group, 0) + 1
        return found


def share_seats(seats: int, demand: Mapping[str, int]) -> dict[str, int]:
    """Step 4: `seats` shared among groups in proportion to `demand` by largest remainder;
    every group with demand is in the answer (possibly with 0). Integer arithmetic only."""
    return {group: share.seats for group, share in _shares(seats, demand, 1).items()}


def _shares(seats: int, demand: Mapping[str, int], round_: int) -> dict[str, Share]:
    groups = {g: n for g, n in demand.items() if n > 0}
    total = sum(groups.values())
    if not groups:
        return {}
    if seats >= total:
        return {g: Share(round_, g, n, total, seats, n, False, n) for g, n in groups.items()}
    floors = {g: seats * n // total for g, n in groups.items()}
    left = seats - sum(floors.values())
    # Remainders compared as numerators over the same denominator: exact, no floats.
    by_remainder = sorted(groups, key=lambda g: (-(seats * groups[g] % total), -groups[g], g))
    extra = set(by_remainder[:left])
    return {
        g: Share(round_, g, n, total, seats, floors[g], g in extra, floors[g] + (g in extra))
        for g, n in groups.items()
    }


def rank_key(candidate: Candidate) -> tuple[int, int, int, str]:
    """Step 3: score, then combat months, then prior service (all highest first), then the
    lower national id."""
    return (
        -candidate.score,
        -candidate.combat_months,
        -candidate.prior_months,
        candidate.national_id,
    )


def allocate(people: Iterable[Candidate], items: Sequence[Slot], seats: int) -> Allocation:
    """Apply the rule: at most `seats` of `items` go to the best-ranked of `people` who may
    hold them, shared among their battalions; see the module's docstring."""
    targets = {slot.target for slot in items}
    excluded = {"not_eligible": 0, "armed": 0, "tasked": 0, "no_item_of_their_class": 0}
    queues: dict[str, list[Candidate]] = {}
    for person in people:
        if not person.targets:
            excluded["not_eligible"] += 1
        elif person.armed:
            excluded["armed"] += 1
        elif person.tasked:
            excluded["tasked"] += 1
        elif not person.targets & targets:
            excluded["no_item_of_their_class"] += 1
        else:
            queues.setdefault(person.group, []).append(person)
    for queue in queues.values():
        queue.sort(key=rank_key)
    ranks = {c.key: n for queue in queues.values() for n, c in enumerate(queue, start=1)}
    candidates = sum(len(q) for q in queues.values())
    seats = max(0, min(seats, len(items)))
    state = _Filling(list(items), ranks)
    pending = {g: list(q) for g, q in queues.items()}
    left = seats
    round_ = 0
    while left > 0 and any(pending.values()):
        round_ += 1
        shares = _shares(left, {g: len(q) for g, q in pending.items()}, round_)
        state.shares.extend(shares[g] for g in sorted(shares))
        for group in sorted(shares):
            left -= state.fill(shares[group], pending[group])
    state.explain_unseated(queues)
    return Allocation(seats, state.lines(), state.shares, candidates, excluded)


class _Filling:
    """Steps 5 and 6: seats filled in rank order, items taken from the nearest site."""

    def __init__(self, items: list[Slot], ranks: dict[int, int]) -> None:
        self.items = items
        self.ranks = ranks
        self.shares: list[Share] = []
        self.chosen: list[Line] = []
        self.passed: list[Line] = []
        self.seated: dict[str, list[Candidate]] = {}

    def fill(self, share: Share, queue: list[Candidate]) -> int:
        """Give the share's seats to the head of `queue` (consumed); returns seats filled."""
        filled = 0
        while filled < share.seats and queue:
            person = queue.pop(0)
            slot = self._take(person)
            rank = self.ranks[person.key]
            if slot is None:
                allowed = ", ".join(sorted(person.targets))
                self.passed.append(
                    Line(
                        person, "no_item", rank, None, share.explained(),
                        f"rank {rank} in {person.group} (score {person.score}) may hold only "
                        f"{allowed}, and no such item is left in the plan's scope",
                    )
                )  # fmt: skip
                continue
            filled += 1
            seated = self.seated.setdefault(person.group, [])
            seated.append(person)
            step = f"{share.explained()}; seat {filled} of {share.seats}: rank {rank} in {person.group}"
            where = "the site of their unit" if _covers(slot, person) else "the nearest site"
            self.chosen.append(
                Line(
                    person, "chosen", rank, slot, step,
                    f"score {person.score} ({person.score_text}); may hold "
                    f"{', '.join(sorted(person.targets))}; proposed {slot.label} at {slot.site} "
                    f"({where})",
                )
            )  # fmt: skip
        return filled

    def _take(self, person: Candidate) -> Slot | None:
        fitting = [s for s in self.items if s.target in person.targets]
        if not fitting:
            return None
        best = min(fitting, key=lambda s: (-_nearness(s, person), s.site, s.label))
        self.items.remove(best)
        return best

    def explain_unseated(self, queues: Mapping[str, list[Candidate]]) -> None:
        """The best-ranked candidates of each battalion left without a seat, and why."""
        passed_keys = {line.candidate.key for line in self.passed}
        for group in sorted(queues):
            seated = self.seated.get(group, [])
            done = passed_keys | {c.key for c in seated}
            left = [c for c in queues[group] if c.key not in done][:PASSED_SHOWN]
            for person in left:
                rank = self.ranks[person.key]
                if seated:
                    scores = sorted({c.score for c in seated}, reverse=True)
                    shown = f"{scores[0]}" if len(scores) == 1 else f"{scores[0]}–{scores[-1]}"
                    why = f"{group}'s {len(seated)} seats went to higher ranks (scores {shown})"
                else:
                    why = f"{group} got no seat: its share of the seats rounded down to 0"
                self.passed.append(
                    Line(
                        person, "no_seat", rank, None, f"{group}: {len(seated)} seats",
                        f"rank {rank} in {group} (score {person.score}): {why}",
                    )
                )  # fmt: skip

    def lines(self) -> list[Line]:
        return [*self.chosen, *self.passed]


def _nearness(slot: Slot, person: Candidate) -> int:
    """How deep the site's unit is on the person's path (-1 when it is not on it)."""
    return len(slot.site_path) if _covers(slot, person) else -1


def _covers(slot: Slot, person: Candidate) -> bool:
    return person.unit_path.startswith(slot.site_path)
