"""The demo's duties (R9): duty types, three posts per battalion (a water pumping station
guarded day and night by armed volunteers with a radio, a street patrol district, a fuel depot
fire watch) and a week of shifts at each, the current week, rostered by the suggestion
algorithm the way a commander would accept it on the Sunday before. Some places stay open:
few volunteers hold fire safety, and Saturday's patrol asks for more people than are free —
the gaps the week view shows. Shifts over by now were checked in and out (one a no-show); the
one under way is checked in. A few volunteers are on leave or have offered their time.

Everything goes through the services, so every row is journaled (as `system:demo`). At
national scale only the first region's battalions get duties, to keep the build quick.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from muster.accounts.models import User
from muster.core.actors import Actor
from muster.duties.models import Assignment, Availability, DutyType, Shift
from muster.duties.roster import roster_suggestion
from muster.duties.rules import week_start
from muster.duties.selectors import week_of
from muster.duties.services import (
    NewRequirement,
    accept_roster,
    assign_person,
    check_in,
    check_out,
    create_post,
    create_shifts,
    define_duty_type,
    record_availability,
    record_no_show,
)
from muster.people.models import Person, Unit

ACTOR = Actor.system("demo")
TYPES = (
    ("patrol", "Street patrol", "Patrols of streets and districts, with the police where asked"),
    ("infrastructure", "Infrastructure protection", "Guarding water, power and gas sites"),
    ("fire_watch", "Fire watch", "Fire safety where there is no fire service"),
    ("agency_assistance", "Assistance to agencies", "Help to the police and other agencies"),
)
LEAN_ABOVE_REGIONS = 2  # as the armory: at national scale, only the first region
LEAVE_SHARE = 0.04  # of a battalion's active volunteers, on leave some day of the week
OFFER_SHARE = 0.10  # of them, offering an evening of the week


@dataclass(frozen=True)
class DutySummary:
    shifts: int
    places: int
    filled: int
    short: int
    leave: int


def build_duties(*, regions: Sequence[str], seed: int, now: dt.datetime | None = None) -> None:
    """Duty types, then each battalion's posts and week, one transaction per battalion."""
    now = now or timezone.now()
    rng = random.Random(f"muster-demo:{seed}:duties")
    types = _duty_types()
    codes = regions[:1] if len(regions) > LEAN_ABOVE_REGIONS else regions
    battalions = Unit.objects.filter(kind="battalion", parent__code__in=codes).order_by("path")
    for number, battalion in enumerate(battalions, start=1):
        write_battalion_week(battalion, types=types, rng=rng, now=now, number=number)
    _give_the_demo_volunteer_a_shift(now)


@transaction.atomic
def _duty_types() -> dict[str, DutyType]:
    return {
        code: define_duty_type(actor=ACTOR, code=code, name=name, description=description)
        for code, name, description in TYPES
    }


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@transaction.atomic
def write_battalion_week(
    battalion: Unit,
    *,
    types: dict[str, DutyType],
    rng: random.Random,
    now: dt.datetime,
    number: int,
) -> None:
    """Posts, a week of shifts, leave, the accepted suggestion and what has happened so far."""
    monday = week_start(timezone.localdate(now))
    planned = now.replace(microsecond=0) - dt.timedelta(days=(now.weekday() + 1))
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    lat, lon = Decimal("50.40") + Decimal(number) / 50, Decimal("30.45") + Decimal(number) / 40
    code = battalion.code
    station = create_post(
        actor=ACTOR, code=f"{code}-WPS", name=f"Water pumping station No. {number}",
        unit=battalion, duty_type=types["infrastructure"], address=f"{number} Waterworks Road",
        latitude=lat, longitude=lon,
    )  # fmt: skip
    district = create_post(
        actor=ACTOR, code=f"{code}-PAT", name=f"District {number} centre", unit=battalion,
        duty_type=types["patrol"], address=f"Market square, district {number}",
    )  # fmt: skip
    depot = create_post(
        actor=ACTOR, code=f"{code}-FW", name=f"Fuel depot {number}", unit=battalion,
        duty_type=types["fire_watch"], latitude=lat + Decimal("0.01"), longitude=lon,
    )  # fmt: skip
    armed = [NewRequirement("eligibility", "firearm/rifle", count=1),
             NewRequirement("qualification", "radio_operator", count=1)]  # fmt: skip
    for start, end in ((8, 20), (20, 8)):
        create_shifts(
            actor=ACTOR, post=station, headcount=2, requirements=armed,
            equipment=[("firearm", 1), ("radio", 1)], now=planned,
            spans=[(_at(d, start), _at(d + dt.timedelta(days=end < start), end)) for d in days],
        )  # fmt: skip
    create_shifts(
        actor=ACTOR, post=district, headcount=3, equipment=[("radio", 1)], now=planned,
        spans=[(_at(d, 18), _at(d, 23)) for d in days[:5]],
    )  # fmt: skip
    create_shifts(
        actor=ACTOR, post=district, headcount=8, now=planned, notes="Market day: a big crowd",
        spans=[(_at(days[5], 9), _at(days[5], 19))],
    )  # fmt: skip
    create_shifts(
        actor=ACTOR, post=depot, headcount=2, now=planned, duty_type=types["fire_watch"],
        requirements=[NewRequirement("qualification", "fire_safety")],
        spans=[(_at(d, 8), _at(d, 20)) for d in days],
    )  # fmt: skip
    _leave_and_offers(battalion, rng, days, planned)
    suggestion = roster_suggestion(battalion, monday, now=planned)
    if suggestion.pairs:
        accept_roster(actor=ACTOR, unit=battalion, pairs=suggestion.pairs, now=planned)
    _what_happened(battalion, monday, now)


