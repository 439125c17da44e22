"""muster site create|list: storage sites with certified security, capacity and custodians (R8)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Count, Q
from rich.table import Table

from muster.accounts.selectors import users_by_username
from muster.armory.models import Site
from muster.armory.services.catalogue import create_site
from muster.core.management.base import MusterCommand
from muster.core.management.dates import iso_date
from muster.people.selectors import unit_by_code


def capacity(text: str) -> tuple[str, int]:
    """argparse type: CATEGORY=N."""
    category, _, number = text.partition("=")
    if not category or not number.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not like firearm=50")
    return category.strip(), int(number)


class Command(MusterCommand):
    help = "Create storage sites and list them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="a storage site with its certified security level")
        create.add_argument("code", help="short unique code, e.g. ARM-R1-B3")
        create.add_argument("name", help='e.g. "3rd Battalion arms room"')
        create.add_argument("--unit", required=True, help="the unit the site belongs to")
        create.add_argument(
            "--security",
            required=True,
            metavar="LEVEL",
            help="certified security level, one of the policy's security_levels (e.g. vault)",
        )
        create.add_argument(
            "--certified-on", required=True, type=iso_date, help="date of the certification"
        )
        create.add_argument("--expires", type=iso_date, help="date the certification lapses")
        create.add_argument("--address", default="")
        create.add_argument(
            "--capacity",
            type=capacity,
            nargs="+",
            action="extend",
            default=[],
            metavar="CATEGORY=N",
            help="most items of a category the site may hold, e.g. firearm=50",
        )
        create.add_argument(
            "--custodian",
            nargs="+",
            action="extend",
            default=[],
            metavar="USER",
            help="custodians of the site",
        )
        self.add_actor_arguments(create)
        listing = sub.add_parser("list", help="every site with what it holds")
        listing.add_argument("--unit", help="only sites of this unit")

    def run(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            capacities = dict(options["capacity"])
            if len(capacities) != len(options["capacity"]):
                self.stderr.write("warning: a category given twice in --capacity; the last counts")
            site = create_site(
                actor=self.actor(options),
                code=options["code"],
                name=options["name"],
                unit=unit_by_code(options["unit"]),
                security_level=options["security"],
                certified_on=options["certified_on"],
                certification_expires=options["expires"],
                address=options["address"],
                capacities=capacities,
                custodians=users_by_username(options["custodian"]),
            )
            self.stdout.write(
                f"created site {site.code} ({site.name}) at {site.unit.code}, "
                f"certified {site.security_level} on {site.certified_on}"
            )
            return
        sites = Site.objects.select_related("unit").annotate(
            held=Count("items", filter=Q(items__place="site"))
        )
        if options["unit"]:
            sites = sites.filter(unit=unit_by_code(options["unit"]))
        table = Table()
        for column in ("site", "name", "unit", "security", "certified", "expires", "items"):
            table.add_column(column, justify="right" if column == "items" else "left")
        table.add_column("capacity")
        table.add_column("custodians")
        for site in sites.order_by("code"):
            limits = ", ".join(
                f"{c.category.code}={c.max_items}"
                for c in site.capacities.select_related("category").order_by("category__code")
            )
            custodians = ", ".join(
                c.user.username for c in site.custodians.select_related("user").order_by("user")
            )
            table.add_row(
                site.code,
                site.name,
                site.unit.code,
                site.security_level,
                str(site.certified_on),
                str(site.certification_expires or "—"),
                f"{site.held:,}",
                limits or "—",
                custodians or "—",
            )
        self.console(180).print(table)
