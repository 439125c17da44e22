"""Properties of the rostering rules and of the suggested roster, over generated weeks (pure:
no database). Whatever the shifts, the volunteers, their leave, their other shifts and their
qualifications, a suggestion never puts anyone where a rule forbids it — checked here by a
checker written apart from the rules — and it spreads the load: when nothing else binds,
no volunteer gets more than one shift's hours beyond another. It is deterministic: the same
facts in any order give the same roster."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from muster.duties.rules import (
    Absence,
    Booking,
    Candidate,
    Limits,
    Need,
    ShiftFacts,
    Span,
    Staffing,
    assess,
    shift_days,
)
from muster.duties.suggest import OpenShift, RosterPlan, Volunteer, suggest

UTC = dt.UTC
MONDAY = dt.date(2026, 3, 2)
START = dt.datetime(2026, 3, 2, tzinfo=UTC)
NEEDS = ("qualification:a", "qualification:b", "eligibility:x/y")
STATUSES = ("active", "active", "active", "suspended")
PATHS = ("/1/", "/1/2/")


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


@st.composite
def limits(draw: st.DrawFn) -> Limits:
    return Limits(
        policy="test@1",
        min_rest=hours(draw(st.sampled_from([0, 4, 8, 12]))),
        max_week_hours=draw(st.sampled_from([None, 12, 24, 40])),
        statuses=("active",),
        tz=UTC,
    )


@st.composite
def spans(draw: st.DrawFn, *, longest: int = 12) -> Span:
    start = START + hours(draw(st.integers(0, 7 * 12 - 1)) * 2)
    return Span(start, start + hours(draw(st.integers(1, longest))))


@st.composite
def open_shifts(draw: st.DrawFn, rules: Limits) -> list[OpenShift]:
    count = draw(st.integers(1, 10))
    found = []
    for n in range(1, count + 1):
        span = draw(spans())
        headcount = draw(st.integers(1, 3))
        keys = draw(st.lists(st.sampled_from(NEEDS), unique=True, max_size=2))
        needs = tuple(Need(k, k, draw(st.integers(1, headcount))) for k in keys)
        facts = ShiftFacts(
            id=n, label=f"shift {n}", span=span, headcount=headcount, needs=needs, limits=rules,
            cancelled=draw(st.booleans()) and draw(st.booleans()),
        )  # fmt: skip
        path = draw(st.sampled_from(PATHS))
        found.append(OpenShift(facts, path, Staffing(), shift_days(span, UTC)))
    return found


@st.composite
def volunteers(draw: st.DrawFn) -> list[Volunteer]:
    count = draw(st.integers(0, 10))
    days = [MONDAY + dt.timedelta(days=n) for n in range(9)]
    found = []
    for n in range(1, count + 1):
        unmet = {(key, day): f"no {key}" for key in NEEDS for day in days if draw(st.booleans())}
        absences = tuple(
            Absence(draw(st.sampled_from(["leave", "unavailable"])), draw(spans(longest=24)))
            for _ in range(draw(st.integers(0, 1)))
        )
        bookings = tuple(
            Booking(-(n * 10 + k), f"other {n}-{k}", draw(spans()))
            for k in range(draw(st.integers(0, 2)))
        )
        found.append(
            Volunteer(
                person_id=n * 7, ref=f"V{n}", name=f"V {n}", status=draw(st.sampled_from(STATUSES)),
                unit_path=draw(st.sampled_from(PATHS)), absences=absences,
                offered=tuple(draw(st.lists(spans(longest=24), max_size=1))), bookings=bookings,
                unmet=unmet,
            )
        )  # fmt: skip
    return found


def now_of(draw_offset: int) -> dt.datetime:
    return START + hours(draw_offset) - hours(1)


# --- a checker of its own, written apart from the rules ------------------------------------


def violations(
    shifts: Sequence[OpenShift], people: Sequence[Volunteer], plan: RosterPlan, now: dt.datetime
) -> list[str]:
    """Every way the suggested roster breaks a rule, in words."""
    by_id = {s.facts.id: s for s in shifts}
    person = {v.person_id: v for v in people}
    on: dict[int, list[int]] = defaultdict(list)  # shift → people
    mine: dict[int, list[tuple[int, Span]]] = defaultdict(list)  # person → (shift id, span)
    for p in plan.proposals:
        on[p.shift_id].append(p.person_id)
        mine[p.person_id].append((p.shift_id, by_id[p.shift_id].facts.span))
    found = []
    for p in plan.proposals:
        shift, v = by_id[p.shift_id], person[p.person_id]
        facts, span, rules = shift.facts, shift.facts.span, shift.facts.limits
        tag = f"{v.ref} on {facts.label}"
        if facts.cancelled or span.ends_at <= now:
            found.append(f"{tag}: the shift is closed")
        if not v.unit_path.startswith(shift.unit_path):
            found.append(f"{tag}: not of the post's unit")
        if v.status not in rules.statuses:
            found.append(f"{tag}: status {v.status}")
        for absence in v.absences:
            if absence.span.starts_at < span.ends_at and span.starts_at < absence.span.ends_at:
                found.append(f"{tag}: {absence.kind}")
        others = [(b.shift_id, b.span) for b in v.bookings] + [
            (sid, s) for sid, s in mine[v.person_id] if sid != facts.id
        ]
        for sid, other in others:
            if other.starts_at < span.ends_at and span.starts_at < other.ends_at:
                found.append(f"{tag}: double-booked with {sid}")
            elif (
                max(other.starts_at - span.ends_at, span.starts_at - other.ends_at) < rules.min_rest
            ):
                found.append(f"{tag}: too little rest before or after {sid}")
        if rules.max_week_hours is not None:
            week = (START, START + dt.timedelta(days=7))
            if week[0] <= span.starts_at < week[1]:
                total = sum(
                    (s.ends_at - s.starts_at) / hours(1)
                    for _, s in [(facts.id, span), *others]
                    if week[0] <= s.starts_at < week[1]
                )
                if total > rules.max_week_hours:
                    found.append(f"{tag}: {total} h in the week")
    for sid, ids in on.items():
        facts = by_id[sid].facts
        if len(ids) != len(set(ids)):
            found.append(f"{facts.label}: someone twice")
        if len(ids) > facts.headcount:
            found.append(f"{facts.label}: {len(ids)} on {facts.headcount} places")
        days = by_id[sid].days
        for need in facts.needs:
            met = sum(1 for pid in ids if not any((need.key, d) in person[pid].unmet for d in days))
            if need.count - met > facts.headcount - len(ids):
                found.append(f"{facts.label}: {need.key} can no longer be met")
    return found


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_suggested_roster_never_breaks_a_rule(data):
    rules = data.draw(limits())
    shifts = data.draw(open_shifts(rules))
    people = data.draw(volunteers())
    now = now_of(data.draw(st.integers(0, 7 * 24)))
    plan = suggest(shifts, people, now=now, monday=MONDAY)
    assert violations(shifts, people, plan, now) == []
    # A shift left short is reported as a gap with as many places as are missing.
    filled: dict[int, int] = defaultdict(int)
    for p in plan.proposals:
        filled[p.shift_id] += 1
    gaps = {g.shift_id: g.missing for g in plan.gaps}
    for shift in shifts:
        facts = shift.facts
        if facts.cancelled or facts.span.ends_at <= now:
            assert facts.id not in gaps and not filled[facts.id]
        elif filled[facts.id] < facts.headcount:
            assert gaps[facts.id] == facts.headcount - filled[facts.id]
        else:
            assert facts.id not in gaps


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_same_facts_in_any_order_give_the_same_roster(data):
    rules = data.draw(limits())
    shifts = data.draw(open_shifts(rules))
    people = data.draw(volunteers())
    now = now_of(data.draw(st.integers(0, 7 * 24)))
    first = suggest(shifts, people, now=now, monday=MONDAY)
    again = suggest(
        data.draw(st.permutations(shifts)), data.draw(st.permutations(people)), now=now,
        monday=MONDAY,
    )  # fmt: skip
    assert again == first


@settings(max_examples=150, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=14),
    headcounts=st.data(),
    pool=st.integers(3, 9),
)
def test_when_nothing_else_binds_the_load_spreads_evenly(lengths, headcounts, pool):
    """Shifts one after another with rest between them, volunteers with nothing against
    them: every place is filled, and no one stands more than one (longest) shift's hours
    beyond anyone else."""
    rules = Limits("test@1", hours(8), None, ("active",), UTC)
    shifts, start = [], START
    for n, length in enumerate(lengths, start=1):
        span = Span(start, start + hours(length))
        headcount = headcounts.draw(st.integers(1, 3))
        facts = ShiftFacts(n, f"shift {n}", span, headcount, (), rules)
        shifts.append(OpenShift(facts, "/1/", Staffing(), shift_days(span, UTC)))
        start = span.ends_at + hours(8)
    people = [Volunteer(n, f"V{n}", f"V {n}", "active", "/1/") for n in range(1, pool + 1)]
    monday = MONDAY
    plan = suggest(shifts, people, now=START - hours(1), monday=monday)
    assert not plan.gaps
    in_week = [s for s in shifts if s.facts.span.starts_at < START + dt.timedelta(days=7)]
    loads = [plan.hours[v.person_id] for v in people]
    if in_week:
        assert max(loads) - min(loads) <= max(s.facts.span.hours for s in in_week)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_quick_answer_agrees_with_the_full_one(data):
    """assess(explain=False), which the suggestion asks, refuses exactly when the full
    decision has a failing reason, and cites the first of them."""
    rules = data.draw(limits())
    [shift] = data.draw(open_shifts(rules))[:1]
    [v] = data.draw(volunteers().filter(lambda vs: len(vs) > 0))[:1]
    taken = data.draw(st.integers(0, shift.facts.headcount))
    staffing = Staffing(
        frozenset(range(1000, 1000 + taken)) | (frozenset({v.person_id}) if data.draw(st.booleans()) else frozenset()),
        {need.key: data.draw(st.integers(0, taken)) for need in shift.facts.needs},
    )  # fmt: skip
    unmet = {k: why for (k, d), why in v.unmet.items() if d in shift.days}
    candidate = Candidate(v.person_id, v.ref, v.status, unmet, v.bookings, v.absences)
    now = now_of(data.draw(st.integers(0, 7 * 24)))
    full = assess(candidate, shift.facts, staffing, now)
    quick = assess(candidate, shift.facts, staffing, now, explain=False)
    failing = [r for r in full if not r.ok]
    assert bool(quick) == bool(failing)
    if quick:
        assert quick == failing[:1]
