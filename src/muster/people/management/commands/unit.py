"""muster unit create|list: the tree of regions, battalions, companies and platoons."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Count

from muster.core.management.base import MusterCommand
from muster.people.choices import UnitKind
from muster.people.models import Unit
from muster.people.selectors import unit_by_code, units_in_subtree
from muster.people.services import create_unit


class Command(MusterCommand):
    help = "Create units and show the unit tree."

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_actor_arguments(parser)
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="add a unit under a parent (a region has none)")
        create.add_argument("code", help="short unique code, e.g. R01-B3")
        create.add_argument("name", help='e.g. "3rd Battalion"')
        create.add_argument("--kind", required=True, choices=UnitKind.values)
        create.add_argument("--parent", help="parent unit code (not for regions)")
        create.add_argument("--jurisdiction", default="", help="policy jurisdiction (regions)")
        tree = sub.add_parser("list", help="the unit tree with head counts")
        tree.add_argument("--under", help="only this unit's subtree")

    def run(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            parent = unit_by_code(options["parent"]) if options["parent"] else None
            unit = create_unit(
                actor=self.actor(options),
                code=options["code"],
                name=options["name"],
                kind=options["kind"],
                parent=parent,
                jurisdiction=options["jurisdiction"],
            )
            self.stdout.write(f"created {unit.kind} {unit.code} ({unit.name})")
            return
        units = (
            units_in_subtree(unit_by_code(options["under"])) if options["under"] else Unit.objects
        )
        rows = units.annotate(members=Count("people")).order_by("path")
        for unit in rows:
            depth = unit.path.count("/") - 2
            self.stdout.write(
                f"{'  ' * depth}{unit.code:<20} {unit.kind:<10} {unit.members:>6}  {unit.name}"
            )
