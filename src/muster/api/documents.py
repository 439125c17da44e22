"""Documents (R12): the readiness report, an item's custody history, hand receipts, count
sheets and variance reports as PDF, QR labels, and tables (roster, items, holdings, variances)
as CSV or XLSX — each of the caller's scope, made by muster.*.documents as the web's pages
and `muster … export` make them."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router

from muster.access.reads import record_person_read
from muster.access.scope import (
    counts_in,
    items_in,
    people_in,
    sees_items,
    sees_people,
    sites_in,
    units_in,
    visible,
)
from muster.api.common import actor, scope, site_by_code, unit_by_code
from muster.api.files import attachment, download
from muster.api.schemas import responses
from muster.armory.documents import (
    count_sheet_pdf,
    holdings_table,
    item_history_pdf,
    items_table,
    labels_pdf,
    variance_report_pdf,
    variances_table,
)
from muster.armory.models import InventoryCount, Item, Site, Variance
from muster.armory.receipt_pdf import hand_receipt_pdf
from muster.armory.receipts import hand_receipt
from muster.core.errors import DomainError, NotFound, Problem
from muster.documents.tables import CONTENT_TYPES, TableDocument, csv_chunks, table_bytes
from muster.people.documents import readiness_pdf, roster_table
from muster.people.models import Person

router = Router(tags=["documents"])

PDF = "application/pdf"


def _sees(seen: bool, what: str) -> None:
    if not seen:
        raise NotFound.single(what, "scope", "nothing of this kind is in your scope")


def _pdf(data: bytes, name: str) -> HttpResponse:
    return attachment(data, PDF, f"{name}.pdf")


@router.get(
    "/documents/readiness.pdf",
    summary="Readiness report (PDF)",
    tags=["documents"],
    **download(PDF, "readiness report"),
)
def readiness_report(
    request: HttpRequest, unit: str | None = Query(None, max_length=40, description="unit code")
) -> HttpResponse:
    """Members, vetted, eligible and armed per battalion and region, over the caller's scope
    (or one unit's subtree in it)."""
    the_scope = scope(request)
    _sees(sees_people(the_scope), "readiness report")
    units, people, items = units_in(the_scope), people_in(the_scope), items_in(the_scope)
    title = "Readiness report" if the_scope.everything else "Readiness report (your scope)"
    if unit:
        top = unit_by_code(the_scope, unit)
        units = units.filter(path__startswith=top.path)
        people = people.filter(unit__path__startswith=top.path)
        items = items.filter(holder__unit__path__startswith=top.path)
        title = f"Readiness report: {top.code} {top.name}"
    data = readiness_pdf(units, people, items, title=title)
    return _pdf(data, f"readiness-{timezone.localdate():%Y-%m-%d}")


@router.get(
    "/documents/items/{item_id}/history.pdf",
    summary="Item custody history (PDF)",
    tags=["documents"],
    **download(PDF, "the item's custody history"),
)
def item_history(request: HttpRequest, item_id: int) -> HttpResponse:
    """Every custody event of the item and the status of its proof."""
    items = items_in(scope(request)).select_related(
        "model__category", "site", "holder", "home_site", "transit_to"
    )
    item = visible(items, item_id, f"item {item_id}")
    return _pdf(item_history_pdf(item), f"history-{item.model.code}-{item.serial}")


@router.get(
    "/documents/people/{person_id}/hand-receipt.pdf",
    summary="Hand receipt (PDF)",
    tags=["documents"],
    **download(PDF, "the volunteer's hand receipt"),
)
def receipt(
    request: HttpRequest, person_id: int, why: str = Query("hand receipt", max_length=200)
) -> HttpResponse:
    """What the volunteer holds now, to print and sign, with each item's proof from the log;
    the read is journaled."""
    the_scope = scope(request)
    person = visible(people_in(the_scope), person_id, f"person {person_id}")
    record_person_read(actor=actor(request), scope=the_scope, person=person, why=why)
    pdf = hand_receipt_pdf(hand_receipt(person))
    return attachment(pdf.data, PDF, f"hand-receipt-{person.national_id}.pdf")


def _count(request: HttpRequest, count_id: int) -> InventoryCount:
    counts = counts_in(scope(request)).select_related("site__unit", "category", "counter")
    return visible(counts, count_id, f"count {count_id}")


@router.get(
    "/documents/counts/{count_id}/sheet.pdf",
    summary="Count sheet (PDF)",
    tags=["documents"],
    **download(PDF, "count sheet"),
)
def count_sheet(request: HttpRequest, count_id: int) -> HttpResponse:
    """The count sheet; a blind count's never lists what is expected."""
    count = _count(request, count_id)
    return _pdf(count_sheet_pdf(count), f"count-{count.pk}-sheet")


@router.get(
    "/documents/counts/{count_id}/variances.pdf",
    summary="Variance report (PDF)",
    tags=["documents"],
    **download(PDF, "variance report"),
)
def count_variances(request: HttpRequest, count_id: int) -> HttpResponse:
    """The variances of a closed count, each with its resolution (409 while it is open)."""
    count = _count(request, count_id)
    if count.status != "closed":
        raise DomainError(
            [Problem(f"count {count.pk}", "status", "is open: no variance report yet")],
            code="conflict",
        )
    return _pdf(variance_report_pdf(count), f"count-{count.pk}-variances")


@router.get(
    "/documents/sites/labels.pdf",
    summary="QR labels of sites (PDF)",
    tags=["documents"],
    **download(PDF, "QR labels of sites"),
)
def sites_labels(request: HttpRequest) -> HttpResponse:
    """A QR label for each storage site the caller sees."""
    the_scope = scope(request)
    sites = list(sites_in(the_scope).select_related("unit").order_by("code"))
    _sees(bool(sites), "site labels")
    things: list[Item | Site] = list(sites)
    return _pdf(labels_pdf(things), "labels-sites")


@router.get(
    "/documents/sites/{code}/labels.pdf",
    summary="QR labels of a site's items (PDF)",
    tags=["documents"],
    **download(PDF, "QR labels of a site and its items"),
)
def site_labels(
    request: HttpRequest, code: str, category: str | None = Query(None, max_length=40)
) -> HttpResponse:
    """QR labels for a site (its own first) and every item it is home to, not disposed."""
    the_scope = scope(request)
    site = site_by_code(the_scope, code)
    items = items_in(the_scope).filter(home_site=site).exclude(place="disposed")
    if category:
        items = items.filter(model__category__code=category)
    ordered = items.select_related("model").order_by("model__code", "serial")
    things: list[Item | Site] = [site, *ordered]
    return _pdf(labels_pdf(things), f"labels-{site.code}")


TableName = Literal["roster", "items", "holdings", "variances"]
TableFormat = Literal["csv", "xlsx"]


@router.get(
    "/documents/tables/{table}",
    summary="A table as CSV or XLSX",
    tags=["documents"],
    response={k: v for k, v in responses(200, str).items() if k != 200},
    openapi_extra={
        "responses": {
            "200": {
                "description": "the table as CSV (UTF-8 with a BOM) or XLSX",
                "content": {
                    CONTENT_TYPES[f].split(";")[0]: {
                        "schema": {"type": "string", "format": "binary"}
                    }
                    for f in ("csv", "xlsx")
                },
            }
        }
    },
)
def download_table(
    request: HttpRequest,
    table: TableName,
    format: TableFormat = "csv",
    unit: str | None = Query(None, max_length=40, description="roster: one unit's subtree"),
    status: str | None = Query(None, max_length=16, description="roster: one status"),
    site: str | None = Query(None, max_length=40, description="items, holdings, variances"),
    category: str | None = Query(None, max_length=40, description="items, holdings"),
) -> HttpResponse | StreamingHttpResponse:
    """The roster, items, holdings or count variances the caller sees, every row (CSV is
    streamed as it is read)."""
    the_scope = scope(request)
    document: TableDocument
    if table == "roster":
        _sees(sees_people(the_scope), "roster")
        people: QuerySet[Person] = people_in(the_scope)
        if unit:
            people = people.filter(unit__path__startswith=unit_by_code(the_scope, unit).path)
        if status:
            people = people.filter(status=status)
        document = roster_table(people)
    elif table == "variances":
        _sees(sees_items(the_scope), "variances")
        variances = Variance.objects.filter(count__in=counts_in(the_scope).values("pk"))
        if site:
            variances = variances.filter(count__site=site_by_code(the_scope, site))
        document = variances_table(variances)
    else:
        _sees(sees_items(the_scope), table)
        items = items_in(the_scope)
        if site:
            found = site_by_code(the_scope, site)
            items = items.filter(Q(home_site=found) | Q(site=found))
        if category:
            items = items.filter(model__category__code=category)
        document = (items_table if table == "items" else holdings_table)(items)
    filename = f"{document.name}-{timezone.localdate():%Y-%m-%d}.{format}"
    response: HttpResponse | StreamingHttpResponse
    if format == "csv":
        response = StreamingHttpResponse(
            csv_chunks(document.columns, document.rows), content_type=CONTENT_TYPES["csv"]
        )
    else:
        data, content_type, _extension = table_bytes(document.columns, document.rows, "xlsx")
        response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
