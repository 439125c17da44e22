"""muster demo: build a realistic demo force through the services (seed or national scale)."""

from __future__ import annotations

import argparse
import os
import time
from types import TracebackType
from typing import IO, Any, cast

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from muster.alerts.job import run_alerts
from muster.core.management.base import MusterCommand
from muster.demo.armory import ArmorySummary, summarise_armory
from muster.demo.builder import DEMO_PASSWORD, Summary, build_demo, refusal, summarise
from muster.demo.duties import DutySummary, summarise_duties
from muster.demo.plan import RegionSpec, scale_regions
from muster.journal import log
from muster.people.models import Person


def _url() -> str:
    """Where `muster serve` (and `make demo`) will listen: MUSTER_HOST and MUSTER_PORT, which
    `make demo HOST=… PORT=…` passes on, else 127.0.0.1:8000."""
    host = os.environ.get("MUSTER_HOST", "127.0.0.1")
    return f"http://{host}:{os.environ.get('MUSTER_PORT', '8000')}/"


# How the summary names each place, in the order it lists them.
PLACES = {
    "site": "at a site", "person": "issued", "in_transit": "in transit",
    "maintenance": "in maintenance", "lost": "lost", "stolen": "stolen", "disposed": "disposed",
}  # fmt: skip


class Command(MusterCommand):
    help = (
        "Build demo data: units, volunteers, qualification histories and users, all through "
        "the services and so all journaled. Seed: one full region and a small one (~2,400 "
        "volunteers); national: 30 regions (~100,000)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale", choices=("seed", "national"), default="seed",
            help="seed (default): ~2,400 volunteers in 2 regions; national: ~3,300 per region",
        )  # fmt: skip
        parser.add_argument(
            "--regions", type=int, metavar="N", help="regions at national scale (default 30, 2–99)"
        )
        parser.add_argument(
            "--if-empty", action="store_true",
            help="do nothing (successfully) when volunteers are registered already",
        )  # fmt: skip
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="random seed (default 2026): the same seed on the same day builds the same data",
        )
        # A few dozen volunteers, for tests.
        parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)

    def run(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Person.objects.exists():
            count = Person.objects.count()
            self.stdout.write(
                f"Demo data is already there ({count:,} volunteers); nothing was changed. "
                "To rebuild it from scratch: make demo-reset"
            )
            return
        regions = self._regions(options)
        why = refusal()
        if why:
            raise CommandError(
                f"{why}; the demo is built only into an empty database. "
                "Use --if-empty to leave it as it is, or `make demo-reset` to start again."
            )
        started = time.monotonic()
        # OutputWrapper is a text stream; writing through it keeps call_command(stderr=…) working.
        console = Console(file=cast("IO[str]", self.stderr), highlight=False)
        with _RichProgress(console, len(regions)) as progress:
            # The tiny demo (for tests) has no duties: tests/db/duties builds them itself.
            build_demo(
                regions=regions,
                seed=options["seed"],
                progress=progress,
                duties=not options["tiny"],
            )
            # What the alert job (muster alerts run, from a timer) raises on this data; the
            # demo's mail would only be printed, so none is sent.
            alerts = None if options["tiny"] else run_alerts(mail=False)
        integrated = log.integrate()
        elapsed = time.monotonic() - started
        today = timezone.localdate()
        self._print_summary(summarise(today=today), elapsed, options)
        self.stdout.write(
            f"  log             {integrated.size:,} entries in the Merkle tree, checkpoint signed "
            f"(`muster log checkpoint`; public key: `muster log key`)"
        )
        self._print_armory(summarise_armory(today))
        if not options["tiny"]:
            self._print_duties(summarise_duties())
        if alerts is not None:
            raised = ", ".join(f"{n:,} {kind}" for kind, n in alerts.raised.most_common())
            self.stdout.write(
                f"  alerts          {alerts.active:,} open ({raised or 'none'}): on the "
                f"dashboards and at /alerts/; `muster alerts run` raises them from a timer"
            )
        self._print_users(summarise(today=today))

    def _regions(self, options: dict[str, Any]) -> tuple[RegionSpec, ...]:
        count = options["regions"]
        if options["tiny"]:
            return scale_regions("tiny")
        if count is not None and options["scale"] != "national":
            raise CommandError("--regions applies to --scale national only")
        if count is not None and not 2 <= count <= 99:
            raise CommandError(f"--regions must be between 2 and 99, not {count}")
        return scale_regions(options["scale"], count)

    def _print_summary(self, summary: Summary, elapsed: float, options: dict[str, Any]) -> None:
        out = self.stdout.write
        kinds = summary.units_by_kind
        statuses = summary.people_by_status
        people = sum(statuses.values())
        order = ("active", "applicant", "vetting", "suspended", "discharged")
        by_status = ", ".join(f"{statuses.get(s, 0):,} {s}" for s in order)
        unit_parts = ", ".join(
            f"{kinds.get(kind, 0):,} {plural}"
            for kind, plural in (
                ("region", "regions"), ("battalion", "battalions"),
                ("company", "companies"), ("platoon", "platoons"),
            )
        )  # fmt: skip
        quota = summary.firearm_quota
        beyond = (
            "; the quota is smaller, so ranking decides"
            if quota and summary.rifle_eligible > quota
            else ""
        )
        scale = "tiny" if options["tiny"] else options["scale"]
        out(f"Demo data built in {elapsed:.1f} s (scale {scale}, seed {options['seed']}):")
        out(f"  units           {sum(kinds.values()):,} ({unit_parts})")
        out(f"  volunteers      {people:,}: {by_status}")
        out(
            f"  qualifications  {summary.qualifications:,} records: {summary.expired:,} past "
            f"their expiry ({summary.lapsed:,} of them not renewed), {summary.revoked:,} revoked"
        )
        out(f"  journal         {summary.journal_entries:,} entries")
        out(
            f"  firearm/rifle   {summary.rifle_eligible:,} eligible today in {summary.region} "
            f"(quota {quota if quota is not None else 'none'} per region{beyond})"
        )

    def _print_armory(self, armory: ArmorySummary) -> None:
        out = self.stdout.write
        items = sum(sum(places.values()) for places in armory.items_by_category.values())
        out(
            f"  armory          {items:,} items at {armory.sites} sites "
            f"({armory.certified} with a current certification)"
        )
        for category, places in sorted(armory.items_by_category.items()):
            where = ", ".join(
                f"{places[place]:,} {words}" for place, words in PLACES.items() if place in places
            )
            out(f"    {category:<16}{sum(places.values()):>6,}: {where}")
        rounds = sum(lot.received for lot in armory.lots)
        out(f"  ammunition      {rounds:,} rounds received in {len(armory.lots)} lots")
        for lot in armory.lots:
            out(
                f"    {lot.model:<8} lot {lot.number:<14}{lot.received:>8,}: "
                f"{lot.in_store:,} in store, {lot.with_people:,} issued, {lot.expended:,} expended"
            )
        for label, lines in (
            ("open counts", armory.open_counts),
            ("open incidents", armory.open_incidents),
            ("in transit", armory.in_transit),
        ):
            for n, line in enumerate(lines or ["none"]):
                out(f"  {label if n == 0 else '':<16}{line}")

    def _print_duties(self, duties: DutySummary) -> None:
        self.stdout.write(
            f"  duties          {duties.shifts:,} shifts this week, {duties.filled:,} of "
            f"{duties.places:,} places filled by the suggested roster, {duties.short:,} shifts "
            f"short of people (the week view shows them); {duties.leave:,} on leave"
        )

    def _print_users(self, summary: Summary) -> None:
        out = self.stdout.write
        out(f"Users, all with the password {DEMO_PASSWORD}:")
        width = max(len(user.username) for user in summary.users)
        for user in summary.users:
            out(f"  {user.username:<{width}} {user.roles}")
        out(
            f"Start the web application (make demo does), then open {_url()} and sign in "
            "with an account above (admin at /admin/)"
        )


class _RichProgress:
    """One bar per region on stderr, counting volunteers, records and changes written; when
    stderr is not a terminal (a log, CI), one line per region as it finishes instead."""

    def __init__(self, console: Console, regions: int) -> None:
        self.console = console
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.regions, self.done = regions, 0
        self.task: TaskID | None = None
        self.label, self.detail, self.started = "", "", 0.0

    def __enter__(self) -> _RichProgress:
        if self.console.is_terminal:
            self.bars.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.bars.stop()

    def region_started(self, spec: RegionSpec, *, people: int, steps: int) -> None:
        self.done += 1
        self.label = f"[{self.done}/{self.regions}] {spec.code} {spec.name}"
        self.detail = f"{people:,} volunteers"
        self.started = time.monotonic()
        self.task = self.bars.add_task(self.label, total=steps, detail=self.detail)

    def advanced(self, steps: int) -> None:
        if self.task is not None:
            self.bars.advance(self.task, steps)

    def region_finished(self) -> None:
        if self.task is None:
            return
        total = self.bars.tasks[self.task].total or 0
        self.bars.update(self.task, completed=total)
        if not self.console.is_terminal:
            seconds = time.monotonic() - self.started
            self.console.print(
                f"{self.label}: {self.detail}, {total:,.0f} records and changes, {seconds:.1f} s",
                soft_wrap=True,
            )
