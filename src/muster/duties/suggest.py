"""The suggested roster for a week (R9): deterministic, fair, and never against a rule.
Pure Python: the selectors gather the facts (muster.duties.roster), the services accept it.

How it fills the shifts. Shifts are taken in order of start (then id); each open place goes to
the volunteer who fits it (muster.duties.rules.assess: every rule, the same function every
assignment passes) and comes first by, in order:
  1. helps most: meets more of the shift's requirements still short of their count;
  2. fewest hours this week (the week's existing assignments and those suggested so far),
     so the load spreads;
  3. offered: has declared availability covering the shift;
  4. served least recently (the end of their last shift; never served comes first);
  5. rotation: the volunteers' order by id, rotated by the week's number, so that the same
     people do not win every remaining tie week after week.
A place nobody fits stays open: a Gap, explained by what kept each candidate out (the first
rule that refused them, counted), and by the requirements still short.

Candidates for a shift are the volunteers of its post's unit and the units below it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from muster.duties.rules import (
    Absence,
    Booking,
    Candidate,
    ShiftFacts,
    Span,
    Staffing,
    assess,
    local_day,
    week_hours,
    week_start,
)

NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A possible assignee and what the rules need to know of them for the week: `unmet`
    maps (need key, local day) to why they do not meet that need on that day."""

    person_id: int
    ref: str
    name: str
    status: str
    unit_path: str
    absences: tuple[Absence, ...] = ()
    offered: tuple[Span, ...] = ()
    bookings: tuple[Booking, ...] = ()
    last_served: dt.datetime | None = None
    unmet: Mapping[tuple[str, dt.date], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpenShift:
    """A shift to fill: its facts, the path of its post's unit, who is on it already."""

    facts: ShiftFacts
    unit_path: str
    staffing: Staffing
    days: tuple[dt.date, ...]


@dataclass(frozen=True, slots=True)
class Proposal:
    shift_id: int
    person_id: int
    hours_before: float  # the volunteer's hours that week before this shift was suggested
    helps: int  # requirements short of their count that the volunteer meets


@dataclass(frozen=True, slots=True)
class GapReason:
    code: str
    count: int
    example: str


@dataclass(frozen=True, slots=True)
class Gap:
    """Places of a shift nobody fits: how many, what kept the candidates out, and the
    requirements still short of their count (label, how many more)."""

    shift_id: int
    missing: int
    candidates: int
    reasons: tuple[GapReason, ...]
    short: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class RosterPlan:
    proposals: tuple[Proposal, ...]
    gaps: tuple[Gap, ...]
    hours: Mapping[int, float]  # each candidate's hours that week, with the proposals


@dataclass
class _Load:
    bookings: list[Booking]
    hours: float
    last_served: dt.datetime


def suggest(
    shifts: Sequence[OpenShift],
    volunteers: Sequence[Volunteer],
    *,
    now: dt.datetime,
    monday: dt.date,
) -> RosterPlan:
    """Fill the open places of `shifts` from `volunteers` (see the module's docstring)."""
    ordered_ids = sorted(v.person_id for v in volunteers)
    offset = (monday.toordinal() // 7) % max(len(ordered_ids), 1)
    rotation = {pid: (i - offset) % len(ordered_ids) for i, pid in enumerate(ordered_ids)}
    loads: dict[int, _Load] = {}
    tz = shifts[0].facts.limits.tz if shifts else dt.UTC
    for v in volunteers:
        loads[v.person_id] = _Load(
            bookings=list(v.bookings),
            hours=week_hours(v.bookings, monday, tz),
            last_served=max([v.last_served or NEVER] + [b.span.ends_at for b in v.bookings]),
        )
    pools: dict[str, list[Volunteer]] = {}
    proposals: list[Proposal] = []
    gaps: list[Gap] = []
    unmet_cache: dict[
        tuple[str, tuple[str, ...], tuple[dt.date, ...]], dict[int, Mapping[str, str]]
    ] = {}
    for shift in sorted(shifts, key=lambda s: (s.facts.span.starts_at, s.facts.id)):
        facts = shift.facts
        if facts.cancelled or facts.span.ends_at <= now:
            continue
        pool = pools.get(shift.unit_path)
        if pool is None:
            pool = pools[shift.unit_path] = sorted(
                (v for v in volunteers if v.unit_path.startswith(shift.unit_path)),
                key=lambda v: v.person_id,
            )
        unmet = _unmet_for(unmet_cache, pool, shift)
        staffing = shift.staffing
        while staffing.filled < facts.headcount:
            refusals: Counter[str] = Counter()
            examples: dict[str, str] = {}
            best: tuple[tuple[object, ...], Volunteer, int] | None = None
            for v in pool:
                load = loads[v.person_id]
                candidate = Candidate(
                    v.person_id, v.ref, v.status, unmet.get(v.person_id, _NONE), load.bookings,
                    v.absences,
                )  # fmt: skip
                refused = assess(candidate, facts, staffing, now, explain=False)
                if refused:
                    code = refused[0].code
                    refusals[code] += 1
                    examples.setdefault(code, refused[0].message)
                    continue
                helps = sum(
                    1
                    for need in facts.needs
                    if need.key not in candidate.unmet
                    and staffing.met.get(need.key, 0) < need.count
                )
                offered = any(span.covers(facts.span) for span in v.offered)
                key = (
                    -helps,
                    load.hours,
                    not offered,
                    load.last_served,
                    rotation[v.person_id],
                )
                if best is None or key < best[0]:
                    best = (key, v, helps)
            if best is None:
                gaps.append(_gap(shift, staffing, len(pool), refusals, examples))
                break
            _, chosen, helps = best
            load = loads[chosen.person_id]
            proposals.append(Proposal(facts.id, chosen.person_id, load.hours, helps))
            load.bookings.append(Booking(facts.id, facts.label, facts.span))
            if week_start(local_day(facts.span.starts_at, facts.limits.tz)) == monday:
                load.hours += facts.span.hours
            load.last_served = max(load.last_served, facts.span.ends_at)
            chosen_unmet = unmet.get(chosen.person_id, _NONE)
            staffing = Staffing(
                staffing.person_ids | {chosen.person_id},
                {
                    **staffing.met,
                    **{
                        need.key: staffing.met.get(need.key, 0) + 1
                        for need in facts.needs
                        if need.key not in chosen_unmet
                    },
                },
                staffing.absent,
            )
    return RosterPlan(
        proposals=tuple(proposals),
        gaps=tuple(gaps),
        hours={pid: load.hours for pid, load in loads.items()},
    )


_NONE: Mapping[str, str] = {}


def _unmet_for(
    cache: dict[tuple[str, tuple[str, ...], tuple[dt.date, ...]], dict[int, Mapping[str, str]]],
    pool: Sequence[Volunteer],
    shift: OpenShift,
) -> dict[int, Mapping[str, str]]:
    """Each volunteer's unmet needs for this shift (only those with some), shared by every
    shift of the same pool with the same needs on the same days."""
    keys = tuple(need.key for need in shift.facts.needs)
    signature = (shift.unit_path, keys, shift.days)
    found = cache.get(signature)
    if found is None:
        found = {}
        for v in pool if keys else ():
            missing = {
                key: v.unmet[(key, day)]
                for key in keys
                for day in shift.days
                if (key, day) in v.unmet
            }
            if missing:
                found[v.person_id] = missing
        cache[signature] = found
    return found


def _gap(
    shift: OpenShift,
    staffing: Staffing,
    candidates: int,
    refusals: Counter[str],
    examples: Mapping[str, str],
) -> Gap:
    facts = shift.facts
    short = tuple(
        (need.label, need.count - staffing.met.get(need.key, 0))
        for need in facts.needs
        if staffing.met.get(need.key, 0) < need.count
    )
    return Gap(
        shift_id=facts.id,
        missing=facts.headcount - staffing.filled,
        candidates=candidates,
        reasons=tuple(
            GapReason(code, count, examples[code])
            for code, count in sorted(refusals.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
        short=short,
    )
