"""Every error of the API as one JSON shape with a stable code, and a refusal by policy as an
answer with its decision and reasons (422).

    {"code": "invalid", "message": "...", "field": "serial",
     "problems": [{"record": "item R0001", "field": "serial", "rule": "...", "value": ""}]}

Codes and statuses: invalid 400, unauthenticated 401, forbidden 403, not_found 404,
conflict 409, refused 422. The exception handlers are registered on the NinjaAPI (api.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from muster.access.scope import Forbidden
from muster.core.errors import DomainError, NotFound, Problem
from muster.policy.rules import Decision, Reason

STATUS_OF_CODE = {
    "invalid": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "refused": 422,
}


class Refused(Exception):
    """A refusal by policy, raised by a handler after the service returned (and journaled) it."""

    def __init__(self, message: str, decisions: Sequence[Decision], reasons: Sequence[Reason]):
        super().__init__(message)
        self.message = message
        self.decisions = tuple(decisions)
        self.reasons = tuple(reasons)


def body(code: str, message: str, problems: Sequence[Problem] = ()) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "field": problems[0].field if problems else "",
        "problems": [
            {"record": p.record, "field": p.field, "rule": p.rule, "value": p.value}
            for p in problems
        ],
    }


def decision_body(decision: Decision) -> dict[str, Any]:
    return {
        "target": decision.target,
        "allowed": decision.allowed,
        "policy": decision.policy,
        "moment": decision.moment,
        "reasons": [reason_body(r) for r in decision.reasons],
    }


def reason_body(reason: Reason) -> dict[str, Any]:
    return {"rule": reason.rule, "ok": reason.ok, "code": reason.code, "message": reason.message}


def register_handlers(api: NinjaAPI) -> None:
    """Map every exception a handler lets through to the one error shape."""

    def respond(request: HttpRequest, status: int, data: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, data, status=status)

    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        if isinstance(exc, NotFound):
            code = "not_found"
        elif isinstance(exc, Forbidden):
            code = "forbidden"
        else:
            code = exc.code if exc.code in STATUS_OF_CODE else "invalid"
        return respond(request, STATUS_OF_CODE[code], body(code, str(exc), exc.problems))

    def refused(request: HttpRequest, exc: Refused) -> HttpResponse:
        data = body("refused", exc.message)
        data["decision"] = decision_body(exc.decisions[0]) if exc.decisions else None
        data["decisions"] = [decision_body(d) for d in exc.decisions]
        data["reasons"] = [reason_body(r) for r in exc.reasons]
        return respond(request, 422, data)

    def invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = [
            Problem(
                "request",
                _field_of(error.get("loc", ())),
                str(error.get("msg", "is not valid")),
                _shown(error.get("input")),
            )
            for error in exc.errors
        ] or [Problem("request", "", "is not valid")]
        return respond(request, 400, body("invalid", "; ".join(map(str, problems)), problems))

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, AuthenticationError):
            problem = Problem(
                "request",
                "Authorization",
                "sign in, or send a token as 'Authorization: Bearer <token>'",
            )
            return respond(
                request, 401, body("unauthenticated", "authentication required", [problem])
            )
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict"}.get(
            exc.status_code, "invalid"
        )
        status = exc.status_code if exc.status_code in STATUS_OF_CODE.values() else 400
        return respond(request, status, body(code, str(exc), [Problem("request", "", str(exc))]))

    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(
            request, 404, body("not_found", "no such record", [Problem("request", "", "not found")])
        )

    def integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # Only a concurrent change can get past a service's checks to a database constraint.
        problem = Problem("request", "", "another change got there first; read again and retry")
        return respond(request, 409, body("conflict", str(problem), [problem]))

    api.add_exception_handler(DomainError, domain_error)  # type: ignore[arg-type]
    api.add_exception_handler(Refused, refused)  # type: ignore[arg-type]
    api.add_exception_handler(ValidationError, invalid_request)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, http_error)  # type: ignore[arg-type]
    api.add_exception_handler(Http404, not_found)  # type: ignore[arg-type]
    api.add_exception_handler(IntegrityError, integrity)  # type: ignore[arg-type]


def _field_of(loc: Sequence[object]) -> str:
    """The field a request error is about: ("body", "payload", "serials", 0) is "serials.0"."""
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(parts)


def _shown(value: object) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)[:200]
