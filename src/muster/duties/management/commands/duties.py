"""muster duties …: duty types, posts, shifts, the week of a unit, assignments, availability
and leave, the suggested roster, check-in/out, no-shows, equipment for a shift, iCalendar (R9).

Exit status 0 when done; 2 for bad input (one line per problem naming the record, the field
and the rule; nothing written); 3 when the rostering rules (or, for equipment, the policy)
refuse: every reason is printed, and the refusal is journaled."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from rich.table import Table

from muster.armory.management.base import ArmoryCommand
from muster.armory.selectors import items_by_serials
from muster.core.errors import NotFound
from muster.duties.calendar import calendar_since, shifts_calendar
from muster.duties.choices import AvailabilityKind
from muster.duties.facts import active_counts, local_tz, shift_label
from muster.duties.models import Assignment, Availability, DutyType, Post, Shift
from muster.duties.roster import roster_suggestion
from muster.duties.rules import week_span
from muster.duties.selectors import (
    availability_of,
    parse_week,
    shift_detail,
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
from muster.people.selectors import person_by_national_id, unit_by_code

COUNTED = re.compile(r"^([^=]+?)(?:=(\d+))?$")


def local_time(text: str) -> dt.datetime:
    """argparse type: a local date and time, 2026-11-23 08:00 (or 2026-11-23T08:00)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time like '2026-11-23 08:00'"
        ) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def counted(text: str) -> tuple[str, int | None]:
    """argparse type: NAME or NAME=COUNT."""
    found = COUNTED.match(text.strip())
    if found is None or not found[1]:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME or NAME=COUNT, e.g. fire_safety=2")
    return found[1], int(found[2]) if found[2] else None


