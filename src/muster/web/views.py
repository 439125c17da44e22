"""The front page and a health check (the full web application arrives later)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from muster.journal.selectors import journal_size
from muster.people.models import Person, Unit


def health(request: HttpRequest) -> JsonResponse:
    """Answers 200 when the database answers; for load balancers and monitoring."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse(
        {"status": "ok", "database": connection.vendor, "journal_size": journal_size()}
    )


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/home.html",
        {
            "units": Unit.objects.count(),
            "people": Person.objects.count(),
            "journal_size": journal_size(),
        },
    )
