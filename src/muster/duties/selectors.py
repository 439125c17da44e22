"""Reads over duties: what a scope sees (shifts, posts, assignments, availability), the week
of a unit with its gaps, a volunteer's shifts, shifts short of people for the alerts, and
the suggested roster with the facts it is computed from.

Visibility (muster.access.scope): a shift is seen by whoever sees its post's unit (HQ staff
and auditors everywhere) and by the volunteers on it; an assignment, availability entry or
name only where its volunteer is seen, so a volunteer sees their own and no one else's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from muster.access.scope import Scope, people_in, units_in
from muster.core.errors import NotFound
from muster.duties.errors import DutyError
from muster.duties.facts import (
    active_counts,
    facts_of_shift,
    local_tz,
    policy_for,
    staffing_of,
)
from muster.duties.models import (
    ACTIVE_STATES,
    Assignment,
    Availability,
    DutyType,
    Post,
    Shift,
    ShiftIssue,
)
from muster.duties.rules import (
    ShiftFacts,
    local_day,
    week_span,
    week_start,
)
from muster.people.models import Person, Unit

# --- what a scope sees -----------------------------------------------------------------------


def shifts_in(scope: Scope, shifts: QuerySet[Shift] | None = None) -> QuerySet[Shift]:
    """Shifts at posts of the units the scope sees, and those the user stands."""
    shifts = Shift.objects.all() if shifts is None else shifts
    if scope.everything:
        return shifts
    mine = (
        Q(pk__in=Assignment.objects.filter(person_id=scope.person_id).values("shift_id"))
        if scope.person_id is not None
        else Q(pk__in=[])
    )
    return shifts.filter(Q(post__unit__in=units_in(scope).values("pk")) | mine)


def posts_in(scope: Scope) -> QuerySet[Post]:
    posts = Post.objects.all()
    if scope.everything:
        return posts
    return posts.filter(unit__in=units_in(scope).values("pk"))


def assignments_in(scope: Scope) -> QuerySet[Assignment]:
    """Assignments of the people the scope sees, on shifts it sees."""
    found = Assignment.objects.all()
    if scope.everything:
        return found
    return found.filter(
        person__in=people_in(scope).values("pk"), shift__in=shifts_in(scope).values("pk")
    )


def availability_in(scope: Scope) -> QuerySet[Availability]:
    found = Availability.objects.all()
    if scope.everything:
        return found
    return found.filter(person__in=people_in(scope).values("pk"))


def duty_types() -> QuerySet[DutyType]:
    return DutyType.objects.order_by("code")


# --- weeks -----------------------------------------------------------------------------------

ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def parse_week(text: str | None, today: dt.date | None = None) -> dt.date:
    """The Monday of a week given as 2026-W48, or as any day in it (2026-11-25); the current
    week when empty. Bad input raises DutyError naming the field `week`."""
    today = today or timezone.localdate()
    if not text:
        return week_start(today)
    found = ISO_WEEK.match(text.strip())
    try:
        if found:
            return dt.date.fromisocalendar(int(found[1]), int(found[2]), 1)
        return week_start(dt.date.fromisoformat(text.strip()))
    except ValueError:
        raise DutyError.single(
            "week", "week", "must be a week like 2026-W48 or a day like 2026-11-25", text
        ) from None


def iso_week(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class ShiftCell:
    shift: Shift
    filled: int

    @property
    def missing(self) -> int:
        return max(self.shift.headcount - self.filled, 0)

    @property
    def cancelled(self) -> bool:
        return self.shift.cancelled_at is not None

    @property
    def gap(self) -> bool:
        return not self.cancelled and self.missing > 0


@dataclass(frozen=True)
class PostWeek:
    post: Post
    monday: dt.date
    days: tuple[tuple[ShiftCell, ...], ...]  # Monday to Sunday

    @property
    def by_day(self) -> list[tuple[dt.date, tuple[ShiftCell, ...]]]:
        return [(self.monday + dt.timedelta(days=n), cells) for n, cells in enumerate(self.days)]


@dataclass(frozen=True)
class WeekView:
    unit: Unit
    monday: dt.date
    rows: tuple[PostWeek, ...]

    @property
    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=n) for n in range(7)]

    @property
    def cells(self) -> list[ShiftCell]:
        return [cell for row in self.rows for day in row.days for cell in day]

    @property
    def places(self) -> int:
        return sum(c.shift.headcount for c in self.cells if not c.cancelled)

    @property
    def filled(self) -> int:
        return sum(min(c.filled, c.shift.headcount) for c in self.cells if not c.cancelled)

    @property
    def gaps(self) -> int:
        return sum(1 for c in self.cells if c.gap)

    @property
    def week(self) -> str:
        return iso_week(self.monday)

    @property
    def by_day(self) -> list[tuple[dt.date, list[ShiftCell]]]:
        """Each day with its shifts at every post, by start."""
        return [
            (
                day,
                sorted(
                    (cell for row in self.rows for cell in row.days[n]),
                    key=lambda c: (c.shift.starts_at, c.shift.post.code, c.shift.pk),
                ),
            )
            for n, day in enumerate(self.days)
        ]


def week_shifts(unit: Unit, monday: dt.date) -> QuerySet[Shift]:
    """The shifts starting in the week at posts of the unit and the units below it."""
    span = week_span(monday, local_tz())
    return (
        Shift.objects.filter(
            post__unit__path__startswith=unit.path,
            starts_at__gte=span.starts_at,
            starts_at__lt=span.ends_at,
        )
        .select_related("post__unit", "duty_type")
        .prefetch_related("requirements")
        .order_by("starts_at", "pk")
    )


def week_of(unit: Unit, monday: dt.date) -> WeekView:
    """Posts × days of the week at a unit (and below), each shift with its places filled."""
    tz = local_tz()
    shifts = list(week_shifts(unit, monday))
    filled = active_counts(s.pk for s in shifts)
    posts = list(Post.objects.filter(unit__path__startswith=unit.path).order_by("code"))
    by_post: dict[int, list[list[ShiftCell]]] = {p.pk: [[] for _ in range(7)] for p in posts}
    for shift in shifts:
        day = (local_day(shift.starts_at, tz) - monday).days
        by_post[shift.post_id][day].append(ShiftCell(shift, filled[shift.pk]))
    return WeekView(
        unit=unit,
        monday=monday,
        rows=tuple(
            PostWeek(post, monday, tuple(tuple(cells) for cells in by_post[post.pk]))
            for post in posts
        ),
    )


# --- one shift -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedStatus:
    label: str
    count: int
    met: int

    @property
    def short(self) -> int:
        return max(self.count - self.met, 0)


@dataclass(frozen=True)
class EquipmentStatus:
    category: str
    count: int
    issued: int


@dataclass(frozen=True)
class ShiftDetail:
    shift: Shift
    facts: ShiftFacts
    filled: int
    needs: tuple[NeedStatus, ...]
    equipment: tuple[EquipmentStatus, ...]

    @property
    def missing(self) -> int:
        return max(self.shift.headcount - self.filled, 0)


def shift_detail(shift: Shift) -> ShiftDetail:
    """A shift with its requirements met so far and the equipment issued for it."""
    policy = policy_for(shift.post.unit, timezone.localdate(shift.starts_at))
    facts = facts_of_shift(shift, policy)
    staffing = staffing_of(shift, facts, policy)
    issued = Counter(
        ShiftIssue.objects.filter(assignment__shift=shift).values_list(
            "item__model__category__code", flat=True
        )
    )
    return ShiftDetail(
        shift=shift,
        facts=facts,
        filled=staffing.filled,
        needs=tuple(
            NeedStatus(need.label, need.count, staffing.met.get(need.key, 0))
            for need in facts.needs
        ),
        equipment=tuple(
            EquipmentStatus(e.category, e.count, issued.get(e.category, 0))
            for e in shift.equipment.order_by("pk")
        ),
    )


def shift_assignments(shift: Shift, scope: Scope) -> list[Assignment]:
    """The shift's assignments the scope may see, active ones first, with their history."""
    found = (
        assignments_in(scope)
        .filter(shift=shift)
        .select_related("person__unit")
        .prefetch_related("events", "issues__item__model")
        .order_by("assigned_at", "pk")
    )
    return sorted(found, key=lambda a: a.state not in ACTIVE_STATES)


