"""muster history SERIAL: the full custody history of one item, oldest first, from the journal."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from rich.table import Table

from muster.armory.management.base import describe, when
from muster.armory.models import Item
from muster.armory.rules import PLACE_WORDS
from muster.armory.selectors import HistoryEvent, item_by_serial, item_history
from muster.core.management.base import MusterCommand

# Repeated in every event or shown in a column of its own.
NOT_DETAILS = {"serial", "model", "prev", "second_person", "decision"}


class Command(MusterCommand):
    help = "Show every custody event of one item, oldest first (who, when, what, confirmed by)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("serial", metavar="SERIAL")
        parser.add_argument("--model", help="model code, where two models share a serial number")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def run(self, *args: Any, **options: Any) -> None:
        item = item_by_serial(options["serial"], options["model"])
        events = item_history(item)
        if options["json"]:
            document = {
                "item": {"model": item.model.code, "serial": item.serial, "place": item.place},
                "events": [_as_dict(e) for e in events],
            }
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        console = self.console(180)
        console.print(f"[bold]{describe(item)}[/bold] — now {_now(item)}")
        table = Table()
        for column in ("seq", "time", "actor", "event", "details", "second person"):
            table.add_column(column, justify="right" if column == "seq" else "left")
        for event in events:
            table.add_row(
                str(event.seq),
                when(event.at),
                event.actor,
                event.kind,
                _details(event.data),
                str(event.data.get("second_person", "")),
            )
        console.print(table)


def _now(item: Item) -> str:
    if item.place == "person" and item.holder is not None:
        return f"issued to {item.holder.national_id}, home site {item.home_site.code}"
    if item.place == "site" and item.site is not None:
        return f"at {item.site.code} ({item.condition})"
    return f"{PLACE_WORDS.get(item.place, item.place)}, home site {item.home_site.code}"


def _details(data: dict[str, Any]) -> str:
    return ", ".join(
        f"{key}={value}"
        for key, value in data.items()
        if key not in NOT_DETAILS and value not in (None, "", False, [], {})
    )


def _as_dict(event: HistoryEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "kind": event.kind,
        "second_person": event.data.get("second_person"),
        "data": event.data,
    }
