"""Duties: duty types, posts, shifts, assignments, availability, check-in/out, suggested rosters, iCalendar (R9).

The same operations as the web's duty pages and `muster duties`, through the same services
(muster.duties.services) and reads (muster.duties.selectors, narrowed to the caller's scope).
An assignment the rostering rules refuse is 422 `refused` with the decision and its reasons,
journaled as `duty.assignment_refused`; a roster that no longer fits as a whole is 409
`conflict`, nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.reads import record_person_read
from muster.access.scope import people_in, require, require_at, visible
from muster.api.common import actor, person_by_id, scope, second_person, unit_by_code, visible_items
from muster.api.duty_schemas import (
    AssignIn,
    AssignmentDetailOut,
    AssignmentOut,
    AvailabilityIn,
    AvailabilityOut,
    CandidatesOut,
    CorrectIn,
    DutyTypeIn,
    DutyTypeOut,
    NoteIn,
    PostIn,
    PostOut,
    ReasonIn,
    RosterIn,
    RosterOut,
    ShiftDetailOut,
    ShiftIn,
    ShiftIssueIn,
    ShiftIssueOut,
    ShiftOut,
    UnderstaffedOut,
    WeekOut,
)
from muster.api.errors import Refused
from muster.api.files import attachment, download
from muster.api.schemas import responses
from muster.core.errors import NotFound
from muster.duties.calendar import calendar_since, shifts_calendar
from muster.duties.facts import local_tz
from muster.duties.models import ACTIVE_STATES, Assignment, Availability, DutyType, Post, Shift
from muster.duties.roster import roster_suggestion, shift_candidates
from muster.duties.rules import week_span
from muster.duties.selectors import (
    assignments_in,
    availability_in,
    parse_week,
    posts_in,
    shift_detail,
    shifts_in,
    shifts_of_person,
    understaffed_shifts,
    week_of,
)
from muster.duties.services import (
    NewRequirement,
    accept_roster,
    assign_person,
    cancel_assignment,
    cancel_shift,
    check_in,
    check_out,
    correct_assignment,
    create_post,
    create_shifts,
    define_duty_type,
    issue_for_shift,
    record_availability,
    record_no_show,
    withdraw_availability,
)
from muster.duties.services.common import DEFINE_TYPES, MANAGE

router = Router(tags=["duties"])

ICS = "text/calendar; charset=utf-8"


# --- duty types and posts --------------------------------------------------------------------


@router.get("/duties/types", response=responses(200, list[DutyTypeOut]))
@paginate(LimitOffsetPagination)
def list_types(request: HttpRequest) -> QuerySet[DutyType]:
    return DutyType.objects.order_by("code")


@router.post("/duties/types", response=responses(201, DutyTypeOut))
def define_type(request: HttpRequest, payload: DutyTypeIn) -> Status[DutyType]:
    """Add a duty type (HQ staff and regional administrators)."""
    require(scope(request), DEFINE_TYPES, f"duty type {payload.code}")
    found = define_duty_type(
        actor=actor(request), code=payload.code, name=payload.name, description=payload.description
    )
    return Status(201, found)


def _posts(request: HttpRequest) -> QuerySet[Post]:
    return posts_in(scope(request)).select_related("unit", "duty_type")


@router.get("/duties/posts", response=responses(200, list[PostOut]))
@paginate(LimitOffsetPagination)
def list_posts(
    request: HttpRequest, unit: str | None = Query(None, max_length=40, description="unit code")
) -> QuerySet[Post]:
    """Posts of the units the caller sees (of one unit and below)."""
    found = _posts(request)
    if unit:
        found = found.filter(unit__path__startswith=unit_by_code(scope(request), unit).path)
    return found.order_by("code")


@router.post("/duties/posts", response=responses(201, PostOut))
def add_post(request: HttpRequest, payload: PostIn) -> Status[Post]:
    """Add a post (a named place with an address or coordinates) to a unit the caller manages."""
    require(scope(request), MANAGE, f"post {payload.code}")
    unit = unit_by_code(scope(request), payload.unit, to=MANAGE)
    duty_type = DutyType.objects.filter(code=payload.duty_type).first()
    if duty_type is None:
        raise NotFound.single(f"duty type {payload.duty_type}", "duty_type", "no such duty type")
    post = create_post(
        actor=actor(request), code=payload.code, name=payload.name, unit=unit,
        duty_type=duty_type, address=payload.address, latitude=payload.latitude,
        longitude=payload.longitude, notes=payload.notes,
    )  # fmt: skip
    return Status(201, _posts(request).get(pk=post.pk))


@router.get("/duties/posts/{post_id}", response=responses(200, PostOut))
def post_detail(request: HttpRequest, post_id: int) -> Post:
    return visible(_posts(request), post_id, f"post {post_id}")


# --- shifts ----------------------------------------------------------------------------------


def _shifts(request: HttpRequest) -> QuerySet[Shift]:
    return shifts_in(
        scope(request),
        Shift.objects.select_related("post__unit", "duty_type")
        .prefetch_related("requirements", "equipment")
        .annotate(filled=Count("assignments", filter=Q(assignments__state__in=ACTIVE_STATES))),
    )


def _shift(request: HttpRequest, shift_id: int) -> Shift:
    return visible(_shifts(request), shift_id, f"shift {shift_id}")


@router.get("/duties/shifts", response=responses(200, list[ShiftOut]))
@paginate(LimitOffsetPagination)
def list_shifts(
    request: HttpRequest,
    unit: str | None = Query(None, max_length=40, description="unit code (and below)"),
    week: str | None = Query(None, max_length=10, description="e.g. 2026-W48, or a day in it"),
    post: str | None = Query(None, max_length=40, description="post code"),
    short: bool | None = Query(None, description="only shifts short of people (true)"),
) -> QuerySet[Shift]:
    """Shifts the caller sees, by start."""
    found = _shifts(request)
    if unit:
        found = found.filter(post__unit__path__startswith=unit_by_code(scope(request), unit).path)
    if week:
        span = week_span(parse_week(week), local_tz())
        found = found.filter(starts_at__gte=span.starts_at, starts_at__lt=span.ends_at)
    if post:
        found = found.filter(post__code=post)
    if short:
        found = found.filter(Q(cancelled_at__isnull=True) & Q(filled__lt=F("headcount")))
    return found.order_by("starts_at", "pk")


@router.post("/duties/shifts", response=responses(201, list[ShiftOut]))
def plan_shifts(request: HttpRequest, payload: ShiftIn) -> Status[list[Shift]]:
    """Plan a shift at a post the caller manages (or the same shift on `days` days in a row)."""
    require(scope(request), MANAGE, f"shifts at {payload.post}")
    post = _posts(request).filter(code=payload.post).first()
    if post is None:
        raise NotFound.single(f"post {payload.post}", "post", "no such post")
    duty_type = None
    if payload.duty_type:
        duty_type = DutyType.objects.filter(code=payload.duty_type).first()
        if duty_type is None:
            raise NotFound.single(
                f"duty type {payload.duty_type}", "duty_type", "no such duty type"
            )
    spans = [
        (payload.starts_at + dt.timedelta(days=n), payload.ends_at + dt.timedelta(days=n))
        for n in range(payload.days)
    ]
    created = create_shifts(
        actor=actor(request), post=post, spans=spans, headcount=payload.headcount,
        requirements=[NewRequirement(r.kind, r.code, r.klass, r.count) for r in payload.requirements],
        equipment=[(e.category, e.count) for e in payload.equipment], duty_type=duty_type,
        notes=payload.notes,
    )  # fmt: skip
    return Status(
        201, list(_shifts(request).filter(pk__in=[s.pk for s in created]).order_by("starts_at"))
    )


@router.get("/duties/shifts/{shift_id}", response=responses(200, ShiftDetailOut))
def shift(request: HttpRequest, shift_id: int) -> Shift:
    """A shift with its requirements met so far, the equipment issued for it, and the
    assignments of people the caller sees."""
    found = _shift(request, shift_id)
    found.detail = shift_detail(found)  # type: ignore[attr-defined]
    found.seen_assignments = (  # type: ignore[attr-defined]
        assignments_in(scope(request)).filter(shift=found).select_related("person").order_by("pk")
    )
    return found


@router.post("/duties/shifts/{shift_id}/cancel", response=responses(200, ShiftOut))
def cancel(request: HttpRequest, shift_id: int, payload: ReasonIn) -> Shift:
    """Cancel a shift (kept, with the reason); who was on it is taken off."""
    found = _shift(request, shift_id)
    require(scope(request), MANAGE, f"shift {shift_id}")
    cancel_shift(actor=actor(request), shift=found, reason=payload.reason)
    return _shift(request, shift_id)


@router.post(
    "/duties/shifts/{shift_id}/assignments", response=responses(201, AssignmentOut, refusal=True)
)
def assign(request: HttpRequest, shift_id: int, payload: AssignIn) -> Status[Assignment]:
    """Put a volunteer on the shift; if they do not fit (qualifications, status, leave, another
    shift, rest, hours, places, requirements), 422 with every reason, journaled."""
    found = _shift(request, shift_id)
    require(scope(request), MANAGE, f"shift {shift_id}")
    person = person_by_id(scope(request), payload.person_id)
    outcome = assign_person(actor=actor(request), shift=found, person=person, reason=payload.reason)
    if not outcome.assigned or outcome.assignment is None:
        raise Refused(
            f"{person.national_id} was not put on shift {shift_id}: refused by the rostering rules",
            [outcome.decision],
            outcome.refusals,
        )
    return Status(201, outcome.assignment)


@router.get("/duties/shifts/{shift_id}/candidates", response=responses(200, CandidatesOut))
def candidates(request: HttpRequest, shift_id: int) -> dict[str, Any]:
    """Who of the post's unit fits the shift now, most deserving first, and how many do not
    fit for each rule (for those who manage it)."""
    found = _shift(request, shift_id)
    require_at(scope(request), MANAGE, found.post.unit.path, f"shift {shift_id}")
    result = shift_candidates(found)
    return {
        "fitting": [
            {"person_id": f.person.pk, "national_id": f.person.national_id, "name": f.person.name,
             "hours_this_week": f.hours}
            for f in result.fitting
        ],
        "refused": [{"code": c, "count": n, "example": e} for c, n, e in result.refused],
    }  # fmt: skip


# --- assignments -----------------------------------------------------------------------------


def _assignments(request: HttpRequest) -> QuerySet[Assignment]:
    return assignments_in(scope(request)).select_related("person", "shift__post__unit")


def _assignment(request: HttpRequest, assignment_id: int) -> Assignment:
    return visible(_assignments(request), assignment_id, f"assignment {assignment_id}")


@router.get("/duties/assignments", response=responses(200, list[AssignmentOut]))
@paginate(LimitOffsetPagination)
def list_assignments(
    request: HttpRequest,
    person_id: int | None = Query(None),
    shift_id: int | None = Query(None),
    state: str | None = Query(None, max_length=16),
    mine: bool | None = Query(None, description="only your own (true)"),
) -> QuerySet[Assignment]:
    """Assignments of people the caller sees, by shift start."""
    found = _assignments(request)
    if mine:
        found = found.filter(person_id=scope(request).person_id or 0)
    if person_id is not None:
        found = found.filter(person_id=person_id)
    if shift_id is not None:
        found = found.filter(shift_id=shift_id)
    if state:
        found = found.filter(state=state)
    return found.order_by("shift__starts_at", "pk")


@router.get("/duties/assignments/{assignment_id}", response=responses(200, AssignmentDetailOut))
def assignment_detail(request: HttpRequest, assignment_id: int) -> Assignment:
    return _assignment(request, assignment_id)


@router.post("/duties/assignments/{assignment_id}/cancel", response=responses(200, AssignmentOut))
def unassign(request: HttpRequest, assignment_id: int, payload: ReasonIn) -> Assignment:
    """Take the volunteer off a shift they have not started, with the reason."""
    found = _assignment(request, assignment_id)
    return cancel_assignment(actor=actor(request), assignment=found, reason=payload.reason)


@router.post("/duties/assignments/{assignment_id}/check-in", response=responses(200, AssignmentOut))
def checking_in(request: HttpRequest, assignment_id: int) -> Assignment:
    """The volunteer (or a manager for them) checks in: from the policy's
    duties.check_in_opens_minutes before the start."""
    return check_in(actor=actor(request), assignment=_assignment(request, assignment_id))


@router.post(
    "/duties/assignments/{assignment_id}/check-out", response=responses(200, AssignmentOut)
)
def checking_out(request: HttpRequest, assignment_id: int) -> Assignment:
    return check_out(actor=actor(request), assignment=_assignment(request, assignment_id))


@router.post("/duties/assignments/{assignment_id}/no-show", response=responses(200, AssignmentOut))
def no_show(request: HttpRequest, assignment_id: int, payload: NoteIn) -> Assignment:
    """A manager records that the volunteer did not come (once the shift has started)."""
    found = _assignment(request, assignment_id)
    return record_no_show(actor=actor(request), assignment=found, reason=payload.reason)


@router.post("/duties/assignments/{assignment_id}/correct", response=responses(200, AssignmentOut))
def correct(request: HttpRequest, assignment_id: int, payload: CorrectIn) -> Assignment:
    """Put back a state recorded by mistake, with the reason (a new state; nothing is erased)."""
    found = _assignment(request, assignment_id)
    return correct_assignment(
        actor=actor(request), assignment=found, to_state=payload.to_state, reason=payload.reason
    )


@router.post(
    "/duties/assignments/{assignment_id}/issue",
    response=responses(201, ShiftIssueOut, refusal=True),
)
def issue(
    request: HttpRequest, assignment_id: int, payload: ShiftIssueIn
) -> Status[dict[str, Any]]:
    """Issue items to the volunteer for the shift, due back at its end (the armory's rules:
    eligibility, two-person rule, quota; a refusal by policy is 422)."""
    require(scope(request), "custody.change", f"assignment {assignment_id}")
    acting = actor(request)
    second = second_person(payload)
    found = _assignment(request, assignment_id)
    items = visible_items(scope(request), payload.serials, payload.model)
    outcome = issue_for_shift(
        actor=acting, second=second, assignment=found, item_ids=[i.pk for i in items]
    )
    if not outcome.issued:
        raise Refused(
            f"nothing was issued for assignment {assignment_id}: refused by policy",
            outcome.decisions,
            outcome.refusals,
        )
    return Status(
        201,
        {"assignment_id": found.pk, "due_at": found.shift.ends_at, "items": list(outcome.items)},
    )


# --- availability ----------------------------------------------------------------------------


def _own_or(request: HttpRequest, person_id: int | None) -> Any:
    the_scope = scope(request)
    if person_id is None:
        if the_scope.person_id is None:
            raise NotFound.single(
                "person", "person_id", "your account is not linked to a volunteer"
            )
        person_id = the_scope.person_id
    return person_by_id(the_scope, person_id)


@router.get("/duties/availability", response=responses(200, list[AvailabilityOut]))
@paginate(LimitOffsetPagination)
def list_availability(
    request: HttpRequest,
    person_id: int | None = Query(None, description="default: your own"),
) -> QuerySet[Availability]:
    person = _own_or(request, person_id)
    found = availability_in(scope(request)).filter(person=person).select_related("withdrawal")
    return found.order_by("starts_at", "pk")


@router.post("/duties/availability", response=responses(201, AvailabilityOut))
def add_availability(request: HttpRequest, payload: AvailabilityIn) -> Status[Availability]:
    """Record availability, unavailability or leave (your own, or of a volunteer you manage)."""
    person = _own_or(request, payload.person_id)
    entry = record_availability(
        actor=actor(request), person=person, kind=payload.kind, starts_at=payload.starts_at,
        ends_at=payload.ends_at, reason=payload.reason,
        cancel_assignments=payload.cancel_assignments,
    )  # fmt: skip
    return Status(201, entry)


@router.post("/duties/availability/{entry_id}/withdraw", response=responses(200, AvailabilityOut))
def withdraw(request: HttpRequest, entry_id: int, payload: ReasonIn) -> Availability:
    entry = visible(availability_in(scope(request)), entry_id, f"availability {entry_id}")
    withdraw_availability(actor=actor(request), entry=entry, reason=payload.reason)
    return Availability.objects.select_related("withdrawal").get(pk=entry.pk)


# --- the week, the roster, calendars, shortfalls ---------------------------------------------


@router.get("/duties/week", response=responses(200, WeekOut))
def week(
    request: HttpRequest,
    unit: str = Query(..., max_length=40, description="unit code"),
    week: str | None = Query(None, max_length=10, description="e.g. 2026-W48 (default: this week)"),
) -> dict[str, Any]:
    """The week at a unit's posts and below: each shift with its places filled, gaps marked."""
    found = unit_by_code(scope(request), unit)
    view = week_of(found, parse_week(week))
    return {
        "unit": found.code, "week": view.week, "monday": view.monday, "places": view.places,
        "filled": view.filled, "gaps": view.gaps,
        "shifts": [
            {"shift_id": c.shift.pk, "post": c.shift.post.code, "starts_at": c.shift.starts_at,
             "ends_at": c.shift.ends_at, "headcount": c.shift.headcount, "filled": c.filled,
             "missing": c.missing, "gap": c.gap, "cancelled": c.cancelled}
            for c in sorted(view.cells, key=lambda c: (c.shift.starts_at, c.shift.pk))
        ],
    }  # fmt: skip


