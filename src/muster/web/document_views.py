"""Downloads (R12), each narrowed to the user's scope exactly as the page it is linked from:
the roster and the items tables as CSV (streamed) or XLSX with the page's filters, the
readiness report, an item's custody history, a count's sheet and variance report, and the QR
label sheet of a site's items. The documents themselves are muster.*.documents'."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.access.scope import (
    Scope,
    items_in,
    people_in,
    sees_items,
    sees_people,
    sites_in,
    units_in,
    visible,
)
from muster.armory.documents import (
    count_sheet_pdf,
    item_history_pdf,
    items_table,
    labels_pdf,
    variance_report_pdf,
)
from muster.armory.models import Item, Site
from muster.core.errors import NotFound
from muster.documents.tables import CONTENT_TYPES, TableDocument, csv_chunks, table_bytes
from muster.people.documents import readiness_pdf, roster_table
from muster.web.count_views import visible_count
from muster.web.errors import scoped
from muster.web.item_views import items_filtered, visible_item
from muster.web.people_views import roster_filtered


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


def _table(document: TableDocument, fmt: str) -> HttpResponse:
    """CSV streamed as it is read (a national items table is large); XLSX built whole."""
    name = f"{document.name}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_chunks(document.columns, document.rows), content_type=CONTENT_TYPES["csv"]
        )
    elif fmt == "xlsx":
        data, content_type, _extension = table_bytes(document.columns, document.rows, "xlsx")
        response = HttpResponse(data, content_type=content_type)
    else:
        raise NotFound.single("download", "format", "must be csv or xlsx", fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response  # type: ignore[return-value]


def _require(sees: bool, what: str) -> None:
    if not sees:
        raise NotFound.single(what, "scope", "nothing of this kind is in your scope")


@scoped
def roster_download(request: HttpRequest, scope: Scope, fmt: str) -> HttpResponse:
    """The roster as the page shows it (same search and filters), every page of it."""
    _require(sees_people(scope), "roster")
    people, _filters = roster_filtered(request, scope)
    return _table(roster_table(people), fmt)


@scoped
def items_download(request: HttpRequest, scope: Scope, fmt: str) -> HttpResponse:
    """The items list as the page shows it (same filters), every page of it."""
    _require(sees_items(scope), "items")
    found, _filters = items_filtered(request, scope)
    return _table(items_table(found), fmt)


@scoped
def readiness_report(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The readiness report of the user's scope, per battalion and region."""
    _require(sees_people(scope), "readiness report")
    title = _("Readiness report") if scope.everything else _("Readiness report (your scope)")
    data = readiness_pdf(units_in(scope), people_in(scope), items_in(scope), title=title)
    return _pdf(data, f"readiness-{timezone.localdate():%Y-%m-%d}")


@scoped
def item_history(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    item = visible_item(scope, pk)
    return _pdf(item_history_pdf(item), f"history-{item.model.code}-{item.serial}")


@scoped
def count_sheet(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """The count sheet; a blind count's never lists what is expected."""
    count = visible_count(scope, pk)
    return _pdf(count_sheet_pdf(count), f"count-{count.pk}-sheet")


@scoped
def count_variances(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    count = visible_count(scope, pk)
    if count.status != "closed":
        raise NotFound.single(f"count {count.pk}", "status", "is open: no variance report yet")
    return _pdf(variance_report_pdf(count), f"count-{count.pk}-variances")


@scoped
def site_labels(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """QR labels for a site (its own first) and every item it is home to, not disposed."""
    site = visible(sites_in(scope).select_related("unit"), pk, "site")
    items = (
        items_in(scope)
        .filter(home_site=site)
        .exclude(place="disposed")
        .select_related("model")
        .order_by("model__code", "serial")
    )
    things: list[Item | Site] = [site, *items]
    return _pdf(labels_pdf(things), f"labels-{site.code}")
