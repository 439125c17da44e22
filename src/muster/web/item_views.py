"""Items the user's scope sees, and one item's custody history with the log's proof of it."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from muster.access.scope import Scope, items_in, sites_in, visible
from muster.armory.choices import Place
from muster.armory.models import Category, Item
from muster.armory.proofs import item_bundle, verified_bundle
from muster.armory.selectors import item_history
from muster.web.errors import scoped
from muster.web.pages import paged


def items_filtered(request: HttpRequest, scope: Scope) -> tuple[QuerySet[Item], dict[str, Any]]:
    """The items the scope sees by site, category and place, searched by serial or model, as
    the request asks; with the filters for the page (the list and its downloads share it)."""
    found = items_in(scope).select_related("model__category", "site", "holder", "home_site")
    sites = sites_in(scope).order_by("code")
    site = request.GET.get("site", "")
    if site.isdigit():
        found = found.filter(Q(site_id=int(site)) | Q(home_site_id=int(site)))
    category = request.GET.get("category", "")
    if category:
        found = found.filter(model__category__code=category)
    place = request.GET.get("place", "")
    if place in Place.values:
        found = found.filter(place=place)
    query = request.GET.get("q", "").strip()
    if query:
        found = found.filter(Q(serial__istartswith=query) | Q(model__code__istartswith=query))
    filters = {
        "sites": sites.only("pk", "code", "name"),
        "site": site,
        "labelled_site": sites.filter(pk=int(site)).first() if site.isdigit() else None,
        "categories": Category.objects.order_by("code"),
        "category": category,
        "places": Place.choices,
        "place": place,
        "query": query,
    }
    return found, filters


@scoped
def items(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Items by site, category and place, searched by serial (items_filtered), a page at a time."""
    found, filters = items_filtered(request, scope)
    page, keep = paged(request, found.order_by("model__code", "serial", "pk"))
    return render(request, "web/items/list.html", {"page": page, "keep": keep, **filters})


def visible_item(scope: Scope, pk: int) -> Item:
    return visible(
        items_in(scope).select_related(
            "model__category", "site", "holder", "home_site", "transit_to"
        ),
        pk,
        "item",
    )


@scoped
def item(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    found = visible_item(scope, pk)
    return render(
        request,
        "web/items/item.html",
        {"item": found, "history": item_history(found), "verified": verified_bundle(found)},
    )


@scoped
def item_proof(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    """The item's proof bundle, for muster-verify."""
    found = visible_item(scope, pk)
    bundle = item_bundle(found)
    response = HttpResponse(bundle.text, content_type="text/plain; charset=utf-8")
    name = f"{found.model.code}-{found.serial}.item-proof"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
