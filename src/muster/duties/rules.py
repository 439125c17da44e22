"""Pure rules of rostering (R9): whether a volunteer fits a shift, and why not. No Django here.

A fit is decided like eligibility (muster.policy.rules): every check gives a Reason, ok or
not, and the volunteer fits iff every reason is ok. The checks, in the order a refusal cites
them (their `code`):

| code | the rule |
|---|---|
| shift | the shift is not cancelled and has not ended |
| duplicate | the volunteer is not on the shift already (nor recorded as a no-show there) |
| status | their registry status is one of the policy's `duties.eligible_statuses` |
| leave, unavailable | no leave or unavailability of theirs overlaps the shift |
| double_booking | no other active assignment of theirs overlaps the shift |
| rest | at least `duties.min_rest_hours` lie between the shift and each other one of theirs |
| week_hours | their hours in the shift's week (Monday to Sunday, local time) stay within `duties.max_hours_per_week` |
| capacity | a place is left (active assignees < headcount) |
| requirement | for each requirement (a qualification, or eligibility for an equipment target, that `count` of the assignees must meet): once they take a place, the places left can still make up the count; so a full shift meets every requirement |

"Active" assignments are those assigned, checked in or checked out: a cancelled assignment or
a no-show holds no place and no time. The caller gathers the facts (what the volunteer meets,
their bookings and absences) and the rules decide; the suggestion (muster.duties.suggest) and
every service ask the same function, so neither can assign what the other would refuse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from muster.policy.rules import Decision, QualificationFact, Reason, in_force

HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open period [starts_at, ends_at) of aware datetimes."""

    starts_at: dt.datetime
    ends_at: dt.datetime

    def overlaps(self, other: Span) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def covers(self, other: Span) -> bool:
        return self.starts_at <= other.starts_at and other.ends_at <= self.ends_at

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at) / HOUR

    def gap_to(self, other: Span) -> dt.timedelta:
        """Time between two spans that do not overlap (zero when they touch)."""
        if other.starts_at >= self.ends_at:
            return other.starts_at - self.ends_at
        return self.starts_at - other.ends_at


@dataclass(frozen=True, slots=True)
class Need:
    """One requirement of a shift: `count` assignees must meet `key`.

    key: "qualification:CODE", "qualification:CODE/CLASS" or "eligibility:TARGET"."""

    key: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Limits:
    """The policy's duties section, as the rules use it."""

    policy: str
    min_rest: dt.timedelta
    max_week_hours: int | None
    statuses: tuple[str, ...]
    tz: dt.tzinfo


@dataclass(frozen=True, slots=True)
class ShiftFacts:
    id: int
    label: str
    span: Span
    headcount: int
    needs: tuple[Need, ...]
    limits: Limits
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class Booking:
    """Another active assignment of the volunteer."""

    shift_id: int
    label: str
    span: Span


