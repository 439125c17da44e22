"""Times the duties tests use: the week after next, so no test depends on today's date."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from muster.duties.rules import week_start


def monday() -> dt.date:
    return week_start(timezone.localdate()) + dt.timedelta(days=14)


def at(day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    """Monday of the week after next + `day` days, at hour:minute local time."""
    moment = dt.datetime.combine(monday() + dt.timedelta(days=day), dt.time(hour, minute))
    return timezone.make_aware(moment)
