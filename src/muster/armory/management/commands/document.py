"""muster document KIND …: the printable documents and table exports (R12), written to a file.

Like `muster history` and `muster holdings`, it only reads and acts as no user: whoever runs it
on the host reads everything. The web pages and the API narrow the same functions to a scope.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Q

from muster.armory import documents
from muster.armory.count_selectors import count_by_id
from muster.armory.models import Item, Site, Variance
from muster.armory.selectors import item_by_serial, site_by_code
from muster.core.errors import NotFound
from muster.core.management.base import MusterCommand
from muster.documents.tables import FORMATS, write_table
from muster.people.documents import readiness_pdf, roster_table
from muster.people.models import Person, Unit
from muster.people.selectors import people_in_subtree, unit_by_code, units_in_subtree


class Command(MusterCommand):
    help = (
        "Write a document: item-history, count-sheet, variance-report, readiness or labels as "
        "PDF, or a table (roster, items, holdings, variances) as CSV or XLSX."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        history = kinds.add_parser("item-history", help="an item's custody history with its proof")
        history.add_argument("serial", metavar="SERIAL")
        history.add_argument("--model", metavar="M", help="model code, where two share a serial")
        for name, text in [
            ("count-sheet", "the sheet of a count (no expected list when blind)"),
            ("variance-report", "the variances of a closed count, each with its resolution"),
        ]:
            sub = kinds.add_parser(name, help=text)
            sub.add_argument("count_id", type=int, metavar="COUNT_ID")
        ready = kinds.add_parser("readiness", help="members, vetted, eligible, armed by battalion")
        ready.add_argument("--unit", metavar="CODE", help="one unit's subtree (default: all)")
        labels = kinds.add_parser("labels", help="QR label sheets for a site's items or for sites")
        labels.add_argument("--site", metavar="CODE", help="the items whose home site this is")
        labels.add_argument("--category", metavar="C", help="only items of this category")
        labels.add_argument("--sites", action="store_true", help="labels for the sites instead")
        table = kinds.add_parser("table", help="a table as CSV (UTF-8) or XLSX")
        table.add_argument("table", choices=["roster", "items", "holdings", "variances"])
        table.add_argument("--unit", metavar="CODE", help="roster: one unit's subtree")
        table.add_argument("--site", metavar="CODE", help="items/holdings/variances: one site")
        table.add_argument("--format", choices=FORMATS, default="csv")
        for sub in kinds.choices.values():
            sub.add_argument("--out", type=Path, metavar="FILE", help="where to write it")

    def run(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        if kind == "table":
            self._table(options)
            return
        data, default, what = self._pdf(kind, options)
        path: Path = options["out"] or Path(default)
        path.write_bytes(data)
        self.stdout.write(f"wrote {path}: {what}")

    def _pdf(self, kind: str, options: dict[str, Any]) -> tuple[bytes, str, str]:
        if kind == "item-history":
            item = item_by_serial(options["serial"], options["model"])
            name = f"{item.model.code} {item.serial}"
            return documents.item_history_pdf(item), f"history-{item.serial}.pdf", name
        if kind in ("count-sheet", "variance-report"):
            count = count_by_id(options["count_id"])
            make = (
                documents.count_sheet_pdf
                if kind == "count-sheet"
                else documents.variance_report_pdf
            )
            return make(count), f"{kind}-{count.pk}.pdf", f"{kind} of count {count.pk}"
        if kind == "readiness":
            units, people = Unit.objects.all(), Person.objects.all()
            items, title = Item.objects.all(), "whole force"
            if options["unit"]:
                unit = unit_by_code(options["unit"])
                units, people = units_in_subtree(unit), people_in_subtree(unit)
                items = items.filter(holder__unit__path__startswith=unit.path)
                title = f"{unit.code} {unit.name}"
            pdf = readiness_pdf(units, people, items, title=title)
            return pdf, "readiness.pdf", f"readiness report, {title}"
        things: list[Item | Site]
        if options["sites"]:
            sites = Site.objects.select_related("unit").order_by("code")
            if options["site"]:
                sites = sites.filter(code=site_by_code(options["site"]).code)
            things = list(sites)
        else:
            if not options["site"]:
                raise NotFound.single("labels", "site", "name the site (--site) or ask --sites")
            site = site_by_code(options["site"])
            found = Item.objects.filter(home_site=site).exclude(place="disposed")
            if options["category"]:
                found = found.filter(model__category__code=options["category"])
            things = list(found.select_related("model").order_by("model__code", "serial"))
        labels_of = "sites" if options["sites"] else f"items of {options['site']}"
        return documents.labels_pdf(things), "labels.pdf", f"{len(things)} label(s), {labels_of}"

    def _table(self, options: dict[str, Any]) -> None:
        name, fmt = options["table"], options["format"]
        if name == "roster":
            people = Person.objects.all()
            if options["unit"]:
                people = people_in_subtree(unit_by_code(options["unit"]))
            table = roster_table(people)
        elif name == "variances":
            variances = Variance.objects.all()
            if options["site"]:
                variances = variances.filter(count__site=site_by_code(options["site"]))
            table = documents.variances_table(variances)
        else:
            items = Item.objects.all()
            if options["site"]:
                site = site_by_code(options["site"])
                items = items.filter(Q(home_site=site) | Q(site=site))
            table = (documents.items_table if name == "items" else documents.holdings_table)(items)
        path: Path = options["out"] or Path(f"{name}.{fmt}")
        with path.open("wb") as out:
            write_table(table.columns, table.rows, fmt, out)
        self.stdout.write(f"wrote {path}: {name} as {fmt}")
