"""The REST API as a script or an htmx page uses it: tokens and sessions, the one error shape,
an issue and return with the second person, a refusal with its reasons, and what each role
may read and do over two regions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from api_matrix import API, ROLES, client_for, token_for, walk
from muster.accounts.models import ApiToken, LoginState, User
from muster.accounts.services import grant_role
from muster.accounts.throttle import check_password
from muster.armory.models import Item, Site
from muster.armory.services.catalogue import create_site
from muster.armory.services.counts import start_count
from muster.armory.services.movements import dispatch_transfer
from muster.core.actors import Actor
from muster.core.errors import AuthenticationFailed
from muster.journal.models import JournalEntry
from muster.people.models import Person, Unit
from muster.people.services import create_unit
from muster.vetting.models import Qualification

PASSWORD = "correct horse battery staple"  # every user's password in the armory fixture

CSRF = "a" * 32


@pytest.fixture
def armorer(armory) -> Client:
    return client_for("armorer")


def rifle(serial: str = "R0001") -> Item:
    return Item.objects.get(serial=serial)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert set(body) >= {"code", "message", "field", "problems"}
    for problem in body["problems"]:
        assert set(problem) == {"record", "field", "rule", "value"}
    return body


# Authentication -------------------------------------------------------------------------------


def test_a_token_authenticates_and_a_missing_or_wrong_one_is_401(armory, rifleman):
    good = client_for("armorer").get(f"{API}/items", {"site": "ARM-1"})
    assert good.status_code == 200
    assert good.json()["count"] == 10
    assert_error(Client().get(f"{API}/items"), 401, "unauthenticated")
    assert_error(
        Client(HTTP_AUTHORIZATION="Bearer not-a-token").get(f"{API}/items"), 401, "unauthenticated"
    )
    assert_error(
        Client().post(f"{API}/custody/issue", {}, "application/json"), 401, "unauthenticated"
    )


def test_the_session_authenticates_and_writes_need_the_csrf_token(armory, rifleman):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="armorer"))
    assert client.get(f"{API}/people/{rifleman.pk}").status_code == 200
    body = {"person_id": rifleman.pk, "serials": ["R0001"]}
    assert_error(client.post(f"{API}/custody/issue", body, "application/json"), 403, "forbidden")
    client.cookies["csrftoken"] = CSRF
    with_token = client.post(
        f"{API}/custody/issue", body, "application/json", HTTP_X_CSRFTOKEN=CSRF
    )
    # Past authentication and CSRF, the two-person rule refuses it.
    assert_error(with_token, 400, "invalid")


# Errors ---------------------------------------------------------------------------------------


def test_bad_input_is_400_with_the_field(armorer, rifleman):
    body = assert_error(
        armorer.post(f"{API}/custody/issue", {"person_id": "x"}, "application/json"),
        400,
        "invalid",
    )
    assert {p["field"] for p in body["problems"]} >= {"person_id", "serials"}
    body = assert_error(
        armorer.post(
            f"{API}/custody/issue",
            {"person_id": rifleman.pk, "serials": ["R0001"]},
            "application/json",
        ),
        400,
        "invalid",
    )
    assert body["field"] == "second_person"
    assert "two-person rule" in body["message"]


def test_an_unknown_record_is_404(armorer):
    assert_error(armorer.get(f"{API}/people/999999"), 404, "not_found")
    assert_error(armorer.get(f"{API}/items/999999"), 404, "not_found")
    body = assert_error(
        armorer.post(
            f"{API}/custody/issue",
            {"person_id": 999999, "serials": ["R0001"]},
            "application/json",
        ),
        404,
        "not_found",
    )
    assert body["field"] == "id"


def test_a_wrong_second_password_is_refused_and_nothing_changes(armorer, rifleman):
    body = assert_error(
        armorer.post(
            f"{API}/custody/issue",
            {
                "person_id": rifleman.pk,
                "serials": ["R0001"],
                "second_username": "commander",
                "second_password": "wrong",
            },
            "application/json",
        ),
        400,
        "invalid",
    )
    assert body["field"] == "second_password"
    assert rifle().place == "site"


# Custody --------------------------------------------------------------------------------------


def test_issue_and_return_round_trip_with_the_second_person(armorer, rifleman):
    issued = armorer.post(
        f"{API}/custody/issue",
        {
            "person_id": rifleman.pk,
            "serials": ["R0001"],
            "hours": 8,
            "purpose": "night patrol",
            "second_username": "commander",
            "second_password": PASSWORD,
        },
        "application/json",
    )
    assert issued.status_code == 201, issued.content
    out = issued.json()
    assert [(i["serial"], i["place"], i["holder_id"]) for i in out["items"]] == [
        ("R0001", "person", rifleman.pk)
    ]
    assert out["decisions"][0]["allowed"] is True
    assert out["items"][0]["due_at"] is not None

    held = armorer.get(f"{API}/people/{rifleman.pk}/holdings").json()
    assert [i["serial"] for i in held["items"]] == ["R0001"]

    returned = armorer.post(
        f"{API}/custody/return",
        {
            "person_id": rifleman.pk,
            "serials": ["R0001"],
            "condition": "unserviceable",
            "note": "bent sling swivel",
            "second_username": "commander",
            "second_password": PASSWORD,
        },
        "application/json",
    )
    assert returned.status_code == 200, returned.content
    assert [(i["place"], i["site"], i["condition"]) for i in returned.json()] == [
        ("site", "ARM-1", "unserviceable")
    ]
    history = armorer.get(f"{API}/items/{rifle().pk}/history").json()
    assert [e["kind"] for e in history] == [
        "custody.received",
        "custody.issued",
        "custody.returned",
    ]
    assert history[1]["data"]["second_person"] == "commander"
    assert history[1]["actor"] == "armorer"


def test_the_second_person_may_confirm_with_their_own_api_token(armorer, rifleman):
    second = {"second_token": token_for("commander")}
    body = {"person_id": rifleman.pk, "serials": ["R0001"]}
    issued = armorer.post(f"{API}/custody/issue", {**body, **second}, "application/json")
    assert issued.status_code == 201, issued.content
    returned = armorer.post(f"{API}/custody/return", {**body, **second}, "application/json")
    assert returned.status_code == 200, returned.content
    history = armorer.get(f"{API}/items/{rifle().pk}/history").json()
    assert [(e["kind"], e["data"].get("second_person")) for e in history[1:]] == [
        ("custody.issued", "commander"),
        ("custody.returned", "commander"),
    ]


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"second_token": "mst_nothing_here"}, "second_token"),
        ({"second_token": "REVOKED"}, "second_token"),
        ({"second_token": "COMMANDER", "second_username": "commander"}, "second_token"),
        ({"second_password": PASSWORD}, "second_username"),
    ],
)
def test_a_second_person_not_proved_is_refused_and_nothing_changes(
    armorer, rifleman, second, field
):
    raw = token_for("commander")
    if second.get("second_token") == "REVOKED":
        ApiToken.objects.filter(user__username="commander").update(revoked_at=timezone.now())
    if second.get("second_token") in {"REVOKED", "COMMANDER"}:
        second = {**second, "second_token": raw}
    body = {"person_id": rifleman.pk, "serials": ["R0001"], **second}
    refused = armorer.post(f"{API}/custody/issue", body, "application/json")
    assert assert_error(refused, 400, "invalid")["field"] == field
    assert rifle().place == "site"


def test_a_locked_accounts_token_stops_working_until_the_lock_ends(armorer, rifleman):
    raw = token_for("commander")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(AuthenticationFailed):
            check_password(username="commander", password="wrong")
    as_commander = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert as_commander.get(f"{API}/people").status_code == 401
    body = {"person_id": rifleman.pk, "serials": ["R0001"], "second_token": raw}
    refused = armorer.post(f"{API}/custody/issue", body, "application/json")
    assert assert_error(refused, 400, "invalid")["field"] == "second_token"
    LoginState.objects.filter(username="commander").update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert as_commander.get(f"{API}/people").status_code == 200


def test_a_refused_issue_is_422_with_the_decision_and_its_reasons(armorer, make_person):
    recruit = make_person(national_id="VD50000009")
    response = armorer.post(
        f"{API}/custody/issue",
        {
            "person_id": recruit.pk,
            "serials": ["R0001"],
            "second_username": "commander",
            "second_password": PASSWORD,
        },
        "application/json",
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "refused"
    assert body["decision"]["allowed"] is False
    assert body["decision"]["target"] == "firearm/rifle"
    assert body["decision"]["policy"]
    assert body["reasons"] and all(not r["ok"] for r in body["reasons"])
    assert any("psych_assessment" in r["rule"] or "psych" in r["message"] for r in body["reasons"])
    assert rifle().place == "site"
    assert JournalEntry.objects.filter(kind="custody.issue_refused").count() == 1


def test_eligibility_explains_itself(armorer, rifleman):
    response = armorer.get(f"{API}/people/{rifleman.pk}/eligibility", {"category": "firearm"})
    assert response.status_code == 200, response.content
    (decision,) = [d for d in response.json() if d["target"] == "firearm/rifle"]
    assert decision["allowed"] is True
    assert all(r["ok"] for r in decision["reasons"])


def test_reading_a_person_is_journaled_with_why(armorer, rifleman):
    armorer.get(f"{API}/people/{rifleman.pk}", {"why": "issue at the gate"})
    entry = JournalEntry.objects.filter(kind="person.viewed").get()
    assert (entry.actor, entry.subject_id) == ("armorer", str(rifleman.pk))
    assert "issue at the gate" in entry.body


def test_a_blind_count_with_a_missing_item_reports_its_variance(armorer, armory):
    started = armorer.post(
        f"{API}/counts", {"site": "ARM-1", "counter": "clerk"}, "application/json"
    )
    assert started.status_code == 201, started.content
    count = started.json()
    assert (count["status"], count["blind"], count["counter"]) == ("open", True, "clerk")
    clerk = client_for("clerk")
    recorded = clerk.post(
        f"{API}/counts/{count['id']}/records",
        {"serials": [f"R{n:04d}" for n in range(1, 10)]},
        "application/json",
    )
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["recorded"] == 9
    assert_error(
        armorer.post(
            f"{API}/counts/{count['id']}/records", {"serials": ["R0010"]}, "application/json"
        ),
        400,
        "invalid",
    )  # only the assigned counter records
    closed = clerk.post(f"{API}/counts/{count['id']}/close")
    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert body["count"]["status"] == "closed"
    assert [(v["kind"], v["serial"]) for v in body["variances"]] == [("missing", "R0010")]
    proof = armorer.get(f"{API}/items/{rifle('R0010').pk}/proof")
    assert proof.status_code == 200
    assert proof["Content-Type"].startswith("text/plain")


def test_transfer_dispatch_and_receive(armorer, armory):
    armory["room"]  # the company store, in the armorer's battalion
    sent = armorer.post(
        f"{API}/transfers",
        {"from_site": "ARM-1", "to_site": "STORE-1", "serials": ["R0001"]},
        "application/json",
    )
    # The company store is not certified for firearms: refused with the storage rule.
    assert_error(sent, 400, "invalid")


def test_loss_report_opens_an_incident(armorer, armory):
    reported = armorer.post(
        f"{API}/custody/missing",
        {"serials": ["R0002"], "summary": "not in its rack at the morning count"},
        "application/json",
    )
    assert reported.status_code == 201, reported.content
    assert reported.json()["kind"] == "loss"
    assert rifle("R0002").place == "lost"
    listed = armorer.get(f"{API}/incidents").json()
    assert [i["id"] for i in listed["items"]] == [reported.json()["id"]]


# Scoping: every role over two regions ----------------------------------------------------------


@pytest.fixture
def world(armory, org, actor, make_person, rifleman):
    """Region R1: battalion B1 (company C1, with the rifleman) and B2; region R2: battalion
    B3. One account per role; the armorer and commander of B1 come from the armory."""
    b2 = create_unit(actor=actor, code="R1-B2", name="2nd", kind="battalion", parent=org["region"])
    b3 = create_unit(
        actor=actor, code="R2-B3", name="3rd", kind="battalion", parent=org["other_region"]
    )
    people = {"c1": rifleman, "b2": make_person(unit=b2), "b3": make_person(unit=b3)}
    grants = {
        "hq": ("hq_staff", None),
        "auditor": ("auditor", None),
        "admin1": ("regional_admin", org["region"]),
        "vet": ("vetting_officer", org["battalion"]),
        "vol": ("volunteer", org["company"]),
    }
    for username, (role, unit) in grants.items():
        User.objects.create_user(username=username, password=PASSWORD)
        grant_role(actor=actor, username=username, role=role, unit=unit)
    User.objects.filter(username="vol").update(person=people["c1"])
    return {"people": people, "b3": b3}


def in_progress() -> dict[str, int]:
    """Work under way in the 1st Battalion for the matrix to read and finish: rifle R0010 in
    transit from ARM-1 to a second vault, ARM-1B; an open count of STORE-1 whose independent
    counter is the volunteer; and the rifleman's first qualification."""
    armorer = Actor.for_user(User.objects.get(username="armorer"))
    spare = create_site(
        actor=Actor.system("tests"),
        code="ARM-1B",
        name="1st Battalion spare vault",
        unit=Unit.objects.get(code="R1-B1"),
        security_level="vault_alarmed",
        certified_on=dt.date(2026, 1, 15),
        capacities={"firearm": 50},
    )
    transfer = dispatch_transfer(
        actor=armorer, from_site=Site.objects.get(code="ARM-1"), to_site=spare,
        item_ids=[rifle("R0010").pk],
    )  # fmt: skip
    count = start_count(
        actor=armorer, site=Site.objects.get(code="STORE-1"),
        counter=User.objects.get(username="vol"), category=None,
    )  # fmt: skip
    qualification = Qualification.objects.filter(person__national_id="VD50000001").order_by("pk")
    return {"transfer": transfer.pk, "count": count.pk, "qualification": qualification[0].pk}


