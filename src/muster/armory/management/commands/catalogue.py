"""muster catalogue load|show: equipment categories and models (R4), from a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from rich.table import Table

from muster.armory.catalogue_file import load_catalogue
from muster.armory.models import Category, EquipmentModel
from muster.core.errors import CatalogueError
from muster.core.management.base import MusterCommand


class Command(MusterCommand):
    help = "Load the equipment catalogue from a YAML file, or show it."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = sub.add_parser(
            "load",
            help="define categories and register models from a YAML file (all or nothing)",
        )
        load.add_argument("file", type=Path, help="e.g. src/muster/armory/examples/catalogue.yaml")
        self.add_actor_arguments(load)
        show = sub.add_parser("show", help="the categories and models in the catalogue")
        show.add_argument("--category", help="only this category")

    def run(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            path: Path = options["file"]
            text = _read(path)
            actor = self.actor(options)
            loaded = load_catalogue(actor=actor, text=text, source=path.name)
            self.stdout.write(f"{path.name}: {loaded.summary()}")
            return
        categories = Category.objects.order_by("code")
        if options["category"]:
            categories = categories.filter(code=options["category"])
        models: dict[int, list[EquipmentModel]] = {}
        for model in EquipmentModel.objects.filter(category__in=categories).order_by("code"):
            models.setdefault(model.category_id, []).append(model)
        console = self.console(160)
        for category in categories:
            table = Table(title=f"{category.code} — {category.name} ({category.tracking})")
            for column in ("model", "name", "manufacturer", "legal class", "class", "attributes"):
                table.add_column(column)
            for model in models.get(category.pk, []):
                table.add_row(
                    model.code,
                    model.name,
                    model.manufacturer,
                    model.legal_class,
                    model.weapon_class,
                    ", ".join(f"{k}={v}" for k, v in sorted(model.attributes.items())),
                )
            console.print(table)
        if not categories:
            self.stdout.write("the catalogue is empty (muster catalogue load FILE)")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError.single(str(path), "file", "does not exist") from None
    except UnicodeDecodeError as error:
        raise CatalogueError.single(
            str(path), "file", f"is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
