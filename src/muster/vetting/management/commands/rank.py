"""muster rank --category firearm: eligible volunteers by experience score, explained."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from rich.table import Table

from muster.core.management.base import MusterCommand
from muster.core.management.dates import iso_date
from muster.people.models import Person
from muster.people.selectors import people_in_subtree, unit_by_code
from muster.vetting.selectors import ranked_eligible


class Command(MusterCommand):
    help = "List volunteers eligible for a category, best experience score first, with its parts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--category", required=True, help="equipment category, e.g. firearm")
        parser.add_argument("--region", help="unit code of a region (or any unit): only its people")
        parser.add_argument("--limit", type=int, default=None, help="show only the first N")
        parser.add_argument("--at", type=iso_date, help="evaluate on this date (default: today)")

    def run(self, *args: Any, **options: Any) -> None:
        moment = options["at"] or timezone.localdate()
        people = Person.objects.all()
        if options["region"]:
            people = people_in_subtree(unit_by_code(options["region"]))
        ranked = ranked_eligible(category=options["category"], moment=moment, people=people)
        limit = options["limit"]
        shown = ranked[:limit] if limit else ranked
        console = self.console(160)
        table = Table(
            title=f"{options['category']}: {len(ranked)} eligible on {moment.isoformat()}"
        )
        for column in (
            "rank",
            "national id",
            "name",
            "unit",
            "eligible for",
            "score",
            "components",
        ):
            table.add_column(column, justify="right" if column in {"rank", "score"} else "left")
        for position, item in enumerate(shown, start=1):
            table.add_row(
                str(position),
                item.person.national_id,
                item.person.name,
                item.person.unit_code,
                ", ".join(d.target for d in item.decisions),
                str(item.score.total),
                "; ".join(f"{c.name} {c.explanation}" for c in item.score.components),
            )
        console.print(table)
        if limit and len(ranked) > limit:
            console.print(f"… {len(ranked) - limit} more eligible below the limit of {limit}")