def coordinate(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number like 50.4501") from None


def _at(moment: dt.datetime | None) -> str:
    return "—" if moment is None else f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


class Command(ArmoryCommand):
    help = (
        "Duty types, posts and shifts; the week of a unit; assign, take off, check in and out, "
        "no-shows; availability and leave; the suggested roster (--accept to make it); "
        "equipment for a shift; a volunteer's shifts as iCalendar."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        writers = []

        types = sub.add_parser("types", help="duty types: list, add")
        types_sub = types.add_subparsers(dest="what", required=True, metavar="list|add")
        types_sub.add_parser("list", help="every duty type")
        add = types_sub.add_parser("add", help="add a duty type (HQ, regional administrators)")
        add.add_argument("code", help="e.g. fire_watch")
        add.add_argument("name", help='e.g. "Fire watch"')
        add.add_argument("--description", default="")
        writers.append(add)

        posts = sub.add_parser("posts", help="posts: list, add")
        posts_sub = posts.add_subparsers(dest="what", required=True, metavar="list|add")
        listing = posts_sub.add_parser("list", help="posts (of a unit and below)")
        listing.add_argument("--unit", help="unit code")
        add = posts_sub.add_parser("add", help="add a post under a unit's care")
        add.add_argument("code", help="e.g. PS-1")
        add.add_argument("name", help='e.g. "Water pumping station No. 1"')
        add.add_argument("--unit", required=True, help="unit code")
        add.add_argument("--type", required=True, dest="duty_type", help="duty type code")
        add.add_argument("--address", default="")
        add.add_argument("--lat", type=coordinate, help="latitude, e.g. 50.4501")
        add.add_argument("--lon", type=coordinate, help="longitude, e.g. 30.5234")
        add.add_argument("--notes", default="")
        writers.append(add)

        shifts = sub.add_parser("shifts", help="shifts: list, show, add, cancel")
        shifts_sub = shifts.add_subparsers(
            dest="what", required=True, metavar="list|show|add|cancel"
        )
        listing = shifts_sub.add_parser("list", help="shifts of a week (of a unit and below)")
        listing.add_argument("--unit", help="unit code")
        listing.add_argument("--week", help="e.g. 2026-W48, or a day in it (default: this week)")
        show = shifts_sub.add_parser("show", help="one shift: requirements, who is on it")
        show.add_argument("shift", type=int, metavar="SHIFT_ID")
        add = shifts_sub.add_parser("add", help="plan a shift (or the same on several days)")
        add.add_argument("--post", required=True, help="post code")
        add.add_argument("--start", required=True, type=local_time, help="'2026-11-23 08:00'")
        add.add_argument("--end", required=True, type=local_time, help="'2026-11-23 20:00'")
        add.add_argument("--headcount", required=True, type=int, help="volunteers needed")
        add.add_argument("--days", type=int, default=1, help="the same shift on N days in a row")
        add.add_argument(
            "--needs", action="append", type=counted, default=[], metavar="QUAL[/CLASS][=N]",
            help="a qualification N of them must hold (default all); repeatable",
        )  # fmt: skip
        add.add_argument(
            "--eligible", action="append", type=counted, default=[], metavar="TARGET[=N]",
            help="an equipment target N of them must be eligible for, e.g. firearm/rifle=2",
        )  # fmt: skip
        add.add_argument(
            "--equipment", action="append", type=counted, default=[], metavar="CATEGORY[=N]",
            help="equipment the shift needs, e.g. radio=1; repeatable",
        )  # fmt: skip
        add.add_argument("--type", dest="duty_type", help="duty type code (default: the post's)")
        add.add_argument("--notes", default="")
        cancel = shifts_sub.add_parser("cancel", help="cancel a shift, with a reason")
        cancel.add_argument("shift", type=int, metavar="SHIFT_ID")
        cancel.add_argument("--reason", required=True)
        writers += [add, cancel]

        week = sub.add_parser("week", help="the week of a unit: places filled, gaps")
        week.add_argument("--unit", required=True, help="unit code")
        week.add_argument("--week", help="e.g. 2026-W48, or a day in it (default: this week)")

        assign = sub.add_parser("assign", help="put a volunteer on a shift (exit 3 if refused)")
        assign.add_argument("shift", type=int, metavar="SHIFT_ID")
        assign.add_argument("person", help="the volunteer's national identifier")
        assign.add_argument("--reason", default="")
        unassign = sub.add_parser("unassign", help="take a volunteer off a shift")
        unassign.add_argument("assignment", type=int, metavar="ASSIGNMENT_ID")
        unassign.add_argument("--reason", required=True)
        writers += [assign, unassign]

        availability = sub.add_parser(
            "availability", help="availability and leave: list, add, withdraw"
        )
        av_sub = availability.add_subparsers(
            dest="what", required=True, metavar="list|add|withdraw"
        )
        listing = av_sub.add_parser("list", help="a volunteer's entries")
        listing.add_argument("person", help="the volunteer's national identifier")
        add = av_sub.add_parser("add", help="record availability, unavailability or leave")
        add.add_argument("person", help="the volunteer's national identifier")
        add.add_argument("--kind", required=True, choices=AvailabilityKind.values)
        add.add_argument("--from", dest="starts_at", required=True, type=local_time)
        add.add_argument("--to", dest="ends_at", required=True, type=local_time)
        add.add_argument("--reason", default="")
        add.add_argument(
            "--cancel-assignments", action="store_true",
            help="take them off the shifts they are on in that time",
        )  # fmt: skip
        withdraw = av_sub.add_parser("withdraw", help="withdraw an entry, with a reason")
        withdraw.add_argument("entry", type=int, metavar="ENTRY_ID")
        withdraw.add_argument("--reason", required=True)
        writers += [add, withdraw]

        suggest = sub.add_parser(
            "suggest", help="the suggested roster of a week (--accept: make it)"
        )
        suggest.add_argument("--unit", required=True, help="unit code")
        suggest.add_argument("--week", help="e.g. 2026-W48, or a day in it (default: this week)")
        suggest.add_argument("--accept", action="store_true", help="create the assignments")
        suggest.add_argument("--json", action="store_true", help="machine-readable output")
        writers.append(suggest)

        for name, text in (
            ("check-in", "the volunteer arrives"),
            ("check-out", "the volunteer leaves"),
        ):
            step = sub.add_parser(name, help=text)
            step.add_argument("assignment", type=int, metavar="ASSIGNMENT_ID")
            writers.append(step)
        no_show = sub.add_parser("no-show", help="the volunteer did not come")
        no_show.add_argument("assignment", type=int, metavar="ASSIGNMENT_ID")
        no_show.add_argument("--reason", default="")
        correct = sub.add_parser("correct", help="put back a state recorded by mistake")
        correct.add_argument("assignment", type=int, metavar="ASSIGNMENT_ID")
        correct.add_argument(
            "--to", dest="to_state", required=True, choices=["assigned", "checked_in"]
        )
        correct.add_argument("--reason", required=True)
        issue = sub.add_parser("issue", help="issue items for a shift, due back at its end")
        issue.add_argument("assignment", type=int, metavar="ASSIGNMENT_ID")
        issue.add_argument("serials", nargs="+", metavar="SERIAL")
        self.add_model_argument(issue)
        self.add_second_argument(issue)
        writers += [no_show, correct, issue]

        ical = sub.add_parser("ical", help="a volunteer's shifts as an iCalendar file")
        ical.add_argument("person", help="the volunteer's national identifier")
        ical.add_argument("--out", type=Path, help="file to write (default: standard output)")
        short = sub.add_parser("understaffed", help="shifts soon to start short of people")
        short.add_argument("--hours", type=int, default=48, help="how far ahead (default 48)")
        for writer in writers:
            self.add_actor_arguments(writer)

    def run(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        what = options.get("what")
        getattr(self, f"_{action}_{what}" if what else f"_{action}")(options)

    # --- types, posts, shifts ----------------------------------------------------------------

    def _types_list(self, options: dict[str, Any]) -> None:
        for t in DutyType.objects.order_by("code"):
            self.stdout.write(
                f"{t.code:<24} {t.name}" + (f" — {t.description}" if t.description else "")
            )

    def _types_add(self, options: dict[str, Any]) -> None:
        found = define_duty_type(
            actor=self.actor(options), code=options["code"], name=options["name"],
            description=options["description"],
        )  # fmt: skip
        self.stdout.write(f"duty type {found.code} added: {found.name}")

    def _posts_list(self, options: dict[str, Any]) -> None:
        posts = Post.objects.select_related("unit", "duty_type").order_by("unit__path", "code")
        if options["unit"]:
            posts = posts.filter(unit__path__startswith=unit_by_code(options["unit"]).path)
        for p in posts:
            where = p.address or f"{p.latitude}, {p.longitude}"
            self.stdout.write(
                f"{p.code:<12} {p.unit.code:<14} {p.duty_type.code:<16} {p.name} ({where})"
            )

    def _posts_add(self, options: dict[str, Any]) -> None:
        duty_type = DutyType.objects.filter(code=options["duty_type"]).first()
        if duty_type is None:
            raise NotFound.single(
                f"duty type {options['duty_type']}", "--type", "no such duty type"
            )
        post = create_post(
            actor=self.actor(options), code=options["code"], name=options["name"],
            unit=unit_by_code(options["unit"]), duty_type=duty_type, address=options["address"],
            latitude=options["lat"], longitude=options["lon"], notes=options["notes"],
        )  # fmt: skip
        self.stdout.write(f"post {post.code} added at {post.unit.code}: {post.name}")

    def _shifts_list(self, options: dict[str, Any]) -> None:
        monday = parse_week(options["week"])
        span = week_span(monday, local_tz())
        shifts = Shift.objects.filter(starts_at__gte=span.starts_at, starts_at__lt=span.ends_at)
        if options["unit"]:
            shifts = shifts.filter(post__unit__path__startswith=unit_by_code(options["unit"]).path)
        table = Table()
        for column in ("id", "post", "duty", "starts", "ends", "filled", "state"):
            table.add_column(column)
        shifts = shifts.select_related("post", "duty_type").order_by("starts_at", "pk")
        filled = active_counts(s.pk for s in shifts)
        for s in shifts:
            state = (
                "cancelled" if s.cancelled_at else ("SHORT" if filled[s.pk] < s.headcount else "ok")
            )
            table.add_row(
                str(s.pk), s.post.code, s.duty_type.code, _at(s.starts_at), _at(s.ends_at),
                f"{filled[s.pk]}/{s.headcount}", state,
            )  # fmt: skip
        self.console(140).print(table)

    def _shifts_show(self, options: dict[str, Any]) -> None:
        shift = _shift(options["shift"])
        detail = shift_detail(shift)
        self.stdout.write(f"{shift_label(shift)}: {shift.duty_type.name} at {shift.post.name}")
        if shift.cancelled_at:
            self.stdout.write(f"CANCELLED: {shift.cancel_reason}")
        self.stdout.write(f"volunteers: {detail.filled} of {shift.headcount}")
        for need in detail.needs:
            self.stdout.write(f"  needs {need.count} with {need.label}: {need.met} so far")
        for e in detail.equipment:
            self.stdout.write(f"  equipment {e.count} × {e.category}: {e.issued} issued for it")
        for a in shift.assignments.select_related("person").order_by("pk"):
            times = f" in {_at(a.checked_in_at)}" if a.checked_in_at else ""
            times += f" out {_at(a.checked_out_at)}" if a.checked_out_at else ""
            self.stdout.write(
                f"  assignment {a.pk}: {a.person.national_id} {a.person.full_name} — {a.state}{times}"
                + (f" ({a.reason})" if a.reason else "")
            )

    def _shifts_add(self, options: dict[str, Any]) -> None:
        post = Post.objects.select_related("unit").filter(code=options["post"]).first()
        if post is None:
            raise NotFound.single(f"post {options['post']}", "--post", "no such post")
        duty_type = None
        if options["duty_type"]:
            duty_type = DutyType.objects.filter(code=options["duty_type"]).first()
            if duty_type is None:
                raise NotFound.single(
                    f"duty type {options['duty_type']}", "--type", "no such duty type"
                )
        requirements = [
            NewRequirement("qualification", code.partition("/")[0], code.partition("/")[2], n)
            for code, n in options["needs"]
        ] + [NewRequirement("eligibility", target, "", n) for target, n in options["eligible"]]
        spans = [
            (options["start"] + dt.timedelta(days=n), options["end"] + dt.timedelta(days=n))
            for n in range(max(options["days"], 1))
        ]
        created = create_shifts(
            actor=self.actor(options), post=post, spans=spans, headcount=options["headcount"],
            requirements=requirements,
            equipment=[(c, n or 1) for c, n in options["equipment"]],
            duty_type=duty_type, notes=options["notes"],
        )  # fmt: skip
        for s in created:
            self.stdout.write(f"planned {shift_label(s)}")

    def _shifts_cancel(self, options: dict[str, Any]) -> None:
        shift = cancel_shift(
            actor=self.actor(options), shift=_shift(options["shift"]), reason=options["reason"]
        )
        self.stdout.write(f"cancelled {shift_label(shift)}")

    # --- the week and the roster -------------------------------------------------------------

    def _week(self, options: dict[str, Any]) -> None:
        unit = unit_by_code(options["unit"])
        view = week_of(unit, parse_week(options["week"]))
        self.stdout.write(
            f"{unit.code} week {view.week}: {view.filled} of {view.places} places filled, "
            f"{view.gaps} shift(s) short"
        )
        table = Table()
        table.add_column("post")
        for day in view.days:
            table.add_column(f"{day:%a %d}")
        for row in view.rows:
            cells = []
            for day_cells in row.days:
                cells.append(
                    "\n".join(
                        f"{timezone.localtime(c.shift.starts_at):%H:%M} "
                        + ("cancelled" if c.cancelled else f"{c.filled}/{c.shift.headcount}")
                        + (" GAP" if c.gap else "")
                        for c in day_cells
                    )
                )
            table.add_row(row.post.code, *cells)
        self.console(160).print(table)

    def _suggest(self, options: dict[str, Any]) -> None:
        unit = unit_by_code(options["unit"])
        monday = parse_week(options["week"])
        actor = self.actor(options) if options["accept"] else None
        suggestion = roster_suggestion(unit, monday)
        plan = suggestion.plan
        if options["json"]:
            self.stdout.write(json.dumps({
                "unit": unit.code,
                "week": suggestion.week,
                "proposals": [
                    {"shift": p.shift_id, "person": suggestion.people[p.person_id].national_id,
                     "hours_before": p.hours_before}
                    for p in plan.proposals
                ],
                "gaps": [
                    {"shift": g.shift_id, "missing": g.missing,
                     "reasons": {r.code: r.count for r in g.reasons}, "short": g.short}
                    for g in plan.gaps
                ],
            }, indent=2))  # fmt: skip
        else:
            self.stdout.write(
                f"suggested roster for {unit.code}, week {suggestion.week}: "
                f"{len(plan.proposals)} assignment(s), {len(plan.gaps)} shift(s) left short"
            )
            for p in plan.proposals:
                row = suggestion.people[p.person_id]
                shift = suggestion.shifts[p.shift_id]
                self.stdout.write(
                    f"  {shift_label(shift)}: {row.national_id} {row.name} "
                    f"({p.hours_before:g} h that week before)"
                )
            for g in plan.gaps:
                why = ", ".join(f"{r.count} {r.code}" for r in g.reasons) or "no candidates"
                short = "; ".join(f"{n} more with {label}" for label, n in g.short)
                self.stdout.write(
                    f"  GAP {shift_label(suggestion.shifts[g.shift_id])}: {g.missing} open "
                    f"({why})" + (f"; {short}" if short else "")
                )
        if actor is not None:
            if not plan.proposals:
                self.stdout.write("nothing to accept")
                return
            created = accept_roster(actor=actor, unit=unit, pairs=suggestion.pairs)
            self.stdout.write(f"accepted: {len(created)} assignment(s) made")

    # --- assignments -------------------------------------------------------------------------

    def _assign(self, options: dict[str, Any]) -> None:
        actor = self.actor(options)
        shift = _shift(options["shift"])
        person = person_by_national_id(options["person"])
        outcome = assign_person(actor=actor, shift=shift, person=person, reason=options["reason"])
        if not outcome.assigned or outcome.assignment is None:
            self.refuse_by_policy(
                outcome.decision.policy,
                f"{person.national_id} ({person.full_name}) was not put on {shift_label(shift)}",
                [f"{r.rule}: {r.message}" for r in outcome.refusals],
            )
        self.stdout.write(
            f"assignment {outcome.assignment.pk}: {person.national_id} ({person.full_name}) "
            f"on {shift_label(shift)}"
        )

    def _unassign(self, options: dict[str, Any]) -> None:
        a = cancel_assignment(
            actor=self.actor(options), assignment=_assignment(options["assignment"]),
            reason=options["reason"],
        )  # fmt: skip
        self.stdout.write(
            f"assignment {a.pk} cancelled: {a.person.national_id} off {shift_label(a.shift)}"
        )

    def _check_in(self, options: dict[str, Any]) -> None:
        a = check_in(actor=self.actor(options), assignment=_assignment(options["assignment"]))
        self.stdout.write(
            f"assignment {a.pk}: {a.person.national_id} checked in at {_at(a.checked_in_at)}"
        )

    def _check_out(self, options: dict[str, Any]) -> None:
        a = check_out(actor=self.actor(options), assignment=_assignment(options["assignment"]))
        self.stdout.write(
            f"assignment {a.pk}: {a.person.national_id} checked out at {_at(a.checked_out_at)}"
        )
        held = [
            i.item
            for i in a.issues.select_related("item__model")
            if i.item.holder_id == a.person_id
        ]
        for item in held:
            self.stdout.write(
                f"  still holds {item.model.code} {item.serial}, due back {_at(item.due_at)}"
            )

    def _no_show(self, options: dict[str, Any]) -> None:
        a = record_no_show(
            actor=self.actor(options), assignment=_assignment(options["assignment"]),
            reason=options["reason"],
        )  # fmt: skip
        self.stdout.write(f"assignment {a.pk}: {a.person.national_id} recorded as a no-show")

    def _correct(self, options: dict[str, Any]) -> None:
        a = correct_assignment(
            actor=self.actor(options), assignment=_assignment(options["assignment"]),
            to_state=options["to_state"], reason=options["reason"],
        )  # fmt: skip
        self.stdout.write(f"assignment {a.pk} corrected to {a.state}")

    def _issue(self, options: dict[str, Any]) -> None:
        actor = self.actor(options)
        second = self.second(options)
        assignment = _assignment(options["assignment"])
        items = items_by_serials(options["serials"], options["model"])
        outcome = issue_for_shift(
            actor=actor, second=second, assignment=assignment, item_ids=[i.pk for i in items]
        )
        if not outcome.issued:
            policy = outcome.decisions[0].policy if outcome.decisions else None
            self.refuse_by_policy(
                policy,
                f"nothing was issued for assignment {assignment.pk}",
                [f"{r.rule}: {r.message}" for r in outcome.refusals],
            )
        for item in outcome.items:
            self.stdout.write(
                f"issued {item.model.code} {item.serial} to {assignment.person.national_id}, "
                f"due back {_at(item.due_at)} (end of the shift)"
            )

    # --- availability, calendars, shortfalls --------------------------------------------------

    def _availability_list(self, options: dict[str, Any]) -> None:
        person = person_by_national_id(options["person"])
        for e in availability_of(person):
            withdrawn = f" — withdrawn: {e.withdrawal.reason}" if hasattr(e, "withdrawal") else ""
            reason = f" ({e.reason})" if e.reason else ""
            self.stdout.write(
                f"{e.pk:>6} {e.kind:<12} {_at(e.starts_at)} – {_at(e.ends_at)}{reason}{withdrawn}"
            )

    def _availability_add(self, options: dict[str, Any]) -> None:
        entry = record_availability(
            actor=self.actor(options), person=person_by_national_id(options["person"]),
            kind=options["kind"], starts_at=options["starts_at"], ends_at=options["ends_at"],
            reason=options["reason"], cancel_assignments=options["cancel_assignments"],
        )  # fmt: skip
        self.stdout.write(
            f"availability {entry.pk}: {entry.kind} {_at(entry.starts_at)} – {_at(entry.ends_at)}"
        )

    def _availability_withdraw(self, options: dict[str, Any]) -> None:
        entry = Availability.objects.filter(pk=options["entry"]).first()
        if entry is None:
            raise NotFound.single(f"availability {options['entry']}", "ENTRY_ID", "no such entry")
        withdraw_availability(actor=self.actor(options), entry=entry, reason=options["reason"])
        self.stdout.write(f"availability {entry.pk} withdrawn")

    def _ical(self, options: dict[str, Any]) -> None:
        person = person_by_national_id(options["person"])
        data = shifts_calendar(person, shifts_of_person(person, since=calendar_since()))
        if options["out"] is None:
            self.stdout.write(data.decode("utf-8"), ending="")
            return
        options["out"].write_bytes(data)
        self.stdout.write(f"wrote {options['out']}")

    def _understaffed(self, options: dict[str, Any]) -> None:
        found = understaffed_shifts(timezone.now(), dt.timedelta(hours=options["hours"]))
        if not found:
            self.stdout.write(f"no shift in the next {options['hours']} h is short of people")
        for u in found:
            self.stdout.write(
                f"{shift_label(u.shift)} ({u.unit.code}): {u.filled} of {u.headcount}, {u.missing} short"
            )


def _shift(pk: int) -> Shift:
    found = Shift.objects.select_related("post__unit", "duty_type").filter(pk=pk).first()
    if found is None:
        raise NotFound.single(f"shift {pk}", "SHIFT_ID", "no such shift")
    return found


def _assignment(pk: int) -> Assignment:
    found = Assignment.objects.select_related("shift__post__unit", "person").filter(pk=pk).first()
    if found is None:
        raise NotFound.single(f"assignment {pk}", "ASSIGNMENT_ID", "no such assignment")
    return found
