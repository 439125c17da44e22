"""The armory's documents (R12): an item's custody history with the log's proof of it, count
sheets and variance reports, QR label sheets, and the armory's tables as CSV/XLSX.

Each PDF function returns the file's bytes; each table function takes a queryset the caller has
already narrowed to what the user may see (muster.access.scope) and returns a TableDocument.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.armory.count_selectors import CountSheet, count_by_id, count_sheet, variance_report
from muster.armory.models import InventoryCount, Item, Site, Variance
from muster.armory.proofs import verified_bundle
from muster.armory.rules import PLACE_WORDS
from muster.armory.selectors import HistoryEvent, item_history
from muster.documents.pdf import render_document
from muster.documents.qr import PrintedCode, qr_code
from muster.documents.tables import TableDocument

# Event data shown in columns of their own, or repeated in every event.
NOT_DETAILS = frozenset(
    {"serial", "model", "prev", "decision", "second_person"}
    | {"from_site", "from_person", "from_maintenance", "was", "holder", "site"}
    | {"to_site", "to_person", "to_maintenance"}
)


def whereabouts(item: Item) -> str:
    """Where an item is now, as a reader of the document needs it."""
    if item.place == "person" and item.holder is not None:
        return _("issued to %(name)s (%(id)s)") % {
            "name": item.holder.full_name,
            "id": item.holder.national_id,
        }
    if item.place == "site" and item.site is not None:
        return _("at site %(code)s, %(condition)s") % {
            "code": item.site.code,
            "condition": item.get_condition_display().lower(),
        }
    if item.place == "in_transit" and item.transit_to is not None:
        return _("in transit to %(code)s") % {"code": item.transit_to.code}
    return PLACE_WORDS.get(item.place, item.place)


# Item custody history -------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    event: HistoryEvent
    origin: str  # where the item was before the event ("" when the event does not move it)
    destination: str
    details: str
    second_person: str


@dataclass(frozen=True)
class ProofStatus:
    """What verifying the item's proof bundle with the log's public keys showed."""

    verified: bool
    problem: str  # why it did not verify ("" when it did)
    origin: str = ""
    size: int = 0
    root_base64: str = ""
    events: int = 0
    complete_through: int | None = None  # seq of the attesting chain-head entry
    attested_by: str = ""  # its kind: count.heads or log.heads


@dataclass(frozen=True)
class ItemHistoryDocument:
    item: Item
    whereabouts: str
    lines: list[HistoryLine]
    proof: ProofStatus
    produced_at: dt.datetime


def _movement(data: dict[str, Any]) -> tuple[str, str]:
    origin = (
        data.get("from_site")
        or data.get("from_person")
        or data.get("from_maintenance")
        or data.get("holder")
        or data.get("site")
        or data.get("was")
        or ""
    )
    destination = data.get("to_site") or data.get("to_person") or data.get("to_maintenance") or ""
    return str(origin), str(destination)


def _details(data: dict[str, Any]) -> str:
    return ", ".join(
        f"{key.replace('_', ' ')}: {value}"
        for key, value in data.items()
        if key not in NOT_DETAILS and value not in (None, "", False, [], {})
    )


def proof_status(item: Item) -> ProofStatus:
    """Build the item's proof bundle and verify it offline, as an auditor would, with the public
    key of every log shard; a bundle that fails says why instead of raising."""
    verified = verified_bundle(item)
    history = verified.history
    if history is None:
        events = verified.bundle.events if verified.bundle else 0
        return ProofStatus(verified=False, problem=verified.error, events=events)
    checkpoint = history.checkpoint
    attestation = history.attestation
    return ProofStatus(
        verified=True,
        problem="",
        origin=checkpoint.origin,
        size=checkpoint.size,
        root_base64=base64.b64encode(checkpoint.root_hash).decode(),
        events=len(history.events),
        complete_through=history.complete_through,
        attested_by=str(attestation["kind"]) if attestation else "",
    )


def item_history_document(item: Item) -> ItemHistoryDocument:
    """Every custody event of `item` from the journal, with the log's proof status."""
    lines = [
        HistoryLine(
            event,
            *_movement(event.data),
            details=_details(event.data),
            second_person=str(event.data.get("second_person") or ""),
        )
        for event in item_history(item)
    ]
    return ItemHistoryDocument(item, whereabouts(item), lines, proof_status(item), timezone.now())


