"""Paginated lists: one page of a queryset, and the query string that keeps the filters."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZE = 50


def paged(request: HttpRequest, rows: QuerySet[Any]) -> tuple[Page[Any], str]:
    """The page of `rows` the request asks for (`?page=`, PAGE_SIZE a page; a bad number
    gives the first or last page), and the request's other parameters, for the pager's links."""
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    return page, keep.urlencode()
