"""Importing a shipment of serialized items from a CSV/XLSX packing list into one site.

One row per item: model code and serial number, a registration plate for vehicles, and the
condition it arrived in (serviceable when empty). Rows are checked in chunks by the shared
import driver (muster.core.importing); the good rows are then received by `receive_items` in
one call, so the whole shipment is one transaction and one journal batch, or nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from muster.armory.choices import Condition, Tracking
from muster.armory.models import EquipmentModel, Item, Shipment, Site
from muster.armory.services.catalogue import NewItem, receive_items, storage_problems
from muster.core.actors import Actor
from muster.core.errors import Problem
from muster.core.importing import Counts, ProgressSink, Rejection, RowProblem, parse_cells
from muster.core.labels import labels_in_every_language
from muster.core.tabular import (
    Cell,
    CellError,
    ChoiceCell,
    Column,
    Header,
    Row,
    TextCell,
    cell_text,
)

ITEM_COLUMNS = (
    Column("model", required=True, aliases=("model_code", "equipment_model")),
    Column("serial", required=True, aliases=("serial_number", "serial_no", "sn")),
    Column(
        "registration",
        aliases=("registration_number", "plate", "number_plate", "licence_plate", "reg_no"),
    ),
    Column("condition", aliases=("state",)),
)
QUERY_CHUNK = 2000


class ItemsImport:
    """Checks packing-list rows against the catalogue and the items already registered, and
    plans one receipt of every good row into `site` against the shipment `reference`."""

    kind: str = "items"
    columns: tuple[Column, ...] = ITEM_COLUMNS

    def __init__(self, *, site: Site, reference: str) -> None:
        self.site = site
        self.reference = reference
        self.models = {m.code: m for m in EquipmentModel.objects.select_related("category")}
        folded: dict[str, list[EquipmentModel]] = {}
        for model in self.models.values():
            folded.setdefault(model.code.casefold(), []).append(model)
        self.folded = {code: found[0] for code, found in folded.items() if len(found) == 1}
        self.first_line: dict[tuple[str, str], int] = {}
        self.first_registration: dict[str, int] = {}
        self.planned: list[NewItem] = []
        self.parsers: dict[str, Callable[[Cell], Any]] = {
            "model": self._model,
            "serial": TextCell(_max_length("serial")),
            "registration": TextCell(_max_length("registration")),
            "condition": ChoiceCell(labels_in_every_language(Condition)),
        }

    def counts(self) -> Counts:
        return Counts(len(self.planned), 0, 0)

    # Checking --------------------------------------------------------------------------------

    def check(self, rows: Sequence[Row], header: Header) -> list[Rejection]:
        parsed = [(row, *self._parse(row, header)) for row in rows]
        taken = _taken_serials([v for _, v, _ in parsed if "model" in v and "serial" in v])
        plates = _taken_registrations(
            [v["registration"] for _, v, _ in parsed if v.get("registration")]
        )
        rejections = []
        for row, values, problems in parsed:
            model: EquipmentModel | None = values.get("model")
            serial: str | None = values.get("serial")
            registration: str = values.get("registration", "")
            if model is not None and serial is not None:
                problems.extend(self._repeated(row, model, serial))
                if (model.pk, serial) in taken:
                    where = taken[(model.pk, serial)]
                    problems.append(
                        RowProblem(row.line, "serial", serial, f"is already registered ({where})")
                    )
            if registration:
                problems.extend(self._repeated_registration(row, registration))
                if registration in plates:
                    rule = f"is already registered to {plates[registration]}"
                    problems.append(RowProblem(row.line, "registration", registration, rule))
            if problems:
                rejections.append(Rejection(row, tuple(problems)))
                continue
            assert model is not None and serial is not None
            self.planned.append(
                NewItem(
                    model_code=model.code,
                    serial=serial,
                    registration=registration,
                    condition=values.get("condition", Condition.SERVICEABLE.value),
                    record=f"line {row.line}",
                )
            )
        return rejections

    def _parse(self, row: Row, header: Header) -> tuple[dict[str, Any], list[RowProblem]]:
        return parse_cells(row, header, self.parsers, ("model", "serial"))

    def _model(self, cell: Cell) -> EquipmentModel:
        code = cell_text(cell)
        model = self.models.get(code) or self.folded.get(code.casefold())
        if model is None:
            raise CellError("no model in the catalogue has this code (muster catalogue show)")
        if model.category.tracking != Tracking.SERIALIZED:
            raise CellError(
                f"{model.category.code} is counted by lot, not by serial (muster items receive-lot)"
            )
        return model

    def _repeated(self, row: Row, model: EquipmentModel, serial: str) -> list[RowProblem]:
        first = self.first_line.setdefault((model.code, serial), row.line)
        if first == row.line:
            return []
        rule = f"appears again in this file for {model.code} (first on line {first})"
        return [RowProblem(row.line, "serial", serial, rule)]

    def _repeated_registration(self, row: Row, registration: str) -> list[RowProblem]:
        first = self.first_registration.setdefault(registration, row.line)
        if first == row.line:
            return []
        rule = f"appears again in this file (first on line {first})"
        return [RowProblem(row.line, "registration", registration, rule)]

    def shipment_problems(self) -> list[Problem]:
        """What would refuse the whole shipment rather than a row: the reference already
        received, or the site unable to store what is planned (checked again on receipt)."""
        record = f"shipment {self.reference}"
        problems = []
        if Shipment.objects.filter(site=self.site, reference=self.reference).exists():
            rule = f"was already received at {self.site.code}"
            problems.append(Problem(record, "reference", rule, self.reference))
        adding = Counter(self.models[n.model_code].category.code for n in self.planned)
        problems.extend(storage_problems(self.site, adding, record))
        return problems

    # Writing ---------------------------------------------------------------------------------

    def apply(self, *, actor: Actor, progress: ProgressSink | None) -> list[Rejection]:
        """Receive every planned item in one call of the service (one shipment, one transaction)."""
        if not self.planned:
            return []
        if progress:
            progress.start("receiving", len(self.planned))
        receive_items(actor=actor, site=self.site, reference=self.reference, items=self.planned)
        if progress:
            progress.advance(len(self.planned))
        return []


def _max_length(name: str) -> int | None:
    return getattr(Item._meta.get_field(name), "max_length", None)


def _taken_serials(values: list[dict[str, Any]]) -> dict[tuple[int, str], str]:
    """(model id, serial) of the rows that are registered already, with where the item is."""
    by_model: dict[int, list[str]] = {}
    for value in values:
        by_model.setdefault(value["model"].pk, []).append(value["serial"])
    taken: dict[tuple[int, str], str] = {}
    for model_id, serials in by_model.items():
        for start in range(0, len(serials), QUERY_CHUNK):
            found = Item.objects.filter(
                model_id=model_id, serial__in=serials[start : start + QUERY_CHUNK]
            ).values_list("serial", "place", "site__code")
            for serial, place, site in found:
                taken[(model_id, serial)] = f"{place} {site}" if site else place
    return taken


def _taken_registrations(plates: list[str]) -> dict[str, str]:
    taken: dict[str, str] = {}
    for start in range(0, len(plates), QUERY_CHUNK):
        found = Item.objects.filter(registration__in=plates[start : start + QUERY_CHUNK])
        for plate, model, serial in found.values_list("registration", "model__code", "serial"):
            taken[plate] = f"item {model} {serial}"
    return taken
