"""muster lost SERIAL… --summary TEXT: report items lost (or, with --stolen, stolen)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.armory.management.base import ArmoryCommand, describe
from muster.armory.selectors import items_by_serials
from muster.armory.services.movements import report_missing


class Command(ArmoryCommand):
    help = "Report items lost or stolen: they leave every stock figure and an incident is opened."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("serials", nargs="+", metavar="SERIAL")
        parser.add_argument("--stolen", action="store_true", help="stolen rather than lost")
        parser.add_argument("--summary", required=True, help="what happened, where and when")
        self.add_model_argument(parser)
        self.add_actor_arguments(parser)

    def run(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        items = items_by_serials(options["serials"], options["model"])
        incident = report_missing(
            actor=actor,
            item_ids=[i.pk for i in items],
            stolen=options["stolen"],
            summary=options["summary"],
        )
        self.stdout.write(f"incident {incident.pk} opened ({incident.kind}): {incident.summary}")
        for item in items:
            self.stdout.write(
                f"  {describe(item)}  now {'stolen' if options['stolen'] else 'lost'}"
            )
