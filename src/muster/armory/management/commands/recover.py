"""muster recover SERIAL --site S --note TEXT: a lost, stolen or missing item is found."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.armory.management.base import ArmoryCommand, describe
from muster.armory.selectors import items_by_serials, site_by_code
from muster.armory.services.movements import recover_item


class Command(ArmoryCommand):
    help = "Bring a lost, stolen or missing-in-transit item into a site, awaiting inspection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("serial", metavar="SERIAL")
        parser.add_argument("--site", required=True, help="the site it is brought into")
        parser.add_argument("--note", required=True, help="where and how it was found")
        self.add_model_argument(parser)
        self.add_actor_arguments(parser)

    def run(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        site = site_by_code(options["site"])
        (item,) = items_by_serials([options["serial"]], options["model"])
        item = recover_item(actor=actor, item_id=item.pk, site=site, note=options["note"])
        self.stdout.write(f"recovered {describe(item)} into {site.code}, {item.condition}")
