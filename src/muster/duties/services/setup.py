"""Duty types, posts and shifts: what is to be manned, where and when, by how many, and
what they must hold. Shifts are checked against the policy in force where the post is
(duties.max_shift_hours, the qualification types and equipment targets it declares)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from muster.core.actors import Actor
from muster.core.errors import Problem
from muster.duties.choices import AssignmentState, RequirementKind
from muster.duties.errors import DutyError
from muster.duties.facts import policy_for, shift_label
from muster.duties.models import (
    Assignment,
    DutyType,
    Post,
    Shift,
    ShiftEquipment,
    ShiftRequirement,
)
from muster.duties.services.common import (
    change_state,
    now_or,
    require_manager,
    require_type_definer,
    required_reason,
)
from muster.journal.services import Change, record_change
from muster.people.models import Unit
from muster.policy.rules import targets
from muster.policy.schema import PolicyDocument

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
MAX_HEADCOUNT = 100
MAX_EQUIPMENT = 100


@transaction.atomic
def define_duty_type(*, actor: Actor, code: str, name: str, description: str = "") -> DutyType:
    """Add a kind of duty (street patrol, fire watch, …): data, not code."""
    record = f"duty type {code}"
    require_type_definer(actor, record)
    problems = _code_problems(record, code, DutyType.objects.filter(code=code).exists())
    if not name.strip():
        problems.append(Problem(record, "name", "is required"))
    if len(name) > 200:
        problems.append(Problem(record, "name", "must be at most 200 characters"))
    if len(description) > 500:
        problems.append(Problem(record, "description", "must be at most 500 characters"))
    if problems:
        raise DutyError(problems)
    duty_type = DutyType.objects.create(code=code, name=name.strip(), description=description)
    record_change(
        actor=actor,
        change=Change(
            "duty.type_defined",
            "duty_type",
            duty_type.pk,
            {"code": code, "name": duty_type.name, "description": description},
        ),
    )
    return duty_type


def _code_problems(record: str, code: str, taken: bool) -> list[Problem]:
    problems = []
    if not CODE.match(code):
        problems.append(
            Problem(record, "code", "must be 1–40 letters, digits, '.', '_' or '-'", code)
        )
    if taken:
        problems.append(Problem(record, "code", "is taken already", code))
    return problems


@transaction.atomic
def create_post(
    *,
    actor: Actor,
    code: str,
    name: str,
    unit: Unit,
    duty_type: DutyType,
    address: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    notes: str = "",
) -> Post:
    """Add a post (a named place, with an address or coordinates) under a unit's care."""
    record = f"post {code}"
    require_manager(actor, unit, record)
    problems = _code_problems(record, code, Post.objects.filter(code=code).exists())
    if not name.strip():
        problems.append(Problem(record, "name", "is required"))
    if (latitude is None) != (longitude is None):
        problems.append(Problem(record, "latitude", "give both latitude and longitude, or neither"))
    if latitude is not None and not -90 <= latitude <= 90:
        problems.append(Problem(record, "latitude", "must be between -90 and 90", str(latitude)))
    if longitude is not None and not -180 <= longitude <= 180:
        problems.append(
            Problem(record, "longitude", "must be between -180 and 180", str(longitude))
        )
    if not address.strip() and latitude is None:
        problems.append(Problem(record, "address", "give an address or coordinates"))
    for field, value, limit in (("address", address, 300), ("notes", notes, 500)):
        if len(value) > limit:
            problems.append(Problem(record, field, f"must be at most {limit} characters"))
    if problems:
        raise DutyError(problems)
    post = Post.objects.create(
        code=code,
        name=name.strip(),
        unit=unit,
        duty_type=duty_type,
        address=address.strip(),
        latitude=_six(latitude),
        longitude=_six(longitude),
        notes=notes,
    )
    record_change(
        actor=actor,
        change=Change(
            "duty.post_created",
            "post",
            post.pk,
            {
                "code": code,
                "name": post.name,
                "unit": unit.code,
                "duty_type": duty_type.code,
                "address": post.address,
                "latitude": post.latitude,
                "longitude": post.longitude,
                "notes": notes,
            },
        ),
    )
    return post