@router.get("/duties/roster", response=responses(200, RosterOut))
def suggested_roster(
    request: HttpRequest,
    unit: str = Query(..., max_length=40, description="unit code"),
    week: str | None = Query(None, max_length=10, description="e.g. 2026-W48 (default: this week)"),
) -> dict[str, Any]:
    """The suggested roster of a week (see muster.duties.suggest for its order of fairness),
    with each shift left short and why; nothing is written."""
    require(scope(request), MANAGE, f"roster of {unit}")
    found = unit_by_code(scope(request), unit, to=MANAGE)
    suggestion = roster_suggestion(found, parse_week(week))
    people = suggestion.people
    return {
        "unit": found.code,
        "week": suggestion.week,
        "proposals": [
            {"shift_id": p.shift_id, "person_id": p.person_id,
             "national_id": people[p.person_id].national_id, "name": people[p.person_id].name,
             "hours_before": p.hours_before, "helps": p.helps}
            for p in suggestion.plan.proposals
        ],
        "gaps": [
            {"shift_id": g.shift_id, "missing": g.missing, "candidates": g.candidates,
             "reasons": [r.__dict__ for r in g.reasons], "short": list(g.short)}
            for g in suggestion.plan.gaps
        ],
    }  # fmt: skip


@router.post("/duties/roster/accept", response=responses(201, list[AssignmentOut]))
def accept(request: HttpRequest, payload: RosterIn) -> Status[list[Assignment]]:
    """Create the assignments of a roster (as suggested, or edited), each checked by the rules
    as it is made, all or none: 409 `conflict` naming each pair that no longer fits."""
    require(scope(request), MANAGE, f"roster of {payload.unit}")
    found = unit_by_code(scope(request), payload.unit, to=MANAGE)
    visible_people = set(
        people_in(scope(request))
        .filter(pk__in=[p.person_id for p in payload.assignments])
        .values_list("pk", flat=True)
    )
    unseen = [p.person_id for p in payload.assignments if p.person_id not in visible_people]
    if unseen:
        raise NotFound.single(f"person {unseen[0]}", "assignments", "no such volunteer")
    created = accept_roster(
        actor=actor(request),
        unit=found,
        pairs=[(p.shift_id, p.person_id) for p in payload.assignments],
    )
    return Status(201, created)


