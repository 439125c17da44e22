"""The duties API as a script uses it: every endpoint × every role (EXPECTED, walked on
role_world), a refusal as 422 with its reasons, a stale roster as 409, paginated lists,
the calendar file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from duty_helpers import at
from icalendar import Calendar

from muster.accounts.models import User
from muster.accounts.tokens import create_token
from muster.core.actors import Actor
from muster.duties.models import Assignment
from muster.journal.models import JournalEntry

API = "/api/v1"
ROLES = ("hq", "auditor", "admin1", "commander", "vet", "armorer", "vol")


def client_for(username: str) -> Client:
    user = User.objects.get(username=username)
    _, raw = create_token(actor=Actor.for_user(user), user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def endpoints(world: Any) -> list[tuple[str, str, str, Any]]:
    """(name, method, path, body) for each endpoint the matrix walks (on role_world)."""
    w = world
    people = w.duty.people
    vol = people["vol"].pk
    new_shift = {
        "post": "PS-1", "starts_at": at(3, 8).isoformat(), "ends_at": at(3, 16).isoformat(),
        "headcount": 2, "requirements": [{"kind": "qualification", "code": "first_aid", "count": 1}],
        "equipment": [{"category": "radio", "count": 1}],
    }  # fmt: skip
    leave = {
        "person_id": vol, "kind": "leave", "starts_at": at(20, 0).isoformat(),
        "ends_at": at(21, 0).isoformat(), "reason": "holiday",
    }  # fmt: skip
    return [
        ("list types", "get", "/duties/types", None),
        ("define type", "post", "/duties/types", {"code": "escort", "name": "Escort"}),
        ("list posts", "get", "/duties/posts", None),
        ("add post", "post", "/duties/posts",
         {"code": "PS-2", "name": "Pumping station 2", "unit": "R1-B1",
          "duty_type": "infrastructure", "latitude": "50.1", "longitude": "30.2"}),
        ("read post", "get", f"/duties/posts/{w.duty.station.pk}", None),
        ("list shifts", "get", "/duties/shifts?short=true", None),
        ("plan shifts", "post", "/duties/shifts", new_shift),
        ("read shift", "get", f"/duties/shifts/{w.soon.pk}", None),
        ("read shift other region", "get", f"/duties/shifts/{w.there.pk}", None),
        ("cancel shift", "post", f"/duties/shifts/{w.started.pk}/cancel", {"reason": "flood"}),
        ("assign", "post", f"/duties/shifts/{w.soon.pk}/assignments",
         {"person_id": people["fire"].pk}),
        ("assign refused", "post", f"/duties/shifts/{w.soon.pk}/assignments",
         {"person_id": people["applicant"].pk}),
        ("candidates", "get", f"/duties/shifts/{w.soon.pk}/candidates", None),
        ("list assignments", "get", "/duties/assignments", None),
        ("read assignment", "get", f"/duties/assignments/{w.own.pk}", None),
        ("unassign", "post", f"/duties/assignments/{w.waiting.pk}/cancel", {"reason": "sick"}),
        ("check in", "post", f"/duties/assignments/{w.own.pk}/check-in", None),
        ("check out", "post", f"/duties/assignments/{w.checked_in.pk}/check-out", None),
        ("no-show", "post", f"/duties/assignments/{w.waiting.pk}/no-show", {}),
        ("correct", "post", f"/duties/assignments/{w.no_show.pk}/correct",
         {"to_state": "assigned", "reason": "was there"}),
        ("issue", "post", f"/duties/assignments/{w.own.pk}/issue", {"serials": ["RAD-1"]}),
        ("list availability", "get", f"/duties/availability?person_id={vol}", None),
        ("own availability", "get", "/duties/availability", None),
        ("add availability", "post", "/duties/availability", leave),
        ("withdraw availability", "post", f"/duties/availability/{w.entry.pk}/withdraw",
         {"reason": "plans changed"}),
        ("week", "get", "/duties/week?unit=R1-B1", None),
        ("roster", "get", "/duties/roster?unit=R1-B1", None),
        ("accept roster", "post", "/duties/roster/accept",
         {"unit": "R1-B1", "assignments": [{"shift_id": w.soon.pk, "person_id": people["fire"].pk}]}),
        ("calendar", "get", f"/duties/people/{vol}/calendar.ics", None),
        ("understaffed", "get", "/duties/understaffed", None),
    ]  # fmt: skip


EXPECTED = {
    # endpoint:              hq   auditor admin1 cmd_b1 vet  arm_b1 vol
    "list types":            (200, 200,   200,   200,   200, 200,   200),
    "define type":           (201, 403,   201,   403,   403, 403,   403),
    "list posts":            (200, 200,   200,   200,   200, 200,   200),
    "add post":              (201, 403,   201,   201,   403, 403,   403),
    "read post":             (200, 200,   200,   200,   200, 200,   404),
    "list shifts":           (200, 200,   200,   200,   200, 200,   200),
    "plan shifts":           (201, 403,   201,   201,   403, 403,   403),
    "read shift":            (200, 200,   200,   200,   200, 200,   200),  # the volunteer stands it
    "read shift other region": (200, 200, 404,   404,   404, 404,   404),
    "cancel shift":          (200, 403,   200,   200,   403, 403,   404),
    "assign":                (201, 403,   201,   201,   403, 403,   403),
    "assign refused":        (422, 403,   422,   422,   403, 403,   403),
    "candidates":            (200, 403,   200,   200,   403, 403,   403),
    "list assignments":      (200, 200,   200,   200,   200, 200,   200),
    "read assignment":       (200, 200,   200,   200,   200, 200,   200),  # the volunteer's own
    "unassign":              (200, 403,   200,   200,   403, 403,   404),
    "check in":              (200, 403,   200,   200,   403, 403,   200),  # the volunteer's own
    "check out":             (200, 403,   200,   200,   403, 403,   404),
    "no-show":               (200, 403,   200,   200,   403, 403,   404),
    "correct":               (200, 403,   200,   200,   403, 403,   404),
    "issue":                 (403, 403,   403,   403,   403, 201,   403),
    "list availability":     (200, 200,   200,   200,   200, 200,   200),
    "own availability":      (404, 404,   404,   404,   404, 404,   200),  # only vol has a record
    "add availability":      (201, 403,   201,   201,   403, 403,   201),
    "withdraw availability": (200, 403,   200,   200,   403, 403,   200),
    "week":                  (200, 200,   200,   200,   200, 200,   404),
    "roster":                (200, 403,   200,   200,   403, 403,   403),
    "accept roster":         (201, 403,   201,   201,   403, 403,   403),
    "calendar":              (200, 200,   200,   200,   200, 200,   200),
    "understaffed":          (200, 200,   200,   200,   200, 200,   200),
}  # fmt: skip


@pytest.mark.parametrize("username", ROLES)
def test_each_role_reads_and_does_only_what_it_may(role_world, username):
    client = client_for(username)
    column = ROLES.index(username)
    got, wanted = {}, {}
    for name, method, path, body in endpoints(role_world):
        with transaction.atomic():
            before = JournalEntry.objects.count()
            if method == "get":
                response = client.get(f"{API}{path}")
            else:
                response = client.post(f"{API}{path}", body or {}, "application/json")
            if response.status_code in (403, 404):
                assert JournalEntry.objects.count() == before, name
            transaction.set_rollback(True)
        got[name] = response.status_code
        wanted[name] = EXPECTED[name][column]
        if response.status_code >= 400:
            assert response.json()["code"] in {"invalid", "forbidden", "not_found", "refused"}
    assert got == wanted


def test_every_duties_operation_is_in_the_matrix(role_world):
    import re

    from muster.api.api import api

    walked = {(m, re.sub(r"\?.*", "", p)) for _, m, p, _ in endpoints(role_world)}
    missing = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        if not path.startswith(f"{API}/duties"):
            continue
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", path.removeprefix(API))
        for method in operations:
            if not any(m == method and re.fullmatch(pattern, p) for m, p in walked):
                missing.append(f"{method.upper()} {path}")
    assert not missing
    assert set(EXPECTED) == {name for name, *_ in endpoints(role_world)}


def test_a_refusal_is_422_with_every_reason_and_is_journaled(role_world):
    w = role_world
    response = client_for("commander").post(
        f"{API}/duties/shifts/{w.soon.pk}/assignments",
        {"person_id": w.duty.people["applicant"].pk},
        "application/json",
    )
    body = response.json()
    assert response.status_code == 422 and body["code"] == "refused"
    assert [r["code"] for r in body["reasons"]] == ["status"]
    assert body["decision"]["policy"] == "national@2026.1"
    assert JournalEntry.objects.filter(kind="duty.assignment_refused").count() == 1


def test_a_roster_that_no_longer_fits_is_409_and_nothing_is_made(role_world):
    w = role_world
    people = w.duty.people
    body = {
        "unit": "R1-B1",
        "assignments": [
            {"shift_id": w.soon.pk, "person_id": people["fire"].pk},
            {"shift_id": w.soon.pk, "person_id": people["applicant"].pk},
        ],
    }
    response = client_for("commander").post(f"{API}/duties/roster/accept", body, "application/json")
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert not Assignment.objects.filter(person=people["fire"]).exists()


def test_the_suggested_roster_and_the_week(role_world):
    client = client_for("commander")
    roster = client.get(f"{API}/duties/roster", {"unit": "R1-B1"}).json()
    # the patrol starting soon has one place left; the pumping station's second place too
    assert {p["shift_id"] for p in roster["proposals"]} <= {
        role_world.soon.pk,
        role_world.started.pk,
    }
    week = client.get(f"{API}/duties/week", {"unit": "R1-B1"}).json()
    by_shift = {s["shift_id"]: s for s in week["shifts"]}
    soon = by_shift.get(role_world.soon.pk)
    if soon is not None:  # the week of today holds it (not when today is Sunday night)
        assert (soon["filled"], soon["headcount"], soon["gap"]) == (2, 3, True)


def test_lists_are_paginated(role_world):
    page = client_for("hq").get(f"{API}/duties/shifts", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and len(page["items"]) == 1


def test_the_calendar_is_an_icalendar_file(role_world):
    vol = role_world.duty.people["vol"]
    response = client_for("vol").get(f"{API}/duties/people/{vol.pk}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(hours=7, minutes=30)
