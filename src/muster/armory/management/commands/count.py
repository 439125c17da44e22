"""muster count start|record|close|show|resolve: blind inventory counts and their variances (R7)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from rich.table import Table

from muster.accounts.selectors import users_by_username
from muster.armory.count_selectors import count_by_id, count_sheet, variance_by_id, variance_report
from muster.armory.management.base import ArmoryCommand
from muster.armory.models import InventoryCount, Variance
from muster.armory.selectors import site_by_code
from muster.armory.services.counts import close_count, record_count, resolve_variance, start_count
from muster.core.errors import CustodyError


def lot_quantity(text: str) -> tuple[str, int]:
    """argparse type: LOT=QTY, a lot number (or MODEL:LOT) and a whole number of rounds."""
    lot, sep, quantity = text.rpartition("=")
    if not sep or not lot or not quantity.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not LOT=QUANTITY, e.g. L-2026-01=980")
    return lot, int(quantity)


class Command(ArmoryCommand):
    help = "Start, record, close and show inventory counts; resolve their variances."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        start = sub.add_parser("start", help="open a count of a site, assigned to a counter")
        start.add_argument("--site", required=True, help="site code")
        start.add_argument("--category", help="count one category (default: the whole site)")
        start.add_argument("--counter", required=True, help="username of the counter")
        record = sub.add_parser("record", help="record what was seen (the counter only)")
        record.add_argument("count", type=int, metavar="COUNT_ID")
        record.add_argument("serials", nargs="*", metavar="SERIAL")
        record.add_argument(
            "--lot",
            action="append",
            type=lot_quantity,
            default=[],
            metavar="LOT=QTY",
            help="a lot and the quantity counted (repeatable)",
        )
        record.add_argument("--file", type=Path, help="a file with one serial per line")
        close = sub.add_parser("close", help="close a count and list its variances")
        close.add_argument("count", type=int, metavar="COUNT_ID")
        show = sub.add_parser("show", help="the count sheet, or the variance report once closed")
        show.add_argument("count", type=int, metavar="COUNT_ID")
        resolve = sub.add_parser("resolve", help="resolve a variance by an authorised entry")
        resolve.add_argument("variance", type=int, metavar="VARIANCE_ID")
        resolve.add_argument(
            "--as",
            dest="resolution",
            required=True,
            choices=["found", "reported_lost", "correction"],
        )
        resolve.add_argument("--note", required=True, help="what was found or done")
        self.add_second_argument(resolve)
        for writer in (start, record, close, resolve):
            self.add_actor_arguments(writer)

    def run(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _start(self, options: dict[str, Any]) -> None:
        site = site_by_code(options["site"])
        (counter,) = users_by_username([options["counter"]])
        count = start_count(
            actor=self.actor(options),
            site=site,
            counter=counter,
            category=options["category"],
        )
        self.stdout.write(
            f"count {count.pk} started at {site.code} ({_scope(count)}), counter "
            f"{counter.username}{', blind' if count.blind else ''}"
        )

    def _record(self, options: dict[str, Any]) -> None:
        serials = list(options["serials"])
        if options["file"] is not None:
            serials += _read_serials(options["file"])
        count = count_by_id(options["count"])
        written = record_count(
            actor=self.actor(options), count=count, serials=serials, lots=options["lot"]
        )
        self.stdout.write(f"count {count.pk}: {written} record(s) written")

    def _close(self, options: dict[str, Any]) -> None:
        count = count_by_id(options["count"])
        variances = close_count(actor=self.actor(options), count=count)
        self.stdout.write(f"count {count.pk} closed: {len(variances)} variance(s)")
        if variances:
            self._variance_table(variances)

    def _show(self, options: dict[str, Any]) -> None:
        count = count_by_id(options["count"])
        started = timezone.localtime(count.started_at)
        self.stdout.write(
            f"count {count.pk} at {count.site.code} ({_scope(count)}), counter "
            f"{count.counter.username}, {'blind' if count.blind else 'open sheet'}, "
            f"{count.status}; started by {count.started_by} {started:%Y-%m-%d %H:%M}"
        )
        if count.status == "closed":
            variances = list(variance_report(count))
            self.stdout.write(
                f"closed by {count.closed_by}: {len(variances)} variance(s)"
                + ("" if variances else " — the record agrees with the count")
            )
            if variances:
                self._variance_table(variances)
            return
        sheet = count_sheet(count)
        self.stdout.write(f"recorded: {len(sheet.serials)} serial(s), {len(sheet.lots)} lot(s)")
        for serial in sheet.serials:
            self.stdout.write(f"  {serial}")
        for lot, quantity in sheet.lots:
            self.stdout.write(f"  {lot} = {quantity}")
        if sheet.expected_serials is None or sheet.expected_lots is None:
            self.stdout.write("blind count: the expected list is not shown")
            return
        self.stdout.write(
            f"expected: {len(sheet.expected_serials)} serial(s), {len(sheet.expected_lots)} lot(s)"
        )
        for serial in sheet.expected_serials:
            self.stdout.write(f"  {serial}")
        for lot, quantity in sheet.expected_lots:
            self.stdout.write(f"  {lot} = {quantity}")

    def _resolve(self, options: dict[str, Any]) -> None:
        variance = variance_by_id(options["variance"])
        resolved = resolve_variance(
            actor=self.actor(options),
            second=self.second(options),
            variance=variance,
            resolution=options["resolution"],
            note=options["note"],
        )
        self.stdout.write(f"variance {resolved.pk} resolved as {resolved.resolution}")

    def _variance_table(self, variances: list[Variance]) -> None:
        table = Table()
        for column in ("id", "kind", "item or lot", "expected", "counted", "detail", "resolution"):
            table.add_column(column)
        for v in variances:
            what = (
                f"{v.item.model.code} {v.serial}"
                if v.item
                else (f"{v.lot.model.code}:{v.lot.lot_number}" if v.lot else v.serial)
            )
            resolution = (
                f"{v.resolution} by {v.resolved_by}: {v.resolution_note}" if v.resolution else ""
            )
            table.add_row(
                str(v.pk), v.kind, what, str(v.expected), str(v.counted), v.detail, resolution
            )
        self.console(160).print(table)


def _scope(count: InventoryCount) -> str:
    return count.category.code if count.category else "whole site"


def _read_serials(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CustodyError.single(str(path), "file", "does not exist") from None
    except UnicodeDecodeError as error:
        raise CustodyError.single(
            str(path), "file", f"is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    return [line.strip() for line in lines if line.strip()]