def endpoints(world):
    """(name, method, path, body) for each endpoint the matrix walks."""
    p = {k: v.pk for k, v in world["people"].items()}
    item = rifle().pk
    today = dt.date.today().isoformat()
    w = in_progress()
    transfer, count = f"/transfers/{w['transfer']}", f"/counts/{w['count']}"
    move = {"unit": "R1-B1", "since": today, "reason": "posting"}
    new_person = {
        "national_id": "NEW0000001", "family_name": "Nova", "given_name": "Iryna",
        "unit": "R2-B3", "joined_on": today,
    }  # fmt: skip
    return [
        ("list people", "get", "/people", None),
        ("read own region person", "get", f"/people/{p['c1']}", None),
        ("read other battalion", "get", f"/people/{p['b2']}", None),
        ("read other region", "get", f"/people/{p['b3']}", None),
        ("qualifications other region", "get", f"/people/{p['b3']}/qualifications", None),
        ("read rifle", "get", f"/items/{item}", None),
        ("rifle history", "get", f"/items/{item}/history", None),
        ("register in R2", "post", "/people", new_person),
        ("suspend in B2", "post", f"/people/{p['b2']}/suspend", {"reason": "inquiry"}),
        ("suspend in R2", "post", f"/people/{p['b3']}/suspend", {"reason": "inquiry"}),
        (
            "award in R2",
            "post",
            f"/people/{p['b3']}/qualifications",
            {"type": "first_aid", "obtained_on": today},
        ),
        ("issue", "post", "/custody/issue", {"person_id": p["c1"], "serials": ["R0001"]}),
        ("count", "post", "/counts", {"site": "ARM-1", "counter": "clerk"}),
        ("list units", "get", "/units", None),
        ("list items", "get", "/items", None),
        ("rifle proof", "get", f"/items/{item}/proof", None),
        ("own holdings", "get", f"/people/{p['c1']}/holdings", None),
        ("eligibility other battalion", "get", f"/people/{p['b2']}/eligibility", None),
        ("move from B2", "post", f"/people/{p['b2']}/move", move),
        ("move from R2", "post", f"/people/{p['b3']}/move", move),
        ("reinstate in B2", "post", f"/people/{p['b2']}/reinstate", {"reason": "cleared"}),
        ("revoke", "post", f"/qualifications/{w['qualification']}/revoke", {"reason": "void"}),
        ("return", "post", "/custody/return", {"person_id": p["c1"], "serials": ["R0001"]}),
        ("report missing", "post", "/custody/missing", {"serials": ["R0001"], "summary": "gone"}),
        ("transfer", "post", "/transfers",
         {"from_site": "ARM-1", "to_site": "ARM-1B", "serials": ["R0001"]}),
        ("read transfer", "get", transfer, None),
        ("receive transfer", "post", f"{transfer}/receive", {"serials": ["R0010"]}),
        ("recalls", "get", "/recalls", None),
        ("list counts", "get", "/counts", None),
        ("read count", "get", count, None),
        ("record count", "post", f"{count}/records", {"serials": ["R0001"]}),
        ("close count", "post", f"{count}/close", None),
        ("list incidents", "get", "/incidents", None),
    ]  # fmt: skip