# --- a volunteer's shifts --------------------------------------------------------------------


def shifts_of_person(
    person: Person, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> QuerySet[Assignment]:
    """A volunteer's assignments (every state) on shifts ending after `since` (and starting
    before `until`), soonest first."""
    found = Assignment.objects.filter(person=person)
    if since is not None:
        found = found.filter(shift__ends_at__gt=since)
    if until is not None:
        found = found.filter(shift__starts_at__lt=until)
    return found.select_related("shift__post__unit", "shift__duty_type").order_by(
        "shift__starts_at", "pk"
    )


def availability_of(person: Person, *, since: dt.datetime | None = None) -> QuerySet[Availability]:
    found = Availability.objects.filter(person=person)
    if since is not None:
        found = found.filter(ends_at__gt=since)
    return found.select_related("withdrawal").order_by("starts_at", "pk")


# --- short of people (for the alerts) --------------------------------------------------------


@dataclass(frozen=True)
class Understaffed:
    """A shift with fewer active assignments than its headcount."""

    shift: Shift
    unit: Unit
    headcount: int
    filled: int

    @property
    def missing(self) -> int:
        return self.headcount - self.filled


def understaffed_shifts(
    now: dt.datetime, within: dt.timedelta = dt.timedelta(hours=48)
) -> list[Understaffed]:
    """Shifts (not cancelled) starting from `now` to `now + within` whose active assignments
    (assigned, checked in or out) are fewer than the headcount, soonest first, with the unit
    responsible for the post."""
    shifts = (
        Shift.objects.filter(
            cancelled_at__isnull=True, starts_at__gte=now, starts_at__lt=now + within
        )
        .annotate(active=Count("assignments", filter=Q(assignments__state__in=ACTIVE_STATES)))
        .filter(active__lt=F("headcount"))
        .select_related("post__unit", "duty_type")
        .order_by("starts_at", "pk")
    )
    return [Understaffed(s, s.post.unit, s.headcount, s.active) for s in shifts]


def visible_shift(scope: Scope, pk: int) -> Shift:
    found = (
        shifts_in(scope, Shift.objects.select_related("post__unit", "duty_type"))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound.single(f"shift {pk}", "id", "no such shift")
    return found