def _six(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class NewRequirement:
    """`count` assignees (default: all of them) must hold a qualification (kind
    "qualification", code a qualification type, `klass` its class when it matters) or be
    eligible for an equipment target (kind "eligibility", code like firearm/rifle)."""

    kind: str
    code: str
    klass: str = ""
    count: int | None = None

    def label(self) -> str:
        return f"{self.kind} {self.code}" + (f"/{self.klass}" if self.klass else "")


def create_shift(
    *,
    actor: Actor,
    post: Post,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    headcount: int,
    requirements: Sequence[NewRequirement] = (),
    equipment: Sequence[tuple[str, int]] = (),
    duty_type: DutyType | None = None,
    notes: str = "",
    now: dt.datetime | None = None,
) -> Shift:
    """Plan one shift at a post; see create_shifts."""
    return create_shifts(
        actor=actor, post=post, spans=[(starts_at, ends_at)], headcount=headcount,
        requirements=requirements, equipment=equipment, duty_type=duty_type, notes=notes,
        now=now,
    )[0]  # fmt: skip


@transaction.atomic
def create_shifts(
    *,
    actor: Actor,
    post: Post,
    spans: Sequence[tuple[dt.datetime, dt.datetime]],
    headcount: int,
    requirements: Sequence[NewRequirement] = (),
    equipment: Sequence[tuple[str, int]] = (),
    duty_type: DutyType | None = None,
    notes: str = "",
    now: dt.datetime | None = None,
) -> list[Shift]:
    """Plan shifts at a post (the same headcount, requirements and equipment each, e.g. one a
    day for a week), all or none: each must end after it starts, last at most the policy's
    duties.max_shift_hours and not be over already; requirements name what the policy declares."""
    now = now_or(now)
    record = f"shifts at post {post.code}"
    require_manager(actor, post.unit, record)
    if not spans:
        raise DutyError.single(record, "starts_at", "name at least one shift")
    problems: list[Problem] = []
    if not 1 <= headcount <= MAX_HEADCOUNT:
        problems.append(
            Problem(record, "headcount", f"must be between 1 and {MAX_HEADCOUNT}", str(headcount))
        )
    if len(notes) > 300:
        problems.append(Problem(record, "notes", "must be at most 300 characters"))
    policies: dict[dt.date, PolicyDocument] = {}
    for starts_at, ends_at in spans:
        problems.extend(_span_problems(record, post, starts_at, ends_at, now, policies))
    if problems:
        raise DutyError(problems)
    policy = next(iter(policies.values()))
    problems.extend(_requirement_problems(record, requirements, headcount, policy))
    problems.extend(_equipment_problems(record, equipment, policy))
    if problems:
        raise DutyError(problems)
    kind = duty_type or post.duty_type
    created = []
    for starts_at, ends_at in sorted(spans):
        shift = Shift.objects.create(
            post=post,
            duty_type=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            headcount=headcount,
            notes=notes,
            created_by=actor.label,
        )
        needs = [
            ShiftRequirement(
                shift=shift,
                kind=r.kind,
                code=r.code,
                klass=r.klass,
                count=headcount if r.count is None else r.count,
            )
            for r in requirements
        ]
        ShiftRequirement.objects.bulk_create(needs)
        ShiftEquipment.objects.bulk_create(
            [ShiftEquipment(shift=shift, category=c, count=n) for c, n in equipment]
        )
        record_change(
            actor=actor,
            change=Change(
                "duty.shift_created",
                "shift",
                shift.pk,
                {
                    "post": post.code,
                    "unit": post.unit.code,
                    "duty_type": kind.code,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "headcount": headcount,
                    "requirements": [
                        {"kind": n.kind, "code": n.code, "class": n.klass, "count": n.count}
                        for n in needs
                    ],
                    "equipment": [{"category": c, "count": n} for c, n in equipment],
                    "notes": notes,
                },
            ),
        )
        created.append(shift)
    return created


def _span_problems(
    record: str,
    post: Post,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
    policies: dict[dt.date, PolicyDocument],
) -> list[Problem]:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        return [Problem(record, "starts_at", "give a time with its time zone")]
    shown = f"{timezone.localtime(starts_at):%Y-%m-%d %H:%M}"
    if ends_at <= starts_at:
        return [Problem(record, "ends_at", "must be after the start", shown)]
    if ends_at <= now:
        return [Problem(record, "ends_at", "is over already: a shift is planned ahead", shown)]
    day = timezone.localdate(starts_at)
    policy = policies.get(day) or policy_for(post.unit, day)
    policies[day] = policy
    longest = policy.duties.max_shift_hours
    if ends_at - starts_at > dt.timedelta(hours=longest):
        hours = (ends_at - starts_at) / dt.timedelta(hours=1)
        return [
            Problem(
                record,
                "ends_at",
                f"{policy.ref} duties.max_shift_hours: a shift lasts at most {longest} h, "
                f"not {hours:g}",
                shown,
            )
        ]
    return []


def _requirement_problems(
    record: str, requirements: Sequence[NewRequirement], headcount: int, policy: PolicyDocument
) -> list[Problem]:
    problems = []
    seen: set[tuple[str, str, str]] = set()
    known_targets = targets(policy)
    for index, r in enumerate(requirements):
        field = f"requirements[{index}]"
        key = (r.kind, r.code, r.klass)
        if key in seen:
            problems.append(Problem(record, field, "is named twice", r.label()))
        seen.add(key)
        if r.count is not None and not 1 <= r.count <= headcount:
            problems.append(
                Problem(record, field, f"count must be between 1 and the headcount ({headcount})",
                        str(r.count))
            )  # fmt: skip
        if r.kind == RequirementKind.QUALIFICATION:
            declared = policy.qualification_types.get(r.code)
            if declared is None:
                problems.append(
                    Problem(record, field,
                            f"{policy.ref} declares no qualification type '{r.code}' "
                            f"(declared: {', '.join(policy.qualification_types)})", r.code)
                )  # fmt: skip
            elif r.klass and r.klass not in declared.classes:
                listed = ", ".join(declared.classes) or "none"
                problems.append(
                    Problem(record, field, f"{r.code} has no class '{r.klass}' (classes: {listed})",
                            r.klass)
                )  # fmt: skip
        elif r.kind == RequirementKind.ELIGIBILITY:
            if r.klass:
                problems.append(
                    Problem(record, field, "name the target as category/class", r.klass)
                )
            elif r.code not in known_targets:
                problems.append(
                    Problem(record, field,
                            f"{policy.ref} has no target '{r.code}' (targets: {', '.join(known_targets)})",
                            r.code)
                )  # fmt: skip
        else:
            problems.append(
                Problem(record, field, "kind must be qualification or eligibility", r.kind)
            )
    return problems


def _equipment_problems(
    record: str, equipment: Sequence[tuple[str, int]], policy: PolicyDocument
) -> list[Problem]:
    problems = []
    seen = set()
    for index, (category, count) in enumerate(equipment):
        field = f"equipment[{index}]"
        if category in seen:
            problems.append(Problem(record, field, "is named twice", category))
        seen.add(category)
        if category not in policy.categories:
            problems.append(
                Problem(record, field,
                        f"{policy.ref} has no equipment category '{category}' "
                        f"(categories: {', '.join(policy.categories)})", category)
            )  # fmt: skip
        if not 1 <= count <= MAX_EQUIPMENT:
            problems.append(
                Problem(record, field, f"count must be between 1 and {MAX_EQUIPMENT}", str(count))
            )
    return problems


@transaction.atomic
def cancel_shift(
    *, actor: Actor, shift: Shift, reason: str, now: dt.datetime | None = None
) -> Shift:
    """Cancel a shift (kept, marked cancelled with a reason) and every assignment on it that
    has not started; a shift someone has checked in to cannot be cancelled."""
    now = now_or(now)
    record = f"shift {shift.pk}"
    locked = (
        Shift.objects.select_for_update(of=("self",)).select_related("post__unit").get(pk=shift.pk)
    )
    require_manager(actor, locked.post.unit, record)
    reason = required_reason(reason, record, "the shift is cancelled")
    if locked.cancelled_at is not None:
        raise DutyError.single(record, "state", "is cancelled already")
    if locked.ends_at <= now:
        raise DutyError.single(record, "ends_at", "is over; it cannot be cancelled")
    working = Assignment.objects.filter(
        shift=locked, state__in=[AssignmentState.CHECKED_IN, AssignmentState.CHECKED_OUT]
    ).select_related("person")
    if working.exists():
        names = ", ".join(a.person.national_id for a in working)
        raise DutyError.single(
            record, "state", f"is under way ({names} checked in); it cannot be cancelled"
        )
    locked.cancelled_at = now
    locked.cancel_reason = reason
    locked.save(update_fields=["cancelled_at", "cancel_reason"])
    record_change(
        actor=actor,
        change=Change(
            "duty.shift_cancelled",
            "shift",
            locked.pk,
            {"post": locked.post.code, "label": shift_label(locked), "reason": reason},
        ),
    )
    for assignment in (
        Assignment.objects.select_for_update(of=("self",))
        .filter(shift=locked, state=AssignmentState.ASSIGNED)
        .select_related("person")
        .order_by("pk")
    ):
        change_state(
            assignment, actor=actor, to_state=AssignmentState.CANCELLED, at=now,
            reason=f"shift cancelled: {reason}", kind="duty.unassigned",
        )  # fmt: skip
    shift.cancelled_at, shift.cancel_reason = locked.cancelled_at, locked.cancel_reason
    return locked