EXPECTED = {
    # endpoint:              hq   auditor admin1 cmd_b1 vet  arm_b1 vol
    "list people":           (200, 200,   200,   200,   200, 200,   200),
    "read own region person": (200, 200,  200,   200,   200, 200,   200),
    "read other battalion":  (200, 200,   200,   404,   200, 404,   404),
    "read other region":     (200, 200,   404,   404,   404, 404,   404),
    "qualifications other region": (200, 200, 404, 404, 404, 404,   404),
    "read rifle":            (200, 200,   200,   200,   404, 200,   404),
    "rifle history":         (200, 200,   200,   200,   404, 200,   404),
    "register in R2":        (201, 403,   404,   404,   403, 403,   403),
    "suspend in B2":         (403, 403,   403,   403,   200, 403,   403),
    "suspend in R2":         (403, 403,   403,   403,   404, 403,   403),
    "award in R2":           (403, 403,   403,   403,   404, 403,   403),
    "issue":                 (403, 403,   403,   403,   403, 400,   403),
    "count":                 (403, 403,   403,   403,   403, 201,   403),
    "list units":            (200, 200,   200,   200,   200, 200,   200),
    "list items":            (200, 200,   200,   200,   200, 200,   200),
    "rifle proof":           (200, 200,   200,   200,   404, 200,   404),
    "own holdings":          (200, 200,   200,   200,   200, 200,   200),
    "eligibility other battalion": (200, 200, 200, 404,   200, 404,   404),
    "move from B2":          (200, 403,   200,   404,   403, 403,   403),
    "move from R2":          (200, 403,   404,   404,   403, 403,   403),
    # The vetting officer may reinstate; B2's volunteer is active already.
    "reinstate in B2":       (403, 403,   403,   403,   400, 403,   403),
    "revoke":                (403, 403,   403,   403,   200, 403,   403),
    # The armorer may take back; R0001 is at its site, not issued.
    "return":                (403, 403,   403,   403,   403, 400,   403),
    "report missing":        (403, 403,   403,   403,   403, 201,   403),
    "transfer":              (403, 403,   403,   403,   403, 201,   403),
    "read transfer":         (200, 200,   200,   200,   404, 200,   404),
    "receive transfer":      (403, 403,   403,   403,   403, 200,   403),
    "recalls":               (200, 200,   200,   200,   200, 200,   200),
    "list counts":           (200, 200,   200,   200,   200, 200,   200),
    # Only the assigned counter (here the volunteer) records; they may close it, as the
    # armorer may.
    "read count":            (200, 200,   200,   200,   404, 200,   200),
    "record count":          (400, 400,   400,   400,   404, 400,   201),
    "close count":           (403, 403,   403,   403,   404, 200,   200),
    "list incidents":        (200, 200,   200,   200,   200, 200,   200),
}  # fmt: skip


