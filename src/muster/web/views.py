"""The front page (the dashboard once signed in) and a health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from muster.access.scope import Scope, scope_of
from muster.journal.selectors import journal_size
from muster.web.dashboard import readiness, regions_side_by_side
from muster.web.errors import scoped
from muster.web.navigation import only_themselves, sees_people


def health(request: HttpRequest) -> JsonResponse:
    """Answers 200 when the database answers; for load balancers and monitoring."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse(
        {"status": "ok", "database": connection.vendor, "journal_size": journal_size()}
    )


def home(request: HttpRequest) -> HttpResponse:
    """The dashboard for a signed-in user; a short welcome with the sign-in link otherwise."""
    if not request.user.is_authenticated:
        return render(request, "web/home.html")
    return dashboard(request)


@scoped
def dashboard(request: HttpRequest, scope: Scope) -> HttpResponse:
    if only_themselves(scope):
        return redirect(reverse("web:person", args=[scope.person_id]))
    return render(
        request,
        "web/dashboard.html",
        {
            "readiness": readiness(scope),
            "regions": regions_side_by_side(scope),
            "everything": scope.everything,
            "show_report": sees_people(scope),
        },
    )


__all__ = ["dashboard", "health", "home", "scope_of"]