@router.get(
    "/duties/people/{person_id}/calendar.ics",
    summary="A volunteer's shifts (iCalendar)",
    **download(ICS, "the volunteer's shifts as an iCalendar file"),
)
def calendar(request: HttpRequest, person_id: int) -> HttpResponse:
    """A volunteer's shifts from a month back, as an iCalendar file (RFC 5545); reading
    someone else's is journaled."""
    the_scope = scope(request)
    person = visible(people_in(the_scope), person_id, f"person {person_id}")
    record_person_read(actor=actor(request), scope=the_scope, person=person, why="duty calendar")
    assignments = shifts_of_person(person, since=calendar_since())
    return attachment(shifts_calendar(person, assignments), ICS, f"duties-{person.national_id}.ics")


@router.get("/duties/understaffed", response=responses(200, list[UnderstaffedOut]))
@paginate(LimitOffsetPagination)
def understaffed(
    request: HttpRequest, within_hours: int = Query(48, ge=1, le=24 * 14)
) -> list[dict[str, Any]]:
    """Shifts the caller sees starting in the next hours with fewer people than they need."""
    seen = set(shifts_in(scope(request)).values_list("pk", flat=True))
    found = understaffed_shifts(timezone.now(), dt.timedelta(hours=within_hours))
    return [
        {"shift_id": u.shift.pk, "unit": u.unit.code, "post": u.shift.post.code,
         "starts_at": u.shift.starts_at, "headcount": u.headcount, "filled": u.filled,
         "missing": u.missing}
        for u in found
        if u.shift.pk in seen
    ]  # fmt: skip