def _leave_and_offers(
    battalion: Unit, rng: random.Random, days: list[dt.date], planned: dt.datetime
) -> None:
    active = list(
        Person.objects.filter(unit__path__startswith=battalion.path, status="active").order_by("pk")
    )
    for person in rng.sample(active, k=int(len(active) * LEAVE_SHARE)):
        first = rng.randrange(0, 6)
        record_availability(
            actor=ACTOR, person=person, kind="leave", starts_at=_at(days[first], 0),
            ends_at=_at(days[first] + dt.timedelta(days=rng.randint(1, 3)), 0),
            reason=rng.choice(["family", "work trip", "sick", "holiday"]), now=planned,
        )  # fmt: skip
    for person in rng.sample(active, k=int(len(active) * OFFER_SHARE)):
        day = days[rng.randrange(0, 5)]
        record_availability(
            actor=ACTOR, person=person, kind="available", starts_at=_at(day, 17),
            ends_at=_at(day, 23), reason="free in the evening", now=planned,
        )  # fmt: skip


def _what_happened(battalion: Unit, monday: dt.date, now: dt.datetime) -> None:
    """Shifts over by now were attended (the first assignment of the week a no-show); the
    shifts under way are checked in."""
    assignments = (
        Assignment.objects.filter(
            shift__post__unit=battalion, shift__starts_at__lt=now, state="assigned"
        )
        .select_related("shift__post__unit", "person")
        .order_by("shift__starts_at", "pk")
    )
    for n, assignment in enumerate(assignments):
        shift = assignment.shift
        if n == 0 and shift.ends_at <= now:
            record_no_show(
                actor=ACTOR, assignment=assignment, reason="did not answer the phone",
                now=shift.starts_at + dt.timedelta(minutes=45),
            )  # fmt: skip
            continue
        arrived = shift.starts_at - dt.timedelta(minutes=5 + n % 20)
        check_in(actor=ACTOR, assignment=assignment, now=arrived)
        if shift.ends_at <= now:
            check_out(
                actor=ACTOR, assignment=assignment,
                now=shift.ends_at + dt.timedelta(minutes=n % 15),
            )  # fmt: skip


@transaction.atomic
def _give_the_demo_volunteer_a_shift(now: dt.datetime) -> None:
    """The `volunteer` account's record gets the next patrol it fits, if the roster gave it
    nothing still to come, so that "my shifts" shows one."""
    user = User.objects.filter(username="volunteer").select_related("person__unit").first()
    if user is None or user.person is None:
        return
    person = user.person
    if Assignment.objects.filter(person=person, shift__ends_at__gt=now, state="assigned").exists():
        return
    battalion_path = "/".join(person.unit.path.split("/")[:3]) + "/"
    upcoming = (
        Shift.objects.filter(
            post__unit__path__startswith=battalion_path,
            starts_at__gt=now,
            cancelled_at__isnull=True,
        )
        .select_related("post__unit")
        .order_by("starts_at", "pk")
    )
    for shift in upcoming[:40]:
        if assign_person(actor=ACTOR, shift=shift, person=person, now=now).assigned:
            return


def summarise_duties(now: dt.datetime | None = None) -> DutySummary:
    """This week's duties across the battalions that have them."""
    now = now or timezone.now()
    monday = week_start(timezone.localdate(now))
    shifts = places = filled = short = 0
    for battalion in Unit.objects.filter(kind="battalion", duty_posts__isnull=False).distinct():
        view = week_of(battalion, monday)
        shifts += len(view.cells)
        places += view.places
        filled += view.filled
        short += view.gaps
    return DutySummary(
        shifts=shifts,
        places=places,
        filled=filled,
        short=short,
        leave=Availability.objects.filter(kind="leave").count(),
    )
