"""The front page (the dashboard once signed in) and a health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from muster.access.scope import Scope, scope_of, sees_people
from muster.journal.selectors import journal_size
from muster.web.charts import dashboard_charts
from muster.web.dashboard import dashboard_for
from muster.web.errors import scoped
from muster.web.navigation import only_themselves


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
    numbers = dashboard_for(scope, region=request.GET.get("region", "").strip())
    return render(
        request,
        "web/dashboard.html",
        {
            "readiness": numbers.readiness,
            "regions": numbers.regions,
            "dashboard": numbers,
            "charts": dashboard_charts(numbers),
            "everything": scope.everything,
            "show_report": sees_people(scope),
            "alerts": numbers.alerts,
        },
    )


__all__ = ["dashboard", "health", "home", "scope_of"]