@pytest.mark.parametrize("username", ROLES)
def test_each_role_reads_and_writes_only_its_scope(world, username):
    walk(username, endpoints(world), EXPECTED)


def test_a_volunteer_sees_only_themselves(world):
    vol = client_for("vol")
    listed = vol.get(f"{API}/people").json()
    assert [p["id"] for p in listed["items"]] == [world["people"]["c1"].pk]
    assert vol.get(f"{API}/items").json()["count"] == 0
    assert vol.get(f"{API}/units").json()["count"] == 0


def test_lists_are_paginated_and_filtered(armorer):
    page = armorer.get(f"{API}/items", {"limit": 3, "offset": 3, "category": "firearm"}).json()
    assert page["count"] == 10
    assert [i["serial"] for i in page["items"]] == ["R0004", "R0005", "R0006"]
    assert armorer.get(f"{API}/items", {"serial": "R0007"}).json()["count"] == 1
    units = armorer.get(f"{API}/units").json()["items"]
    assert [(u["code"], u["depth"]) for u in units] == [("R1-B1", 1), ("R1-B1-C1", 2)]


def test_a_user_with_two_roles_changes_the_roster_only_where_a_role_allows(world, org, actor):
    """The armory's armorer (of B1) is also made commander of B2: they see both battalions'
    people, but move or register people only in B2."""
    b2 = Unit.objects.get(code="R1-B2")
    grant_role(actor=actor, username="armorer", role="commander", unit=b2)
    client = client_for("armorer")
    c1, in_b2 = world["people"]["c1"], world["people"]["b2"]
    assert client.get(f"{API}/people/{c1.pk}").status_code == 200
    today = dt.date.today().isoformat()
    move = {"unit": "R1-B2", "reason": "transfer", "since": today}
    refused = client.post(f"{API}/people/{c1.pk}/move", move, "application/json")
    assert assert_error(refused, 403, "forbidden")["field"] == "unit"
    assert Person.objects.get(pk=c1.pk).unit_id == org["company"].pk
    new = {"national_id": "NEW0000009", "family_name": "Nova", "given_name": "Iryna",
           "joined_on": today}  # fmt: skip
    assert (
        client.post(f"{API}/people", {**new, "unit": "R1-B1"}, "application/json").status_code
        == 403
    )
    assert (
        client.post(f"{API}/people", {**new, "unit": "R1-B2"}, "application/json").status_code
        == 201
    )
    create_unit(actor=actor, code="R1-B2-C1", name="1st", kind="company", parent=b2)
    back = {"unit": "R1-B2-C1", "reason": "rotation", "since": today}
    assert client.post(f"{API}/people/{in_b2.pk}/move", back, "application/json").status_code == 200
