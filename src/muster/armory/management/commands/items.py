"""muster items import|receive-lot|list: receiving shipments into a site, and what is where."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from rich.table import Table

from muster.armory.choices import Place
from muster.armory.importing import ItemsImport
from muster.armory.management.base import ArmoryCommand, when
from muster.armory.models import Item
from muster.armory.selectors import site_by_code
from muster.armory.services.ammunition import receive_lot
from muster.core.errors import CustodyError
from muster.core.management.importing import (
    add_import_arguments,
    import_mode,
    rejected_rows_line,
    run_import_command,
)


class Command(ArmoryCommand):
    help = "Receive items into a site from a packing list or by lot, and list items."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = sub.add_parser(
            "import",
            help="receive serialized items from a CSV/XLSX file (model, serial, registration, "
            "condition), all or nothing",
        )
        add_import_arguments(load, what="receive")
        load.add_argument("--site", required=True, help="the site receiving the shipment")
        load.add_argument("--reference", required=True, help="the shipment's reference")
        self.add_actor_arguments(load)
        lot = sub.add_parser("receive-lot", help="receive a quantity of a lot (ammunition)")
        lot.add_argument("--site", required=True)
        lot.add_argument("--model", required=True, help="model code, e.g. AMM-556")
        lot.add_argument("--lot", required=True, help="the lot number")
        lot.add_argument("--quantity", required=True, type=int)
        lot.add_argument("--reference", required=True, help="the shipment's reference")
        self.add_actor_arguments(lot)
        listing = sub.add_parser("list", help="items and where they are")
        listing.add_argument("--site", help="only items at (or in transit from) this site")
        listing.add_argument("--category", help="only this category, e.g. firearm")
        listing.add_argument("--place", choices=Place.values, help="only items in this place")
        listing.add_argument("--limit", type=int, default=500, help="show at most N (500)")

    def run(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _import(self, options: dict[str, Any]) -> None:
        mode, rejects = import_mode(options)
        actor = None if mode.dry_run else self.actor(options)
        importer = ItemsImport(site=site_by_code(options["site"]), reference=options["reference"])
        report = run_import_command(
            self, importer, path=options["file"], mode=mode, actor=actor, rejects=rejects,
            label="items",
            written="received",
        )  # fmt: skip
        if mode.dry_run and (problems := importer.shipment_problems()):
            raise CustodyError(problems)
        where = f"into {importer.site.code} against {importer.reference}"
        self.stdout.write(f"{report.summary()} — {where}")
        if line := rejected_rows_line(rejects, report):
            self.stdout.write(line)

    def _receive_lot(self, options: dict[str, Any]) -> None:
        site = site_by_code(options["site"])
        lot = receive_lot(
            actor=self.actor(options),
            site=site,
            model_code=options["model"],
            lot_number=options["lot"],
            quantity=options["quantity"],
            reference=options["reference"],
        )
        self.stdout.write(
            f"received {options['quantity']:,} of lot {lot.lot_number} ({lot.model.code}) "
            f"into {site.code}; {lot.received_total:,} received in all"
        )

    def _list(self, options: dict[str, Any]) -> None:
        items = Item.objects.select_related("model__category", "site", "holder", "transit_to")
        if options["site"]:
            items = items.filter(site=site_by_code(options["site"]))
        if options["category"]:
            items = items.filter(model__category__code=options["category"])
        if options["place"]:
            items = items.filter(place=options["place"])
        limit = max(options["limit"], 0)
        shown = list(items.order_by("model__code", "serial")[: limit + 1])
        table = Table()
        for column in ("serial", "model", "category", "place", "where", "condition", "due"):
            table.add_column(column)
        for item in shown[:limit]:
            table.add_row(
                item.serial,
                item.model.code,
                item.model.category.code,
                item.place,
                _where(item),
                item.condition,
                when(item.due_at) if item.due_at else "",
            )
        console = self.console(160)
        console.print(table)
        if len(shown) > limit:
            console.print(f"… more than {limit} items; narrow with --site, --category, --place")


def _where(item: Item) -> str:
    if item.place == Place.PERSON and item.holder is not None:
        return item.holder.national_id
    if item.place == Place.IN_TRANSIT and item.site and item.transit_to:
        return f"{item.site.code} → {item.transit_to.code}"
    return item.site.code if item.site else ""
