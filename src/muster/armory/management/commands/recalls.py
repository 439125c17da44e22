"""muster recalls: items that must come back now (overdue, or the holder may no longer hold them)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from rich.table import Table

from muster.armory.management.base import when
from muster.armory.selectors import recalls
from muster.core.management.base import MusterCommand


class Command(MusterCommand):
    help = "List items to recall: overdue checkouts and holders no longer eligible, with reasons."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def run(self, *args: Any, **options: Any) -> None:
        found = recalls()
        if options["json"]:
            document = [
                {
                    "holder": r.item.holder.national_id if r.item.holder else None,
                    "unit": r.item.holder.unit.code if r.item.holder else None,
                    "model": r.item.model.code,
                    "serial": r.item.serial,
                    "due_at": r.item.due_at.isoformat() if r.item.due_at else None,
                    "reasons": list(r.reasons),
                }
                for r in found
            ]
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        console = self.console(180)
        if not found:
            console.print("nothing to recall")
            return
        table = Table(title=f"{len(found)} item(s) to recall", show_lines=True)
        for column in ("holder", "unit", "item", "due", "reasons (rule: finding)"):
            table.add_column(column)
        for recall in found:
            holder = recall.item.holder
            table.add_row(
                f"{holder.full_name} ({holder.national_id})" if holder else "",
                holder.unit.code if holder else "",
                f"{recall.item.model.code} {recall.item.serial}",
                when(recall.item.due_at) if recall.item.due_at else "",
                "\n".join(recall.reasons),
            )
        console.print(table)