@dataclass(frozen=True, slots=True)
class Absence:
    """Leave or unavailability in force (not withdrawn)."""

    kind: str  # "leave" or "unavailable"
    span: Span
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A volunteer as the rules see them for one shift: `unmet` maps each of the shift's need
    keys they do not meet to why not."""

    person_id: int
    ref: str
    status: str
    unmet: Mapping[str, str]
    bookings: Sequence[Booking]
    absences: Sequence[Absence]


@dataclass(frozen=True, slots=True)
class Staffing:
    """Who holds a place on the shift now, and how many of them meet each need key."""

    person_ids: frozenset[int] = frozenset()
    met: Mapping[str, int] = field(default_factory=dict)
    # People recorded as no-shows on the shift: not on it, but not to be put on it again
    # (a mistaken no-show is corrected instead).
    absent: frozenset[int] = frozenset()

    @property
    def filled(self) -> int:
        return len(self.person_ids)


def local_day(moment: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return moment.astimezone(tz).date()


def week_start(day: dt.date) -> dt.date:
    """The Monday of the week of `day`."""
    return day - dt.timedelta(days=day.weekday())


def week_span(monday: dt.date, tz: dt.tzinfo) -> Span:
    """Monday 00:00 to the next Monday 00:00, local time."""
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=tz)
    return Span(start, end)


def shift_days(span: Span, tz: dt.tzinfo) -> tuple[dt.date, ...]:
    """The local days a qualification must be in force on: the day the shift starts and the
    day it ends (a night shift spans two)."""
    first = local_day(span.starts_at, tz)
    last = local_day(span.ends_at - dt.timedelta(microseconds=1), tz)
    return (first,) if first == last else (first, last)


def week_hours(bookings: Sequence[Booking], monday: dt.date, tz: dt.tzinfo) -> float:
    """Hours of the bookings that start in the week beginning `monday`."""
    week = week_span(monday, tz)
    return sum(b.span.hours for b in bookings if week.starts_at <= b.span.starts_at < week.ends_at)


def _hours(value: float) -> str:
    return f"{value:g}"


def assess(
    candidate: Candidate,
    shift: ShiftFacts,
    staffing: Staffing,
    now: dt.datetime,
    *,
    explain: bool = True,
) -> list[Reason]:
    """Every check of `candidate` against `shift` as Reasons (explain), or, with
    explain=False, only the first refusal (an empty list when they fit): the suggestion asks
    this for every volunteer and place, so it builds no message it does not need."""
    out: list[Reason] = []
    limits = shift.limits
    where = f"shift {shift.id}"

    def passed(code: str, rule: str, message: str) -> None:
        if explain:
            out.append(Reason(rule, True, message, code))

    def refused(code: str, rule: str, message: str) -> bool:
        out.append(Reason(rule, False, message, code))
        return not explain

    # The shift itself.
    if shift.cancelled:
        if refused("shift", where, f"{shift.label} is cancelled"):
            return out
    elif shift.span.ends_at <= now:
        if refused("shift", where, f"{shift.label} has ended"):
            return out
    else:
        passed("shift", where, f"{shift.label} is open")
    if candidate.person_id in staffing.person_ids:
        if refused("duplicate", where, f"{candidate.ref} is on {shift.label} already"):
            return out
    elif candidate.person_id in staffing.absent and refused(
        "duplicate",
        where,
        f"{candidate.ref} is recorded as a no-show on {shift.label}; correct that record instead",
    ):
        return out
    # The volunteer.
    rule = f"{limits.policy} duties.eligible_statuses"
    if candidate.status in limits.statuses:
        passed("status", rule, f"status {candidate.status} may stand a duty")
    else:
        needs = ", ".join(limits.statuses) or "none"
        if refused(
            "status", rule, f"status {candidate.status} may not stand a duty (needs: {needs})"
        ):
            return out
    for absence in candidate.absences:
        if absence.span.overlaps(shift.span):
            what = "on leave" if absence.kind == "leave" else "unavailable"
            why = f" ({absence.reason})" if absence.reason else ""
            message = (
                f"{candidate.ref} is {what} from {_at(absence.span.starts_at, limits.tz)} "
                f"to {_at(absence.span.ends_at, limits.tz)}{why}"
            )
            if refused(absence.kind, "availability", message):
                return out
    if explain and not any(a.span.overlaps(shift.span) for a in candidate.absences):
        passed("availability", "availability", f"{candidate.ref} has no leave or absence then")
    rest_rule = f"{limits.policy} duties.min_rest_hours"
    clash = False
    for booking in candidate.bookings:
        if booking.shift_id == shift.id:
            continue
        if booking.span.overlaps(shift.span):
            clash = True
            if refused(
                "double_booking", "double_booking", f"{candidate.ref} is on {booking.label} then"
            ):
                return out
        elif booking.span.gap_to(shift.span) < limits.min_rest:
            clash = True
            gap = booking.span.gap_to(shift.span) / HOUR
            message = (
                f"only {_hours(gap)} h between {booking.label} and {shift.label}; "
                f"the policy asks for {_hours(limits.min_rest / HOUR)} h of rest"
            )
            if refused("rest", rest_rule, message):
                return out
    if not clash:
        passed("rest", rest_rule, f"{candidate.ref} has no other shift within the rest time")
    if limits.max_week_hours is not None:
        rule = f"{limits.policy} duties.max_hours_per_week"
        monday = week_start(local_day(shift.span.starts_at, limits.tz))
        others = [b for b in candidate.bookings if b.shift_id != shift.id]
        total = week_hours(others, monday, limits.tz) + shift.span.hours
        if total > limits.max_week_hours:
            message = (
                f"{candidate.ref} would stand {_hours(total)} h in the week of {monday}; "
                f"the policy allows {limits.max_week_hours} h"
            )
            if refused("week_hours", rule, message):
                return out
        else:
            passed("week_hours", rule, f"{_hours(total)} h in the week of {monday}")
    # The shift's places and requirements.
    left = shift.headcount - staffing.filled - 1
    if left < 0:
        message = f"{shift.label} is full ({staffing.filled} of {shift.headcount})"
        if refused("capacity", where, message):
            return out
    else:
        passed("capacity", where, f"{staffing.filled} of {shift.headcount} places taken")
    for index, need in enumerate(shift.needs):
        rule = f"{where} requirements[{index}]"
        meets = need.key not in candidate.unmet
        still = need.count - staffing.met.get(need.key, 0) - (1 if meets else 0)
        if meets:
            passed("requirement", rule, f"{candidate.ref}: {need.label}")
        elif still > max(left, 0):
            message = (
                f"{need.count} of the {shift.headcount} must meet {need.label}; "
                f"{candidate.ref} does not ({candidate.unmet[need.key]}), and the "
                f"{max(left, 0)} place(s) left could not make up the {still} still needed"
            )
            if refused("requirement", rule, message):
                return out
        else:
            passed(
                "requirement",
                rule,
                f"{candidate.ref} does not meet {need.label}, but the places left can",
            )
    return out


def decide(
    candidate: Candidate, shift: ShiftFacts, staffing: Staffing, now: dt.datetime
) -> Decision:
    """Every reason why `candidate` fits `shift` or not, as a Decision (target: the shift)."""
    reasons = tuple(assess(candidate, shift, staffing, now))
    return Decision(
        target=shift.label,
        allowed=all(r.ok for r in reasons),
        reasons=reasons,
        policy=shift.limits.policy,
        moment=local_day(shift.span.starts_at, shift.limits.tz),
    )


def _at(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"


# --- qualifications and equipment ------------------------------------------------------------


def qualification_key(code: str, klass: str = "") -> str:
    return f"qualification:{code}/{klass}" if klass else f"qualification:{code}"


def eligibility_key(target: str) -> str:
    return f"eligibility:{target}"


def qualification_gap(
    qualifications: Sequence[QualificationFact],
    code: str,
    klass: str,
    days: Sequence[dt.date],
) -> str | None:
    """Why the records do not give a qualification in force on every one of `days` (None
    when they do): obtained, not expired and not revoked, of `klass` when one is named."""
    label = f"{code}/{klass}" if klass else code
    held = [q for q in qualifications if q.type_code == code and (not klass or q.klass == klass)]
    for day in days:
        if any(in_force(q, day) for q in held):
            continue
        if not held:
            return f"holds no {label}"
        latest = max(held, key=lambda q: q.obtained_on)
        if latest.revoked_on is not None and latest.revoked_on <= day:
            return f"{label} revoked on {latest.revoked_on}"
        if latest.expires_on is not None and latest.expires_on <= day:
            return f"{label} expired on {latest.expires_on}"
        return f"{label} not in force on {day}"
    return None


# --- the states of an assignment -------------------------------------------------------------

# (from, to) → the service that makes the move; corrections put a state back by one step.
MOVES: dict[tuple[str, str], str] = {
    ("assigned", "checked_in"): "check_in",
    ("checked_in", "checked_out"): "check_out",
    ("assigned", "no_show"): "no_show",
    ("assigned", "cancelled"): "cancel",
}
CORRECTIONS: dict[str, tuple[str, ...]] = {
    "checked_in": ("assigned",),
    "checked_out": ("checked_in",),
    "no_show": ("assigned", "checked_in"),
}


def move_problem(state: str, to_state: str, *, correction: bool = False) -> str | None:
    """Why an assignment in `state` cannot move to `to_state` (None when it can)."""
    if correction:
        allowed = CORRECTIONS.get(state, ())
        if to_state in allowed:
            return None
        if not allowed:
            return f"an assignment {state.replace('_', ' ')} cannot be corrected"
        return f"a correction puts {state.replace('_', ' ')} back to {' or '.join(allowed)} only"
    if (state, to_state) in MOVES:
        return None
    return f"is {state.replace('_', ' ')}; it cannot become {to_state.replace('_', ' ')}"


def check_in_problem(
    span: Span, now: dt.datetime, opens: dt.timedelta, *, manager: bool
) -> str | None:
    """Why a check-in at `now` is not allowed: it opens `opens` before the start and closes at
    the end (a commander may record a late arrival after the end)."""
    if now < span.starts_at - opens:
        return f"check-in opens {opens / HOUR:g} h before the start"
    if now >= span.ends_at and not manager:
        return "the shift has ended; ask your commander to record it"
    return None
