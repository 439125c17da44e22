"""The alerts API: every endpoint × every role over two regions (who lists, reads, acknowledges
and resolves which alert), the error shape, filters and pagination.

`endpoints(alerts)` and `EXPECTED` are walked by tests/api_matrix.walk, as the armory's are;
tests/db/test_api_coverage.py lists the operations `endpoints` calls."""

from __future__ import annotations

import pytest

from api_matrix import API, client_for, walk
from muster.alerts.models import Alert
from muster.api.api import api


def endpoints(alerts):
    """(name, method, path, body) for each endpoint the matrix walks."""
    here, expiring, there = (f"/alerts/{alerts[k].pk}" for k in ("overdue", "expiring", "there"))
    return [
        ("list", "get", "/alerts", None),
        ("list bad kind", "get", "/alerts?kind=nonsense", None),
        ("read overdue", "get", here, None),
        ("read expiring", "get", expiring, None),
        ("read other region", "get", there, None),
        ("read unknown", "get", "/alerts/999999", None),
        ("ack overdue", "post", f"{here}/acknowledge", {"note": "calling"}),
        ("ack expiring", "post", f"{expiring}/acknowledge", {}),
        ("ack other region", "post", f"{there}/acknowledge", {}),
        ("resolve overdue", "post", f"{here}/resolve", {"note": "returned"}),
        ("resolve without note", "post", f"{here}/resolve", {"note": " "}),
        ("resolve other region", "post", f"{there}/resolve", {"note": "found"}),
    ]


ROLES = ("hq", "auditor", "admin1", "commander", "vet1", "armorer", "vol1", "commander2")
EXPECTED = {
    # endpoint:            hq   auditor admin1 cmd_b1 vet1 arm_b1 vol1 cmd_r2
    "list":                (200, 200,   200,   200,   200, 200,   200, 200),
    "list bad kind":       (400, 400,   400,   400,   400, 400,   400, 400),
    "read overdue":        (200, 200,   200,   200,   200, 200,   404, 404),
    "read expiring":       (200, 200,   200,   200,   200, 200,   404, 404),
    "read other region":   (200, 200,   404,   404,   404, 404,   404, 200),
    "read unknown":        (404, 404,   404,   404,   404, 404,   404, 404),
    # overdue: the arms room's armorers and the holder's commanders act.
    "ack overdue":         (403, 403,   403,   200,   403, 200,   404, 404),
    # expiring: the person's vetting officers and commanders act.
    "ack expiring":        (403, 403,   403,   200,   200, 403,   404, 404),
    "ack other region":    (403, 403,   404,   404,   404, 404,   404, 200),
    "resolve overdue":     (403, 403,   403,   200,   403, 200,   404, 404),
    "resolve without note": (403, 403,  403,   400,   403, 400,   404, 404),
    "resolve other region": (403, 403,  404,   404,   404, 404,   404, 200),
}  # fmt: skip


@pytest.mark.parametrize("username", ROLES)
def test_each_role_reads_and_acts_on_only_its_alerts(alerts, username):
    walk(username, endpoints(alerts), EXPECTED, ROLES)


def test_every_alerts_endpoint_is_in_the_matrix():
    paths = {
        (method, path.removeprefix(API))
        for path, operations in api.get_openapi_schema()["paths"].items()
        if path.startswith(f"{API}/alerts")
        for method in operations
    }
    assert paths == {
        ("get", "/alerts"),
        ("get", "/alerts/{alert_id}"),
        ("post", "/alerts/{alert_id}/acknowledge"),
        ("post", "/alerts/{alert_id}/resolve"),
    }


def test_acknowledge_then_resolve_through_the_api(alerts):
    client = client_for("armorer")
    overdue = alerts["overdue"]
    done = client.post(
        f"{API}/alerts/{overdue.pk}/acknowledge", {"note": "calling"}, "application/json"
    )
    assert done.status_code == 200
    body = done.json()
    assert body["state"] == "acknowledged" and body["you_act"] is True
    assert [(e["action"], e["actor"], e["note"]) for e in body["entries"]] == [
        ("acknowledged", "armorer", "calling")
    ]
    again = client.post(f"{API}/alerts/{overdue.pk}/acknowledge", {}, "application/json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert again.json()["field"] == "state"
    done = client.post(f"{API}/alerts/{overdue.pk}/resolve", {"note": "back"}, "application/json")
    assert done.json()["state"] == "resolved" and done.json()["cleared"] is False
    missing = client.post(f"{API}/alerts/{overdue.pk}/resolve", {}, "application/json")
    assert missing.status_code == 400 and missing.json()["field"] == "note"
    read = client_for("hq").get(f"{API}/alerts/{overdue.pk}").json()
    assert read["you_act"] is False and len(read["entries"]) == 2


def test_lists_are_filtered_and_paginated(alerts, org):
    client = client_for("hq")
    everything = client.get(f"{API}/alerts").json()
    assert everything["count"] == Alert.objects.count()
    page = client.get(f"{API}/alerts", {"limit": 2, "offset": 1}).json()
    assert [a["id"] for a in page["items"]] == [a["id"] for a in everything["items"][1:3]]
    kinds = {a["kind"] for a in client.get(f"{API}/alerts", {"kind": "variance"}).json()["items"]}
    assert kinds == {"variance"}
    r2 = client.get(f"{API}/alerts", {"unit": "R2"}).json()
    assert {a["site"] for a in r2["items"]} == {"ARM-2"}
    mine = client.get(f"{API}/alerts", {"person_id": alerts["expiring"].person_id}).json()
    assert {a["kind"] for a in mine["items"]} == {"overdue", "expiring"}
    assert client.get(f"{API}/alerts", {"state": "resolved"}).json()["count"] == 0
    bad = client.get(f"{API}/alerts", {"unit": "NOPE"}).json()
    assert bad["code"] == "invalid"
    assert bad["problems"][0]["field"] == "unit"
    listed = client_for("commander2").get(f"{API}/alerts").json()
    assert {a["site"] for a in listed["items"]} == {"ARM-2"}
    assert client_for("vol1").get(f"{API}/alerts").json()["count"] == 0
