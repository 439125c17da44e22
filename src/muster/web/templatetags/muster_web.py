"""Template helpers: the navigation a user's scope allows."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from muster.access.scope import may_audit, sees_items, sees_people
from muster.alerts.audience import sees_alerts
from muster.web.navigation import counts_open_to, may_import

register = template.Library()


@register.inclusion_tag("web/nav.html", takes_context=True)
def muster_nav(context: dict[str, Any]) -> dict[str, Any]:
    """Links to the pages the signed-in user's scope opens, the current one marked."""
    request: HttpRequest = context["request"]
    scope = getattr(request, "muster_scope", None)
    links: list[tuple[str, str]] = []
    if scope is not None:
        links.append((reverse("home"), _("Dashboard")))
        if sees_alerts(scope):
            links.append((reverse("web:alerts"), _("Alerts")))
        if sees_people(scope):
            links.append((reverse("web:duties"), _("Duties")))
        if scope.person_id is not None:
            links.append((reverse("web:my-shifts"), _("My shifts")))
        if sees_people(scope):
            links.append((reverse("web:people"), _("People")))
        if sees_items(scope):
            links.append((reverse("web:items"), _("Items")))
        if scope.may("custody.change"):
            links.append((reverse("web:issue"), _("Issue")))
            links.append((reverse("web:return"), _("Return")))
        if counts_open_to(scope):
            links.append((reverse("web:counts"), _("Counts")))
        if sees_items(scope):
            links.append((reverse("web:transfers"), _("Transfers")))
        if sees_items(scope) or sees_people(scope):
            links.append((reverse("web:incidents"), _("Incidents")))
        if sees_people(scope) or sees_items(scope):
            links.append((reverse("web:planning-plans"), _("Allocation")))
        if scope.may("custody.change"):
            links.append((reverse("web:planning-tasks"), _("Issue tasks")))
        if sees_people(scope):
            links.append((reverse("web:planning-simulate"), _("Policy simulation")))
        if may_import(scope):
            links.append((reverse("imports:index"), _("Imports")))
        if scope.person_id is not None:
            links.append((reverse("web:person", args=[scope.person_id]), _("My record")))
        if may_audit(scope):
            links.append((reverse("web:audit"), _("Audit")))
    here = request.path
    return {
        "links": [
            (url, label, url == here or (url != "/" and here.startswith(url)))
            for url, label in links
        ]
    }
