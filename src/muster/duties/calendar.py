"""A volunteer's shifts as an iCalendar file (RFC 5545), to import into or subscribe from a
phone's calendar. One event per assignment, its UID stable and its SEQUENCE the assignment's
version, so a calendar that reads the file again updates the event; a cancelled assignment or
shift stays in the file with STATUS:CANCELLED, so the calendar drops it instead of keeping a
stale shift."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vGeo

from muster.duties.choices import AssignmentState
from muster.duties.models import Assignment
from muster.people.models import Person

PRODID = "-//Muster//Duties//EN"
# How far back a calendar file reaches: the last weeks' shifts stay visible there.
BACK = dt.timedelta(days=31)


def calendar_since(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - BACK


def shifts_calendar(person: Person, assignments: Iterable[Assignment]) -> bytes:
    """The iCalendar text of `assignments` (their shifts, posts and duty types read with them)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Duties of %(name)s") % {"name": person.full_name})
    for assignment in assignments:
        calendar.add_component(_event(assignment))
    return bytes(calendar.to_ical())


def _event(assignment: Assignment) -> Event:
    shift = assignment.shift
    post = shift.post
    cancelled = assignment.state == AssignmentState.CANCELLED or shift.cancelled_at is not None
    event = Event()
    event.add("uid", f"assignment-{assignment.pk}@muster")
    event.add("dtstamp", assignment.changed_at)
    event.add("last-modified", assignment.changed_at)
    event.add("sequence", assignment.version + (1 if shift.cancelled_at else 0))
    event.add("dtstart", shift.starts_at)
    event.add("dtend", shift.ends_at)
    event.add("summary", f"{shift.duty_type.name}: {post.name}")
    event.add("categories", [shift.duty_type.name])
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    where = post.address or (
        f"{post.latitude}, {post.longitude}" if post.latitude is not None else post.name
    )
    event.add("location", where)
    if post.latitude is not None and post.longitude is not None:
        event.add("geo", vGeo((float(post.latitude), float(post.longitude))))
    lines = [
        _("Post: %(code)s %(name)s") % {"code": post.code, "name": post.name},
        _("Unit: %(unit)s") % {"unit": post.unit.code},
        _("State: %(state)s") % {"state": assignment.get_state_display()},
    ]
    if shift.cancelled_at is not None:
        lines.append(_("The shift is cancelled: %(reason)s") % {"reason": shift.cancel_reason})
    if shift.notes:
        lines.append(shift.notes)
    event.add("description", "\n".join(str(line) for line in lines))
    return event