def item_history_pdf(item: Item) -> bytes:
    """The custody history of one item as a PDF: the item, every event, the proof status."""
    document = item_history_document(item)
    return render_document("armory/item_history.html", {"doc": document, "item": item}).data


# Counts ---------------------------------------------------------------------------------------

BLANK_LINES = 40  # lines for a blind counter to write serials on, beyond those recorded


def count_sheet_pdf(count: InventoryCount) -> bytes:
    """The count sheet: what has been recorded so far and lines to write on; a blind count's
    sheet never shows what the record expects (count_sheet leaves it out)."""
    count = count_by_id(count.pk)  # as it is now, whatever the caller's copy says
    sheet: CountSheet = count_sheet(count)
    expected = sheet.expected_serials
    seen = set(sheet.serials)
    return render_document(
        "armory/count_sheet.html",
        {
            "count": count,
            "sheet": sheet,
            "expected": [(serial, serial in seen) for serial in expected] if expected else [],
            # Numbered on from what is recorded, so the written lines continue the list.
            "blank_lines": range(
                len(sheet.serials) + 1,
                len(sheet.serials) + 1 + max(BLANK_LINES - len(sheet.serials), 10),
            ),
            "produced_at": timezone.now(),
        },
    ).data


@dataclass(frozen=True)
class VarianceSummary:
    total: int
    open: int
    by_kind: list[tuple[str, int]]

    @property
    def resolved(self) -> int:
        return self.total - self.open


def variance_report_pdf(count: InventoryCount) -> bytes:
    """The variance report of a count: each variance with its resolution, and how many are open."""
    count = count_by_id(count.pk)  # as it is now: a copy from before closing says "open"
    variances = list(variance_report(count))
    kinds: dict[str, int] = {}
    for variance in variances:
        label = variance.get_kind_display()
        kinds[label] = kinds.get(label, 0) + 1
    summary = VarianceSummary(
        total=len(variances),
        open=sum(1 for v in variances if not v.resolution),
        by_kind=sorted(kinds.items()),
    )
    return render_document(
        "armory/variance_report.html",
        {
            "count": count,
            "variances": variances,
            "summary": summary,
            "produced_at": timezone.now(),
        },
    ).data


# Labels ---------------------------------------------------------------------------------------

LABEL_COLUMNS, LABEL_ROWS = 3, 8  # 70 × 37 mm labels, the common A4 sheet of 24
LABEL_QR_MM = 24.0  # the code's printed width: large enough for any phone at arm's length


@dataclass(frozen=True)
class Label:
    text: str  # exactly what the QR code holds
    title: str  # what is printed large
    subtitle: str
    note: str
    code: PrintedCode


def label_text(thing: Item | Site) -> str:
    """What an item's or a site's QR label encodes: `MODEL SERIAL`, or the site's code."""
    if isinstance(thing, Site):
        return thing.code
    return f"{thing.model.code} {thing.serial}"


def labels_of(things: Iterable[Item | Site]) -> list[Label]:
    labels = []
    for thing in things:
        text = label_text(thing)
        if isinstance(thing, Site):
            title, subtitle, note = thing.code, thing.name, thing.unit.code
            record = f"site {thing.code}"
        else:
            title, subtitle = thing.serial, thing.model.name
            note = thing.model.code + (f" · {thing.registration}" if thing.registration else "")
            record = f"item {text}"
        labels.append(Label(text, title, subtitle, note, qr_code(text, record=record)))
    return labels


def labels_pdf(things: Iterable[Item | Site]) -> bytes:
    """A4 sheets of 3 × 8 labels, one per item (or site), each a QR code of its identifier
    with the same text printed under it, and the model's (or site's) name."""
    labels = labels_of(things)
    per_page = LABEL_COLUMNS * LABEL_ROWS
    pages = [
        [page[row : row + LABEL_COLUMNS] for row in range(0, len(page), LABEL_COLUMNS)]
        for page in (labels[start : start + per_page] for start in range(0, len(labels), per_page))
    ]
    return render_document(
        "armory/labels.html",
        {"pages": pages, "columns": LABEL_COLUMNS, "qr_mm": LABEL_QR_MM, "count": len(labels)},
    ).data


# Tables ---------------------------------------------------------------------------------------


def _chunked(queryset: QuerySet[Any]) -> Iterator[Any]:
    return queryset.iterator(chunk_size=2000)


