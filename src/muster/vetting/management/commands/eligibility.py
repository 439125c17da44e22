"""muster eligibility PERSON: what this person may be issued now, and why."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from rich.table import Table

from muster.core.management.base import MusterCommand
from muster.core.management.dates import iso_date
from muster.people.selectors import person_by_national_id
from muster.vetting.selectors import eligibility_of


class Command(MusterCommand):
    help = "Show, for each equipment category, whether a person may be issued it and why."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person", help="the volunteer's national identifier")
        parser.add_argument("--category", help="one equipment category (default: all)")
        parser.add_argument("--at", type=iso_date, help="evaluate on this date (default: today)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def run(self, *args: Any, **options: Any) -> None:
        person = person_by_national_id(options["person"])
        moment = options["at"] or timezone.localdate()
        decisions = eligibility_of(person, moment, options["category"])
        if options["json"]:
            self.stdout.write(
                json.dumps([_as_dict(d) for d in decisions], indent=2, ensure_ascii=False)
            )
            return
        console = self.console(120)
        policy = decisions[0].policy if decisions else "—"
        console.print(
            f"[bold]{person.full_name}[/bold] ({person.national_id}), {person.unit.code}, "
            f"status {person.status} — policy {policy}, on {moment.isoformat()}"
        )
        table = Table(show_lines=True)
        table.add_column("category")
        table.add_column("decision")
        table.add_column("reasons (rule: finding)")
        for decision in decisions:
            verdict = "[green]ELIGIBLE[/green]" if decision.allowed else "[red]NOT ELIGIBLE[/red]"
            reasons = "\n".join(
                f"{'✓' if r.ok else '✗'} {r.rule}: {r.message}" for r in decision.reasons
            )
            table.add_row(decision.target, verdict, reasons)
        console.print(table)


def _as_dict(decision: Any) -> dict[str, Any]:
    return {
        "target": decision.target,
        "allowed": decision.allowed,
        "policy": decision.policy,
        "moment": decision.moment.isoformat(),
        "reasons": [
            {"rule": r.rule, "ok": r.ok, "code": r.code, "message": r.message}
            for r in decision.reasons
        ],
    }
