"""muster return PERSON SERIAL…: take items back from the volunteer who holds them."""
# ruff: noqa: N999 — the command is `muster return`, so the module must be named return.

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.armory.choices import Condition
from muster.armory.management.base import ArmoryCommand, describe
from muster.armory.selectors import items_by_serials
from muster.armory.services.custody import Returned, return_items


class Command(ArmoryCommand):
    help = "Take items back from the volunteer who holds them, into their home site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person", help="the volunteer's national identifier")
        parser.add_argument("serials", nargs="+", metavar="SERIAL", help="items by serial number")
        self.add_model_argument(parser)
        parser.add_argument(
            "--condition",
            choices=Condition.values,
            default=Condition.SERVICEABLE.value,
            help="the condition they came back in (default serviceable)",
        )
        parser.add_argument("--note", default="", help="e.g. bent sling swivel")
        self.add_second_argument(parser)
        self.add_actor_arguments(parser)

    def run(self, *args: Any, **options: Any) -> None:
        actor, second, person = self.parties(options)
        items = items_by_serials(options["serials"], options["model"])
        returned = return_items(
            actor=actor,
            second=second,
            person=person,
            returns=[Returned(i.pk, options["condition"], options["note"]) for i in items],
        )
        confirmed = f", confirmed by {second}" if second else ""
        self.stdout.write(
            f"returned by {person.national_id} ({person.full_name}), taken by {actor}{confirmed}:"
        )
        for item in returned:
            self.stdout.write(f"  {describe(item)}  → {item.home_site.code}, {item.condition}")
