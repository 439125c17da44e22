"""muster maintenance send|receive: items out to a maintenance provider and back."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.armory.choices import Condition
from muster.armory.management.base import ArmoryCommand, describe
from muster.armory.selectors import items_by_serials, site_by_code
from muster.armory.services.movements import receive_from_maintenance, send_to_maintenance


class Command(ArmoryCommand):
    help = "Send items from a site to maintenance, and receive them back into a site."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        send = sub.add_parser("send", help="hand items at a site to a maintenance provider")
        send.add_argument("serials", nargs="+", metavar="SERIAL")
        send.add_argument("--provider", required=True, help="who maintains them")
        send.add_argument("--reason", required=True, help="what is wrong, or what is due")
        receive = sub.add_parser("receive", help="take items back from maintenance into a site")
        receive.add_argument("serials", nargs="+", metavar="SERIAL")
        receive.add_argument("--site", required=True)
        receive.add_argument(
            "--condition", choices=Condition.values, default=Condition.SERVICEABLE.value
        )
        for action in (send, receive):
            self.add_model_argument(action)
            self.add_actor_arguments(action)

    def run(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        items = items_by_serials(options["serials"], options["model"])
        ids = [i.pk for i in items]
        if options["action"] == "send":
            moved = send_to_maintenance(
                actor=actor, item_ids=ids, provider=options["provider"], reason=options["reason"]
            )
            self.stdout.write(f"sent to maintenance by {options['provider']}:")
        else:
            site = site_by_code(options["site"])
            moved = receive_from_maintenance(
                actor=actor, item_ids=ids, site=site, condition=options["condition"]
            )
            self.stdout.write(f"back from maintenance into {site.code}:")
        for item in moved:
            self.stdout.write(f"  {describe(item)}  {item.condition}")
