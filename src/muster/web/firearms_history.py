"""Firearms in the hands of people, day by day, as the custody journal records them.

Over the firearms a scope sees now (muster.access.scope.items_in; category `firearm`, the
category the policy's quotas and the dashboard count), the number held by a person at the end
of a day is the number held now less what moved into people's hands after that day, plus what
moved out. Moves into a person's hands are `custody.issued` entries; out of them,
`custody.returned`, and `custody.reported_lost`, `custody.reported_stolen` and
`custody.corrected` whose entry says the item `was` with a person (armory.rules.ALLOWED_FROM:
no other operation takes an item from a person). Entries are read by kind, time and subject.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

from django.db.models import CharField, Count
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from muster.access.scope import Scope, items_in
from muster.armory.choices import Place
from muster.journal.models import JournalEntry

FIREARM = "firearm"
DAYS = 90
ISSUED = "custody.issued"
RETURNED = "custody.returned"
TAKEN = ("custody.reported_lost", "custody.reported_stolen", "custody.corrected")


@dataclass(frozen=True)
class Day:
    """One day of the chart: firearms held by people at its end (today: now), and how many
    were issued and taken back from people that day."""

    day: dt.date
    held: int
    issued: int
    taken_back: int


def firearms_by_day(
    scope: Scope, now: dt.datetime, days: int = DAYS, held_now: int | None = None
) -> list[Day]:
    """The last `days` days up to `now`'s date, oldest first; `held_now`: the firearms of the
    scope held by a person now, when already counted."""
    today = timezone.localdate(now)
    first = today - dt.timedelta(days=days - 1)
    zone = timezone.get_current_timezone()
    since = timezone.make_aware(dt.datetime.combine(first, dt.time.min), zone)
    firearms = items_in(scope).filter(model__category__code=FIREARM)
    if held_now is None:
        held_now = firearms.filter(place=Place.PERSON).count()
    keys = firearms.order_by().annotate(key=Cast("pk", output_field=CharField())).values("key")
    moves = JournalEntry.objects.filter(
        subject_type="item", subject_id__in=keys, recorded_at__gte=since
    ).order_by()
    issued: Counter[dt.date] = Counter()
    taken: Counter[dt.date] = Counter()
    for day, kind, n in (
        moves.filter(kind__in=(ISSUED, RETURNED))
        .annotate(day=TruncDate("recorded_at", tzinfo=zone))
        .values_list("day", "kind")
        .annotate(n=Count("seq"))
    ):
        (issued if kind == ISSUED else taken)[day] += n
    for recorded_at, body in moves.filter(kind__in=TAKEN).values_list("recorded_at", "body"):
        if json.loads(body).get("data", {}).get("was") == Place.PERSON:
            taken[timezone.localdate(recorded_at, zone)] += 1
    held = held_now - sum(issued[d] - taken[d] for d in set(issued) | set(taken) if d > today)
    found = []
    for offset in range(days):
        day = today - dt.timedelta(days=offset)
        found.append(Day(day, held, issued[day], taken[day]))
        held -= issued[day] - taken[day]
    return found[::-1]
