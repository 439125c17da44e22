"""One place that turns the domain's refusals into HTTP answers for every page: a record
outside the user's scope is not found (404), an action their roles do not give is refused
(403). Pages take the user's scope from here, so none looks at role grants itself."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from muster.access.scope import Forbidden, scope_of
from muster.core.errors import DomainError, NotFound

ScopedView = Callable[..., HttpResponse]


def scoped(view: ScopedView) -> Callable[..., HttpResponse]:
    """Sign-in required; the view gets the user's Scope after the request; NotFound → 404 and
    Forbidden → 403, rendered with the site's layout."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scope = scope_of(request.user)  # type: ignore[arg-type]
        request.muster_scope = scope  # type: ignore[attr-defined]  # for the navigation
        try:
            return view(request, scope, *args, **kwargs)
        except NotFound as error:
            return refusal(request, error, 404)
        except Forbidden as error:
            return refusal(request, error, 403)

    return wrapper


def refusal(request: HttpRequest, error: Exception, status: int) -> HttpResponse:
    return render(request, "web/refused.html", {"status": status, "error": error}, status=status)


def problems_on_form(form: Form, error: DomainError, fields: dict[str, str] | None = None) -> None:
    """Show a service's problems next to the fields they name (`fields` maps the service's
    field names to the form's where they differ); the rest go above the form."""
    aliases = fields or {}
    for problem in error.problems:
        name = aliases.get(problem.field, problem.field)
        text = problem.rule + (f" ({problem.value})" if problem.value else "")
        form.add_error(name if name in form.fields else None, text)
