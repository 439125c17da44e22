"""The planning API as a script uses it: a draft simulated (JSON, PDF, XLSX) writing nothing,
a plan made, read, approved into tasks and withdrawn, a task done by an issue through the
custody API; and every planning endpoint × every role over two regions (EXPECTED).

For tests/db/test_api_coverage.py: `endpoints(planned)` lists every planning operation the
matrix walks; `planned` is this file's fixture (the armory with its second battalion and the
accounts of planning_world.py, a plan of the arms room ARM-1 and one of the region R1)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from planning_world import draft_yaml, scope_for, table_sizes

import api_matrix
from api_matrix import API, client_for, walk
from muster.armory.models import Site
from muster.core.actors import Actor
from muster.journal.selectors import journal_size
from muster.people.models import Unit
from muster.planning.services import make_plan
from worlds import PASSWORD


def older(data):
    data["categories"]["firearm"]["min_age"] = 30


def draft_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("draft.yaml", draft_yaml(older).encode(), "application/yaml")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and set(body) >= {"code", "message", "field", "problems"}
    return body


@pytest.fixture
def planned(accounts, young_rifleman, battalions) -> dict[str, int]:
    admin = accounts["admin1"]

    def plan(**where):
        return make_plan(actor=Actor.for_user(admin), scope=scope_for(admin), **where).pk

    return {
        "site": plan(site=Site.objects.get(code="ARM-1")),
        "region": plan(region=Unit.objects.get(code="R1")),
    }


def endpoints(planned):
    """(name, method, path, body) of each endpoint the matrix walks; a simulation uploads the
    draft policy (a file of its own each)."""
    site, region = f"/planning/plans/{planned['site']}", f"/planning/plans/{planned['region']}"
    return [
        ("simulate", "post", "/planning/simulate", {"file": draft_file()}),
        ("simulate pdf", "post", "/planning/simulate/pdf", {"file": draft_file()}),
        ("simulate xlsx", "post", "/planning/simulate/xlsx", {"file": draft_file()}),
        ("simulate R2", "post", "/planning/simulate?region=R2", {"file": draft_file()}),
        ("list plans", "get", "/planning/plans", None),
        ("make site plan", "post", "/planning/plans", {"site": "ARM-1"}),
        ("make region plan", "post", "/planning/plans", {"region": "R1", "limit": 3}),
        ("read site plan", "get", site, None),
        ("read region plan", "get", region, None),
        ("approve site plan", "post", f"{site}/approve", None),
        ("approve region plan", "post", f"{region}/approve", None),
        ("withdraw site plan", "post", f"{site}/withdraw", {"reason": "replanned"}),
        ("withdraw region plan", "post", f"{region}/withdraw", {"reason": "replanned"}),
        ("list tasks", "get", "/planning/tasks", None),
    ]


EXPECTED = {
    # endpoint:           hq   auditor admin1 admin2 cmd_b1 arm_b1 vet_b1 vol
    "simulate":            (200, 200,  200,   200,   200,   200,   200,   403),
    "simulate pdf":        (200, 200,  200,   200,   200,   200,   200,   403),
    "simulate xlsx":       (200, 200,  200,   200,   200,   200,   200,   403),
    "simulate R2":         (200, 200,  404,   200,   404,   404,   404,   403),
    "list plans":          (200, 200,  200,   200,   200,   200,   200,   200),
    "make site plan":      (201, 403,  201,   404,   201,   403,   404,   404),
    "make region plan":    (201, 403,  201,   404,   404,   404,   403,   404),
    "read site plan":      (200, 200,  200,   404,   200,   200,   200,   404),
    "read region plan":    (200, 200,  200,   404,   404,   404,   200,   404),
    "approve site plan":   (200, 403,  200,   404,   200,   403,   403,   404),
    "approve region plan": (200, 403,  200,   404,   404,   404,   403,   404),
    "withdraw site plan":  (200, 403,  200,   404,   200,   403,   403,   404),
    "withdraw region plan": (200, 403, 200,   404,   404,   404,   403,   404),
    "list tasks":          (200, 200,  200,   200,   200,   200,   200,   200),
}  # fmt: skip
ROLES = ("hq", "auditor", "admin1", "admin2", "commander", "armorer", "vet", "vol")


@pytest.fixture
def writes(monkeypatch) -> list[tuple[int, int]]:
    """(status, journal entries written) of each call `walk` sends, in order."""
    sent = []
    send = api_matrix.send

    def counted(client, method, path, body=None):
        before = journal_size()
        response = send(client, method, path, body)
        sent.append((response.status_code, journal_size() - before))
        return response

    monkeypatch.setattr(api_matrix, "send", counted)
    return sent


@pytest.mark.parametrize("username", ROLES)
def test_each_role_reads_and_writes_only_its_scope(planned, username, writes):
    calls = endpoints(planned)
    walk(username, calls, EXPECTED, ROLES)
    for (name, *_), (status, wrote) in zip(calls, writes, strict=True):
        if status >= 400 or name.startswith("simulate"):
            assert not wrote, name


def test_the_simulation_answers_what_changes_and_writes_nothing(planned):
    client = client_for("commander")
    before, size = table_sizes(), journal_size()
    body = client.post(f"{API}/planning/simulate", {"file": draft_file()}).json()
    assert table_sizes() == before and journal_size() == size
    assert (body["draft"], body["current"], body["newly_ineligible"]) == (
        "national@2099.1-draft",
        "national@2026.1",
        1,
    )
    (change,) = body["changes"]
    assert (change["national_id"], change["target"], change["becomes"]) == (
        "YR0000001",
        "firearm/rifle",
        "ineligible",
    )
    assert change["reasons"][0]["rule"] == "categories.firearm.min_age"
    assert [r["serial"] for r in body["recalls"]] == ["R0001"]
    assert {"path": "categories.firearm.min_age", "kind": "changed", "old": 21, "new": 30} in [
        {k: line[k] for k in ("path", "kind", "old", "new")} for line in body["rules"]
    ]
    xlsx = client.post(f"{API}/planning/simulate/xlsx", {"file": draft_file()})
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert "Eligibility" in book.sheetnames
    pdf = client.post(f"{API}/planning/simulate/pdf", {"file": draft_file()})
    assert pdf.content.startswith(b"%PDF")


def test_a_bad_draft_is_400_with_every_problem(planned):
    bad = SimpleUploadedFile("bad.yaml", b"jurisdiction: national\n", "application/yaml")
    body = assert_error(
        client_for("hq").post(f"{API}/planning/simulate", {"file": bad}), 400, "invalid"
    )
    assert {"version", "title", "categories"} <= {p["field"] for p in body["problems"]}


def test_plan_approve_issue_and_withdraw_round_trip(planned, battalions):
    admin = client_for("admin1")
    made = admin.post(f"{API}/planning/plans", {"region": "R1", "limit": 2}, "application/json")
    assert made.status_code == 201, made.content
    plan = made.json()
    assert plan["state"] == "draft" and plan["seats"] == 2
    assert [(ln["national_id"], ln["outcome"]) for ln in plan["lines"][:2]] == [
        ("B2P1", "chosen"),
        ("B1P1", "chosen"),
    ]
    assert "round 1:" in plan["lines"][0]["step"] and plan["lines"][0]["explanation"]
    approved = admin.post(f"{API}/planning/plans/{plan['id']}/approve")
    assert approved.status_code == 200, approved.content
    tasks = approved.json()["tasks"]
    assert [(t["national_id"], t["state"]) for t in tasks] == [("B2P1", "open"), ("B1P1", "open")]
    again = admin.post(f"{API}/planning/plans/{plan['id']}/approve")
    assert assert_error(again, 409, "conflict")["field"] == "state"
    # The armorer issues B1P1's rifle through the custody API: the task is done.
    issued = client_for("armorer").post(
        f"{API}/custody/issue",
        {
            "person_id": tasks[1]["person_id"],
            "serials": [tasks[1]["item"].split()[1]],
            "kind": "assignment",
            "second_username": "commander",
            "second_password": PASSWORD,
        },
        "application/json",
    )
    assert issued.status_code == 201, issued.content
    listed = admin.get(f"{API}/planning/tasks", {"state": "done"}).json()
    assert [t["national_id"] for t in listed["items"]] == ["B1P1"]
    assert listed["items"][0]["done_serial"] == tasks[1]["item"].split()[1]
    withdrawn = admin.post(
        f"{API}/planning/plans/{plan['id']}/withdraw", {"reason": "replanned"}, "application/json"
    )
    assert withdrawn.status_code == 200
    assert {t["national_id"]: t["state"] for t in withdrawn.json()["tasks"]} == {
        "B2P1": "cancelled",
        "B1P1": "done",
    }


def test_plan_input_errors_name_the_field(planned):
    admin = client_for("admin1")
    body = assert_error(
        admin.post(f"{API}/planning/plans", {"limit": 0}, "application/json"), 400, "invalid"
    )
    assert body["field"] == "limit"
    body = assert_error(
        admin.post(f"{API}/planning/plans", {"category": "firearm"}, "application/json"),
        400,
        "invalid",
    )
    assert body["field"] == "site"
    assert_error(admin.get(f"{API}/planning/plans/999999"), 404, "not_found")
    assert_error(admin.get(f"{API}/planning/tasks", {"state": "nope"}), 400, "invalid")
