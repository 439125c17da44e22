"""muster dispose SERIAL --reason TEXT --second USER: dispose of an item for good."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.armory.management.base import ArmoryCommand, describe
from muster.armory.selectors import items_by_serials
from muster.armory.services.movements import dispose_item


class Command(ArmoryCommand):
    help = "Dispose of an item (destroyed, decommissioned); a second person confirms."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("serial", metavar="SERIAL")
        parser.add_argument("--reason", required=True, help="e.g. destroyed, certificate 2026/14")
        self.add_second_argument(parser, required=True)
        self.add_model_argument(parser)
        self.add_actor_arguments(parser)

    def run(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        second = self.second(options)
        (item,) = items_by_serials([options["serial"]], options["model"])
        item = dispose_item(actor=actor, second=second, item_id=item.pk, reason=options["reason"])
        self.stdout.write(
            f"disposed of {describe(item)} ({options['reason']}), confirmed by {second}; "
            "its record and history stay"
        )
