"""Input no database can keep, refused before any view sees it.

PostgreSQL text cannot hold the NUL character (SQLite can): a query parameter, form field or
JSON string carrying one would reach the database and fail there as a server error. Django's
form fields refuse it already; this catches every other way in (query strings read by views,
API parameters and JSON bodies) with the usual answer to bad input: 400, naming the field.
Uploaded files are not looked at (a spreadsheet is binary)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

NUL = "\x00"
RULE = "must not contain the NUL character (U+0000)"


def _json_fields(value: Any, path: str = "") -> Iterator[str]:
    """The dotted paths of every string (or key) in a JSON document that holds a NUL."""
    if isinstance(value, str):
        if NUL in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield where
            yield from _json_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_fields(item, f"{path}.{index}" if path else str(index))


def nul_fields(request: HttpRequest) -> list[str]:
    """The fields of the request holding a NUL: path, query parameters, form fields, JSON."""
    found = ["path"] if NUL in request.path else []
    found += [key for key, values in request.GET.lists() if NUL in key + "".join(values)]
    content_type = request.content_type or ""
    if request.method in {"POST", "PUT", "PATCH"}:
        if content_type == "application/json" and b"\\u0000" in request.body:
            with suppress(ValueError):  # not JSON after all: the view answers that
                found += list(_json_fields(json.loads(request.body)))
        elif content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            found += [k for k, values in request.POST.lists() if NUL in k + "".join(values)]
    return found


class RefuseNulCharacters:
    """Answer 400 to a request carrying a NUL: JSON in the API's error shape under /api/,
    plain text elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = nul_fields(request)
        if not fields:
            return self.get_response(request)
        message = f"{', '.join(fields)}: {RULE}"
        if request.path.startswith("/api/"):
            problems = [
                {"record": "request", "field": field, "rule": RULE, "value": ""} for field in fields
            ]
            return JsonResponse(
                {"code": "invalid", "message": message, "field": fields[0], "problems": problems},
                status=400,
            )
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
