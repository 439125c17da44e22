"""muster holdings PERSON: what a volunteer holds now (their hand receipt)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from rich.table import Table

from muster.armory.management.base import when
from muster.armory.selectors import holdings_of
from muster.core.management.base import MusterCommand
from muster.people.selectors import person_by_national_id


class Command(MusterCommand):
    help = "Show what a volunteer holds now: items with how and until when, and rounds by lot."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person", help="the volunteer's national identifier")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def run(self, *args: Any, **options: Any) -> None:
        person = person_by_national_id(options["person"])
        held = holdings_of(person)
        now = timezone.now()
        if options["json"]:
            document = {
                "person": person.national_id,
                "items": [
                    {
                        "category": i.model.category.code,
                        "model": i.model.code,
                        "serial": i.serial,
                        "kind": i.issue_kind,
                        "issued_at": i.issued_at.isoformat() if i.issued_at else None,
                        "due_at": i.due_at.isoformat() if i.due_at else None,
                        "overdue": bool(i.due_at and i.due_at < now),
                        "emergency": i.emergency,
                        "home_site": i.home_site.code,
                    }
                    for i in held.items
                ],
                "lots": [
                    {"model": b.lot.model.code, "lot": b.lot.lot_number, "quantity": b.quantity}
                    for b in held.lots
                ],
            }
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        console = self.console(160)
        console.print(f"[bold]{person.full_name}[/bold] ({person.national_id}), {person.unit.code}")
        if not held.items and not held.lots:
            console.print("holds nothing")
            return
        if held.items:
            table = Table(title=f"{len(held.items)} item(s)")
            for column in ("category", "model", "serial", "kind", "issued", "due", "home site"):
                table.add_column(column)
            for item in held.items:
                overdue = item.due_at is not None and item.due_at < now
                due = when(item.due_at) if item.due_at else ""
                table.add_row(
                    item.model.category.code,
                    item.model.code,
                    item.serial,
                    item.issue_kind + (" (emergency)" if item.emergency else ""),
                    when(item.issued_at),
                    f"[red]{due} OVERDUE[/red]" if overdue else due,
                    item.home_site.code,
                )
            console.print(table)
        if held.lots:
            table = Table(title="rounds by lot")
            for column in ("model", "lot", "quantity"):
                table.add_column(column, justify="right" if column == "quantity" else "left")
            for balance in held.lots:
                table.add_row(
                    balance.lot.model.code, balance.lot.lot_number, f"{balance.quantity:,}"
                )
            console.print(table)