def items_table(items: QuerySet[Item]) -> TableDocument:
    """Every item of `items`: what it is, where it is, and since when it is out."""
    columns = [
        ("category", _("Category")),
        ("model", _("Model")),
        ("model_name", _("Model name")),
        ("serial", _("Serial")),
        ("registration", _("Registration")),
        ("place", _("Place")),
        ("site", _("Site")),
        ("holder", _("Holder")),
        ("home_site", _("Home site")),
        ("condition", _("Condition")),
        ("issued_at", _("Issued at")),
        ("due_at", _("Due at")),
    ]
    queryset = items.select_related(
        "model__category", "site", "holder", "home_site", "transit_to"
    ).order_by("model__category__code", "model__code", "serial")
    rows = (
        {
            "category": item.model.category.code,
            "model": item.model.code,
            "model_name": item.model.name,
            "serial": item.serial,
            "registration": item.registration,
            "place": item.place,
            "site": item.site.code if item.site else "",
            "holder": item.holder.national_id if item.holder else "",
            "home_site": item.home_site.code,
            "condition": item.condition,
            "issued_at": item.issued_at,
            "due_at": item.due_at,
        }
        for item in _chunked(queryset)
    )
    return TableDocument("items", columns, rows)


def holdings_table(items: QuerySet[Item]) -> TableDocument:
    """Who holds what now: every item of `items` issued to a person, by holder."""
    columns = [
        ("national_id", _("National ID")),
        ("holder", _("Holder")),
        ("unit", _("Unit")),
        ("category", _("Category")),
        ("model", _("Model")),
        ("serial", _("Serial")),
        ("issue_kind", _("Issue")),
        ("issued_at", _("Issued at")),
        ("due_at", _("Due at")),
        ("overdue", _("Overdue")),
        ("emergency", _("Emergency")),
        ("home_site", _("Home site")),
    ]
    now = timezone.now()
    queryset = (
        items.filter(place="person")
        .select_related("model__category", "holder__unit", "home_site")
        .order_by("holder__unit__path", "holder__family_name", "holder__national_id", "serial")
    )
    rows = (
        {
            "national_id": item.holder.national_id,
            "holder": item.holder.full_name,
            "unit": item.holder.unit.code,
            "category": item.model.category.code,
            "model": item.model.code,
            "serial": item.serial,
            "issue_kind": item.issue_kind,
            "issued_at": item.issued_at,
            "due_at": item.due_at,
            "overdue": bool(item.due_at and item.due_at < now),
            "emergency": item.emergency,
            "home_site": item.home_site.code,
        }
        for item in _chunked(queryset)
        if item.holder is not None
    )
    return TableDocument("holdings", columns, rows)


def variances_table(variances: QuerySet[Variance]) -> TableDocument:
    """Count variances (e.g. `variance_report(count)`, or every one of the sites a user sees),
    each with its resolution."""
    columns = [
        ("count", _("Count")),
        ("site", _("Site")),
        ("kind", _("Kind")),
        ("model", _("Model")),
        ("serial_or_lot", _("Serial or lot")),
        ("expected", _("Expected")),
        ("counted", _("Counted")),
        ("detail", _("Detail")),
        ("resolution", _("Resolution")),
        ("resolved_by", _("Resolved by")),
        ("resolved_at", _("Resolved at")),
        ("note", _("Resolution note")),
    ]
    queryset = variances.select_related("count__site", "item__model", "lot__model").order_by(
        "count_id", "kind", "serial", "lot_id", "pk"
    )
    rows = (
        {
            "count": variance.count_id,
            "site": variance.count.site.code,
            "kind": variance.kind,
            "model": _variance_model(variance),
            "serial_or_lot": variance.lot.lot_number if variance.lot else variance.serial,
            "expected": variance.expected,
            "counted": variance.counted,
            "detail": variance.detail,
            "resolution": variance.resolution or "open",
            "resolved_by": variance.resolved_by,
            "resolved_at": variance.resolved_at,
            "note": variance.resolution_note,
        }
        for variance in _chunked(queryset)
    )
    return TableDocument("variances", columns, rows)


def _variance_model(variance: Variance) -> str:
    if variance.item is not None:
        return variance.item.model.code
    if variance.lot is not None:
        return variance.lot.model.code
    return ""
