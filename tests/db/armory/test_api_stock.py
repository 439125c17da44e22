"""The stock operations of the REST API as an armorer's script uses them: maintenance, recovery
and disposal, ammunition by lot, kits, emergency issues, shipments, the catalogue and sites,
variance resolution and incidents — and what each role may do with them over two regions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import test_api
from django.test import Client
from django.utils import timezone
from test_api import PASSWORD, assert_error, rifle

from api_matrix import API, ROLES, client_for, walk
from muster.accounts.models import User
from muster.armory.models import Incident, Item, Kit, Lot, LotBalance, Site, Variance
from muster.armory.selectors import item_by_serial
from muster.armory.services.ammunition import issue_ammunition, receive_lot
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.counts import close_count, record_count, start_count
from muster.armory.services.emergency import emergency_issue
from muster.armory.services.incidents import open_incident
from muster.armory.services.kits import define_kit, issue_kit
from muster.armory.services.movements import report_missing, send_to_maintenance
from muster.core.actors import Actor
from muster.journal.models import JournalEntry
from muster.vetting.services import NewQualification, award_qualifications

# test_api's two regions with one account per role, as a fixture of this module too.
two_regions = test_api.world
SECOND = {"second_username": "commander", "second_password": PASSWORD}


@pytest.fixture
def armorer(armory) -> Client:
    return client_for("armorer")


@pytest.fixture
def commander(armory) -> Client:
    return client_for("commander")


def post(client: Client, path: str, body: dict | None = None):
    return client.post(f"{API}{path}", body or {}, "application/json")


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()


def kinds(serial: str) -> list[str]:
    return list(
        JournalEntry.objects.filter(subject_type="item", subject_id=str(rifle(serial).pk))
        .order_by("seq")
        .values_list("kind", flat=True)
    )


def receive_radios(armory, *serials: str) -> None:
    receive_items(
        actor=armory["armorer"],
        site=armory["vault"],
        reference=f"SHIP-RAD-{serials[0]}",
        items=[NewItem("RAD-DMR", s) for s in serials],
    )


def qualify_for_radio(person, actor) -> None:
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=person,
                type_code="radio_operator",
                obtained_on=dt.date.today() - dt.timedelta(days=10),
            )
        ],
    )


@pytest.fixture
def other_region(org, armory, actor):
    """A vault in region R2 with one rifle, kept by its own custodian."""
    from muster.people.services import create_unit

    unit = create_unit(
        actor=actor, code="R2-B9", name="9th", kind="battalion", parent=org["other_region"]
    )
    keeper = User.objects.create_user(username="keeper2", password=PASSWORD)
    site = create_site(
        actor=actor,
        code="ARM-2",
        name="9th Battalion arms room",
        unit=unit,
        security_level="vault_alarmed",
        certified_on=dt.date(2026, 1, 15),
        custodians=[keeper],
    )
    receive_items(
        actor=Actor.for_user(keeper),
        site=site,
        reference="SHIP-R2",
        items=[NewItem("VPR-223", "S0001")],
    )
    return site


# Maintenance, recovery, disposal --------------------------------------------------------------


def test_items_go_to_maintenance_and_come_back_in_the_condition_given(armorer):
    sent = ok(
        post(
            armorer,
            "/maintenance/send",
            {"serials": ["R0001", "R0002"], "provider": "Arsenal Ltd", "reason": "annual service"},
        )
    )
    assert [(i["serial"], i["place"], i["site"]) for i in sent] == [
        ("R0001", "maintenance", None),
        ("R0002", "maintenance", None),
    ]
    assert rifle("R0001").place == "maintenance"
    back = ok(
        post(
            armorer,
            "/maintenance/receive",
            {"serials": ["R0001"], "site": "ARM-1", "condition": "unserviceable"},
        )
    )
    assert [(i["place"], i["site"], i["condition"]) for i in back] == [
        ("site", "ARM-1", "unserviceable")
    ]
    assert (rifle("R0001").place, rifle("R0002").place) == ("site", "maintenance")
    assert kinds("R0001")[-2:] == [
        "custody.sent_to_maintenance",
        "custody.returned_from_maintenance",
    ]


def test_maintenance_refuses_bad_input_naming_the_field(armorer, other_region):
    body = assert_error(
        post(armorer, "/maintenance/send", {"serials": ["R0001"], "provider": " ", "reason": "x"}),
        400,
        "invalid",
    )
    assert body["field"] == "provider"
    body = assert_error(
        post(armorer, "/maintenance/receive", {"serials": ["R0001"], "site": "ARM-1"}),
        400,
        "invalid",
    )
    assert body["field"] == "place"  # it is at a site, not in maintenance
    body = assert_error(post(armorer, "/maintenance/send", {"serials": []}), 400, "invalid")
    assert {p["field"] for p in body["problems"]} >= {"serials", "provider", "reason"}
    assert_error(
        post(armorer, "/maintenance/send", {"serials": ["S0001"], "provider": "A", "reason": "B"}),
        404,
        "not_found",
    )
    assert item_by_serial("S0001").place == "site"


def test_a_lost_item_is_recovered_into_a_site_awaiting_inspection(armorer, other_region):
    ok(post(armorer, "/custody/missing", {"serials": ["R0002"], "summary": "not in its rack"}), 201)
    assert_error(
        post(armorer, "/custody/recover", {"serial": "R0002", "site": "ARM-2", "note": "found"}),
        404,
        "not_found",
    )
    body = assert_error(
        post(armorer, "/custody/recover", {"serial": "R0002", "site": "ARM-1", "note": " "}),
        400,
        "invalid",
    )
    assert body["field"] == "note"
    item = ok(
        post(
            armorer,
            "/custody/recover",
            {"serial": "R0002", "site": "ARM-1", "note": "found behind the rack"},
        )
    )
    assert (item["place"], item["site"], item["condition"]) == (
        "site",
        "ARM-1",
        "awaiting_inspection",
    )
    assert kinds("R0002")[-1] == "custody.recovered"
    body = assert_error(
        post(armorer, "/custody/recover", {"serial": "R0003", "site": "ARM-1", "note": "x"}),
        400,
        "invalid",
    )
    assert body["field"] == "place"


def test_disposal_needs_the_second_person(armorer):
    body = assert_error(
        post(armorer, "/custody/dispose", {"serial": "R0003", "reason": "cracked receiver"}),
        400,
        "invalid",
    )
    assert body["field"] == "second_person"
    assert rifle("R0003").place == "site"
    item = ok(
        post(
            armorer,
            "/custody/dispose",
            {"serial": "R0003", "reason": "cracked receiver", **SECOND},
        )
    )
    assert (item["place"], item["site"]) == ("disposed", None)
    entry = JournalEntry.objects.filter(kind="custody.disposed").get()
    assert (entry.actor, entry.subject_id) == ("armorer", str(rifle("R0003").pk))
    assert '"second_person":"commander"' in entry.body.replace(" ", "")


# Ammunition -----------------------------------------------------------------------------------


def test_ammunition_is_received_issued_returned_and_expended_to_the_round(armorer, rifleman):
    lot = ok(
        post(
            armorer,
            "/ammunition/receive",
            {
                "site": "ARM-1",
                "model": "AMM-556",
                "lot": "L-1",
                "quantity": 500,
                "reference": "S-9",
            },
        ),
        201,
    )
    assert (lot["model"], lot["lot"], lot["received_total"]) == ("AMM-556", "L-1", 500)
    issued = ok(
        post(
            armorer,
            "/ammunition/issue",
            {"person_id": rifleman.pk, "site": "ARM-1", "lot": "L-1", "quantity": 60, **SECOND},
        ),
        201,
    )
    assert (issued["site_balance"], issued["person_balance"]) == (440, 60)
    returned = ok(
        post(
            armorer,
            "/ammunition/return",
            {"person_id": rifleman.pk, "site": "ARM-1", "lot": "L-1", "quantity": 20},
        )
    )
    assert (returned["site_balance"], returned["person_balance"]) == (460, 40)
    expended = ok(
        post(
            armorer,
            "/ammunition/expend",
            {"person_id": rifleman.pk, "lot": "L-1", "quantity": 30, "reason": "range training"},
        )
    )
    assert (expended["site"], expended["person_balance"]) == (None, 10)
    balances = ok(armorer.get(f"{API}/ammunition/balances", {"model": "AMM-556"}))
    assert [(b["lot"], b["site"], b["holder_id"], b["quantity"]) for b in balances["items"]] == [
        ("L-1", "ARM-1", None, 460),
        ("L-1", None, rifleman.pk, 10),
    ]
    assert ok(armorer.get(f"{API}/ammunition/balances", {"holder": rifleman.pk}))["count"] == 1
    lot_row = Lot.objects.get(lot_number="L-1")
    assert (lot_row.received_total, lot_row.expended_total) == (500, 30)
    assert list(
        JournalEntry.objects.filter(subject_type="lot")
        .order_by("seq")
        .values_list("kind", flat=True)
    ) == ["lot.received", "ammunition.issued", "ammunition.returned", "ammunition.expended"]


def test_ammunition_refuses_more_than_is_there_and_a_person_policy_refuses(
    armorer, armory, rifleman, make_person
):
    receive_lot(
        actor=armory["armorer"],
        site=armory["vault"],
        model_code="AMM-556",
        lot_number="L-1",
        quantity=100,
        reference="S-9",
    )
    body = assert_error(
        post(
            armorer,
            "/ammunition/expend",
            {"person_id": rifleman.pk, "lot": "L-1", "quantity": 5, "reason": "range"},
        ),
        400,
        "invalid",
    )
    assert body["field"] == "quantity"
    body = assert_error(
        post(
            armorer,
            "/ammunition/issue",
            {"person_id": rifleman.pk, "site": "ARM-1", "lot": "L-1", "quantity": 0, **SECOND},
        ),
        400,
        "invalid",
    )
    assert body["field"] == "quantity"
    body = assert_error(
        post(
            armorer,
            "/ammunition/issue",
            {"person_id": rifleman.pk, "site": "ARM-1", "lot": "NOPE", "quantity": 5, **SECOND},
        ),
        404,
        "not_found",
    )
    assert body["field"] == "lot"
    recruit = make_person(national_id="VD50000009")
    refused = post(
        armorer,
        "/ammunition/issue",
        {"person_id": recruit.pk, "site": "ARM-1", "lot": "L-1", "quantity": 5, **SECOND},
    )
    assert refused.status_code == 422, refused.content
    body = refused.json()
    assert body["code"] == "refused"
    assert body["reasons"] and all(not r["ok"] and r["rule"] for r in body["reasons"])
    assert LotBalance.objects.get(site=armory["vault"]).quantity == 100
    assert JournalEntry.objects.filter(kind="custody.issue_refused").count() == 1


# Kits -----------------------------------------------------------------------------------------


def test_a_kit_is_defined_issued_whole_and_returned_short(armorer, armory, rifleman, actor):
    receive_radios(armory, "D-0001")
    qualify_for_radio(rifleman, actor)
    kit = ok(
        post(
            armorer,
            "/kits",
            {"code": "K-01", "name": "Rifleman's kit", "serials": ["R0001", "D-0001"]},
        ),
        201,
    )
    assert (kit["code"], sorted(i["serial"] for i in kit["items"])) == ("K-01", ["D-0001", "R0001"])
    assert ok(armorer.get(f"{API}/kits", {"code": "K-01"}))["count"] == 1
    issued = ok(
        post(armorer, "/kits/K-01/issue", {"person_id": rifleman.pk, "hours": 8, **SECOND}), 201
    )
    assert sorted((i["serial"], i["holder_id"]) for i in issued["items"]) == [
        ("D-0001", rifleman.pk),
        ("R0001", rifleman.pk),
    ]
    back = ok(
        post(
            armorer,
            "/kits/K-01/return",
            {"person_id": rifleman.pk, "serials": ["R0001"], **SECOND},
        )
    )
    assert [i["serial"] for i in back["returned"]] == ["R0001"]
    assert [(i["serial"], i["place"]) for i in back["shortage"]] == [("D-0001", "person")]
    assert rifle("R0001").place == "site"
    assert item_by_serial("D-0001").holder == rifleman
    assert JournalEntry.objects.filter(kind="kit.returned_incomplete").count() == 1


def test_a_kit_refuses_bad_input_and_an_unknown_kit_is_404(armorer, rifleman):
    body = assert_error(
        post(armorer, "/kits", {"code": "K-01", "name": "one item", "serials": ["R0001"]}),
        400,
        "invalid",
    )
    assert body["field"] == "items"
    assert not Kit.objects.exists()
    assert_error(
        post(armorer, "/kits/K-99/issue", {"person_id": rifleman.pk, **SECOND}), 404, "not_found"
    )


# Emergency issue ------------------------------------------------------------------------------


def test_a_commander_emergency_issues_and_another_person_reconciles(
    armory, commander, armorer, rifleman, vetted_rifleman
):
    other = vetted_rifleman("VD50000002")
    body = {
        "assignments": [
            {"person_id": rifleman.pk, "serials": ["R0001"]},
            {"person_id": other.pk, "serials": ["R0002", "R0003"]},
        ],
        "hours": 12,
    }
    refused = assert_error(post(armorer, "/emergency-issues", body), 400, "invalid")
    assert refused["field"] == "actor"
    out = ok(post(commander, "/emergency-issues", body), 201)
    assert [(o["person_id"], o["issued"], len(o["items"])) for o in out["outcomes"]] == [
        (rifleman.pk, True, 1),
        (other.pk, True, 2),
    ]
    assert all(i["emergency"] for o in out["outcomes"] for i in o["items"])
    assert rifle("R0002").holder == other

    reconciled = ok(
        post(
            commander,
            "/emergency-issues/reconcile",
            {"serial": "R0001", "second_username": "armorer", "second_password": PASSWORD},
        )
    )
    assert (reconciled["item"]["emergency"], reconciled["decision"]["allowed"]) == (False, True)
    assert kinds("R0001")[-1] == "custody.emergency_reconciled"
    body = assert_error(
        post(armorer, "/emergency-issues/reconcile", {"serial": "R0002", **SECOND}),
        400,
        "invalid",
    )
    assert body["field"] == "second_person"  # the commander ordered it

    assert ok(armorer.get(f"{API}/emergency-issues/unreconciled"))["count"] == 0
    Item.objects.filter(serial__in=["R0002", "R0003"]).update(
        issued_at=timezone.now() - dt.timedelta(hours=13)
    )
    late = ok(armorer.get(f"{API}/emergency-issues/unreconciled"))
    assert [(u["item"]["serial"], u["holder_id"]) for u in late["items"]] == [
        ("R0002", other.pk),
        ("R0003", other.pk),
    ]
    assert late["items"][0]["policy"] == "national@2026.1"


def test_an_emergency_issue_refused_for_everyone_is_422(commander, make_person):
    recruit = make_person(national_id="VD50000009")
    response = post(
        commander,
        "/emergency-issues",
        {"assignments": [{"person_id": recruit.pk, "serials": ["R0001"]}], "hours": 12},
    )
    assert response.status_code == 422, response.content
    assert response.json()["decision"]["allowed"] is False
    assert rifle("R0001").place == "site"


# Shipments ------------------------------------------------------------------------------------


def test_a_shipment_is_received_with_its_discrepancies(armorer, other_region):
    shipment = ok(
        post(
            armorer,
            "/shipments",
            {
                "site": "ARM-1",
                "reference": "SHIP-002",
                "items": [
                    {"model": "VPR-223", "serial": "R0100"},
                    {"model": "RAD-DMR", "serial": "D-0100", "condition": "awaiting_inspection"},
                ],
                "expected": [
                    {"model": "VPR-223", "serial": "R0100"},
                    {"model": "VPR-223", "serial": "R0101"},
                ],
            },
        ),
        201,
    )
    assert (shipment["site"], shipment["received_lines"], shipment["expected_lines"]) == (
        "ARM-1",
        2,
        2,
    )
    assert [(d["kind"], d["serial"]) for d in shipment["discrepancies"]] == [
        ("not_received", "R0101"),
        ("not_expected", "D-0100"),
    ]
    new = item_by_serial("D-0100")
    assert (new.place, new.site.code, new.condition) == ("site", "ARM-1", "awaiting_inspection")
    assert kinds("R0100") == ["custody.received"]
    body = assert_error(
        post(
            armorer,
            "/shipments",
            {"site": "ARM-1", "reference": "SHIP-001", "items": [{"model": "X", "serial": "1"}]},
        ),
        400,
        "invalid",
    )
    assert {p["field"] for p in body["problems"]} == {"reference", "model"}
    assert_error(
        post(
            armorer,
            "/shipments",
            {"site": "ARM-2", "reference": "S", "items": [{"model": "VPR-223", "serial": "9"}]},
        ),
        404,
        "not_found",
    )


# Catalogue and sites --------------------------------------------------------------------------


def test_the_catalogue_is_listed_and_a_model_past_the_legal_limit_is_refused(
    armory, armorer, actor
):
    from muster.accounts.services import grant_role

    User.objects.create_user(username="hq", password=PASSWORD)
    grant_role(actor=actor, username="hq", role="hq_staff", unit=None)
    hq = client_for("hq")
    categories = ok(armorer.get(f"{API}/categories", {"tracking": "quantity"}))
    assert [c["code"] for c in categories["items"]] == ["ammunition"]
    models = ok(armorer.get(f"{API}/models", {"category": "firearm"}))
    assert [(m["code"], m["attributes"]["magazine_capacity"]) for m in models["items"]] == [
        ("VPR-223", 10)
    ]
    model = {
        "code": "VPR-308",
        "name": "Civilian rifle .308",
        "category": "firearm",
        "legal_class": "civilian_rifle",
        "weapon_class": "rifle",
        "attributes": {"calibre": "7.62x51", "magazine_capacity": 30},
    }
    assert_error(post(armorer, "/models", model), 403, "forbidden")
    body = assert_error(post(hq, "/models", model), 400, "invalid")
    assert body["field"] == "magazine_capacity"
    assert "legal_limits" in body["problems"][0]["rule"]
    model["attributes"]["magazine_capacity"] = 10
    registered = ok(post(hq, "/models", model), 201)
    assert (registered["code"], registered["category"]) == ("VPR-308", "firearm")
    assert JournalEntry.objects.filter(kind="model.registered", subject_id="VPR-308").exists()


def test_a_regional_administrator_creates_a_site_in_their_region(two_regions, armorer):
    admin = client_for("admin1")
    site = {
        "code": "ARM-3",
        "name": "2nd Battalion arms room",
        "unit": "R1-B2",
        "security_level": "vault",
        "certified_on": "2026-02-01",
        "capacities": {"firearm": 40},
        "custodians": ["armorer"],
    }
    assert_error(post(armorer, "/sites", site), 403, "forbidden")
    assert_error(post(admin, "/sites", {**site, "unit": "R2-B3"}), 404, "not_found")
    body = assert_error(post(admin, "/sites", {**site, "security_level": "shed"}), 400, "invalid")
    assert body["field"] == "security_level"
    body = assert_error(post(admin, "/sites", {**site, "custodians": ["nobody"]}), 404, "not_found")
    assert body["field"] == "username"
    created = ok(post(admin, "/sites", site), 201)
    assert (created["unit"], created["capacities"], created["custodians"]) == (
        "R1-B2",
        {"firearm": 40},
        ["armorer"],
    )
    assert Site.objects.get(code="ARM-3").security_level == "vault"
    listed = ok(admin.get(f"{API}/sites", {"unit": "R1-B2"}))
    assert [s["code"] for s in listed["items"]] == ["ARM-3"]
    # The armorer keeps the new site, so sees it too.
    mine = ok(client_for("armorer").get(f"{API}/sites"))
    assert [s["code"] for s in mine["items"]] == ["ARM-1", "ARM-3", "STORE-1"]


# Variances ------------------------------------------------------------------------------------


def closed_count_missing_r0010(armory) -> Variance:
    count = start_count(
        actor=armory["armorer"],
        site=armory["vault"],
        counter=User.objects.get(username="clerk"),
        category="firearm",
    )
    record_count(actor=armory["clerk"], count=count, serials=[f"R{n:04d}" for n in range(1, 10)])
    (variance,) = close_count(actor=armory["clerk"], count=count)
    assert (variance.kind, variance.serial) == ("missing", "R0010")
    return variance


def test_a_missing_variance_is_resolved_as_reported_lost(armory, armorer):
    variance = closed_count_missing_r0010(armory)
    path = f"/counts/{variance.count_id}/variances"
    listed = ok(armorer.get(f"{API}{path}", {"resolved": False}))
    assert [(v["id"], v["resolution"]) for v in listed["items"]] == [(variance.pk, "")]
    clerk = client_for("clerk")  # the counter sees the count, but resolving is not theirs
    assert_error(post(clerk, f"{path}/{variance.pk}/resolve", {}), 400, "invalid")
    assert_error(
        post(clerk, f"{path}/{variance.pk}/resolve", {"resolution": "found", "note": "x"}),
        403,
        "forbidden",
    )
    body = assert_error(
        post(armorer, f"{path}/{variance.pk}/resolve", {"resolution": "correction", "note": "x"}),
        400,
        "invalid",
    )
    assert body["field"] == "resolution"
    assert_error(
        post(armorer, f"{path}/999999/resolve", {"resolution": "found", "note": "x"}),
        404,
        "not_found",
    )
    resolved = ok(
        post(
            armorer,
            f"{path}/{variance.pk}/resolve",
            {"resolution": "reported_lost", "note": "not in the arms room", **SECOND},
        )
    )
    assert (resolved["resolution"], resolved["resolved_by"]) == ("reported_lost", "armorer")
    assert rifle("R0010").place == "lost"
    assert JournalEntry.objects.filter(kind="variance.resolved").count() == 1
    assert ok(armorer.get(f"{API}{path}", {"resolved": True}))["count"] == 1


# Incidents ------------------------------------------------------------------------------------


def test_an_incident_is_opened_noted_investigated_and_closed(two_regions, armorer):
    world = two_regions
    rifleman = world["people"]["c1"]
    body = {
        "kind": "damage",
        "summary": "came back with a cracked stock",
        "serials": ["R0001"],
        "person_ids": [rifleman.pk],
    }
    assert_error(post(client_for("vol"), "/incidents", body), 403, "forbidden")
    assert_error(
        post(armorer, "/incidents", {**body, "person_ids": [world["people"]["b3"].pk]}),
        404,
        "not_found",
    )
    bad = assert_error(post(armorer, "/incidents", {**body, "kind": "accident"}), 400, "invalid")
    assert bad["field"] == "kind"
    opened = ok(post(armorer, "/incidents", body), 201)
    assert (opened["status"], opened["items"], opened["people"], opened["notes"]) == (
        "open",
        [rifle().pk],
        [rifleman.pk],
        [],
    )
    path = f"/incidents/{opened['id']}"
    noted = ok(post(armorer, f"{path}/notes", {"text": "photos taken"}), 201)
    assert [n["text"] for n in noted["notes"]] == ["photos taken"]
    moved = ok(post(client_for("commander"), f"{path}/status", {"status": "investigating"}))
    assert moved["status"] == "investigating"
    body = assert_error(post(armorer, f"{path}/status", {"status": "closed"}), 400, "invalid")
    assert body["field"] == "text"  # closing needs a note saying why
    body = assert_error(post(armorer, f"{path}/status", {"status": "open"}), 400, "invalid")
    assert body["field"] == "status"
    closed = ok(post(armorer, f"{path}/status", {"status": "closed", "note": "stock replaced"}))
    assert [(n["status_to"], n["actor"]) for n in closed["notes"]] == [
        ("", "armorer"),
        ("investigating", "commander"),
        ("closed", "armorer"),
    ]
    assert Incident.objects.get(pk=opened["id"]).status == "closed"
    assert ok(client_for("vol").get(f"{API}{path}"))["status"] == "closed"  # it is about them
    assert_error(client_for("vet").get(f"{API}/incidents/999999"), 404, "not_found")


# Scoping: every role × every stock endpoint ---------------------------------------------------


@pytest.fixture
def stock_world(two_regions, armory, actor):
    """The two regions of test_api's `world`, and in the 1st Battalion: radios, a lot with 50
    rounds held by the rifleman, a rifle in maintenance and one lost, kit K-01 at the vault and
    K-02 issued, an emergency issue to reconcile, a count with R0010 missing and an incident.
    In region R2: a vault ARM-2 with rifle S0001 and an incident about a volunteer there."""
    world = two_regions
    armorer, commander = armory["armorer"], armory["commander"]
    rifleman, far_away = world["people"]["c1"], world["people"]["b3"]
    variance = closed_count_missing_r0010(armory)
    receive_radios(armory, "D-0001", "D-0002", "D-0003")
    qualify_for_radio(rifleman, actor)
    receive_lot(
        actor=armorer,
        site=armory["vault"],
        model_code="AMM-556",
        lot_number="L-1",
        quantity=500,
        reference="S-9",
    )
    lot = Lot.objects.get(lot_number="L-1")
    issue_ammunition(
        actor=armorer,
        second=commander,
        person=rifleman,
        lot=lot,
        site=armory["vault"],
        quantity=50,
    )
    send_to_maintenance(actor=armorer, item_ids=[rifle("R0004").pk], provider="A", reason="B")
    report_missing(actor=armorer, item_ids=[rifle("R0006").pk], stolen=False, summary="gone")
    define_kit(
        actor=armorer,
        code="K-01",
        name="kit",
        item_ids=[rifle("R0008").pk, item_by_serial("D-0001").pk],
    )
    issued = define_kit(
        actor=armorer,
        code="K-02",
        name="kit",
        item_ids=[rifle("R0009").pk, item_by_serial("D-0002").pk],
    )
    assert issue_kit(actor=armorer, second=commander, person=rifleman, kit=issued, hours=8).issued
    (outcome,) = emergency_issue(
        actor=commander, assignments=[(rifleman, [rifle("R0005").pk])], hours=12
    )
    assert outcome.issued
    incident = open_incident(
        actor=armorer,
        kind="damage",
        summary="cracked",
        item_ids=[rifle().pk],
        person_ids=[rifleman.pk],
    )
    keeper = User.objects.create_user(username="keeper2", password=PASSWORD)
    far_site = create_site(
        actor=actor,
        code="ARM-2",
        name="3rd Battalion arms room",
        unit=world["b3"],
        security_level="vault_alarmed",
        certified_on=dt.date(2026, 1, 15),
        custodians=[keeper],
    )
    receive_items(
        actor=Actor.for_user(keeper),
        site=far_site,
        reference="SHIP-R2",
        items=[NewItem("VPR-223", "S0001")],
    )
    far_incident = open_incident(
        actor=actor, kind="misuse", summary="shown off", person_ids=[far_away.pk]
    )
    return {
        **world,
        "variance": variance,
        "incident": incident.pk,
        "far_incident": far_incident.pk,
    }


def stock_endpoints(w):
    """(name, method, path, body) for every endpoint this module's handlers add."""
    c1, b3 = w["people"]["c1"].pk, w["people"]["b3"].pk
    variance = w["variance"]
    counts = f"/counts/{variance.count_id}/variances"
    incident = f"/incidents/{w['incident']}"
    armorer_second = {"second_username": "armorer", "second_password": PASSWORD}
    site = {
        "code": "ARM-3", "name": "new", "unit": "R1-B2", "security_level": "vault",
        "certified_on": "2026-02-01",
    }  # fmt: skip
    model = {"code": "RAD-NEW", "name": "radio", "category": "radio"}
    shipment = {
        "site": "ARM-1",
        "reference": "S-10",
        "items": [{"model": "VPR-223", "serial": "N1"}],
    }
    ammo = {"person_id": c1, "site": "ARM-1", "lot": "L-1", "quantity": 10}
    return [
        ("categories", "get", "/categories", None),
        ("models", "get", "/models", None),
        ("register model", "post", "/models", model),
        ("sites", "get", "/sites", None),
        ("create site", "post", "/sites", site),
        ("create site in R2", "post", "/sites", {**site, "unit": "R2-B3"}),
        ("receive shipment", "post", "/shipments", shipment),
        ("receive shipment in R2", "post", "/shipments", {**shipment, "site": "ARM-2"}),
        ("to maintenance", "post", "/maintenance/send",
         {"serials": ["R0001"], "provider": "A", "reason": "B"}),
        ("to maintenance in R2", "post", "/maintenance/send",
         {"serials": ["S0001"], "provider": "A", "reason": "B"}),
        ("from maintenance", "post", "/maintenance/receive", {"serials": ["R0004"], "site": "ARM-1"}),
        ("recover", "post", "/custody/recover", {"serial": "R0006", "site": "ARM-1", "note": "found"}),
        ("dispose", "post", "/custody/dispose", {"serial": "R0007", "reason": "worn", **SECOND}),
        ("receive lot", "post", "/ammunition/receive",
         {"site": "ARM-1", "model": "AMM-556", "lot": "L-2", "quantity": 100, "reference": "S-11"}),
        ("issue rounds", "post", "/ammunition/issue", {**ammo, **SECOND}),
        ("issue rounds in R2", "post", "/ammunition/issue", {**ammo, "person_id": b3, **SECOND}),
        ("return rounds", "post", "/ammunition/return", ammo),
        ("expend rounds", "post", "/ammunition/expend",
         {"person_id": c1, "lot": "L-1", "quantity": 10, "reason": "range"}),
        ("balances", "get", "/ammunition/balances", None),
        ("kits", "get", "/kits", None),
        ("define kit", "post", "/kits", {"code": "K-03", "name": "kit", "serials": ["R0003", "D-0003"]}),
        ("issue kit", "post", "/kits/K-01/issue", {"person_id": c1, "hours": 8, **SECOND}),
        ("return kit", "post", "/kits/K-02/return", {"person_id": c1, "serials": ["R0009"], **SECOND}),
        ("emergency issue", "post", "/emergency-issues",
         {"assignments": [{"person_id": c1, "serials": ["R0002"]}], "hours": 12}),
        ("reconcile", "post", "/emergency-issues/reconcile", {"serial": "R0005", **armorer_second}),
        ("unreconciled", "get", "/emergency-issues/unreconciled", None),
        ("variances", "get", counts, None),
        ("resolve variance", "post", f"{counts}/{variance.pk}/resolve",
         {"resolution": "reported_lost", "note": "gone", **SECOND}),
        ("open incident", "post", "/incidents",
         {"kind": "damage", "summary": "dent", "serials": ["R0001"], "person_ids": [c1]}),
        ("read incident", "get", incident, None),
        ("read incident in R2", "get", f"/incidents/{w['far_incident']}", None),
        ("note incident", "post", f"{incident}/notes", {"text": "photos taken"}),
        ("move incident", "post", f"{incident}/status", {"status": "investigating", "note": "why"}),
    ]  # fmt: skip


NEW_AREAS = {
    "maintenance", "ammunition", "kits", "emergency-issues", "shipments", "categories", "models",
    "sites",
}  # fmt: skip
STOCK_EXPECTED = {
    # endpoint:             hq   auditor admin1 cmd_b1 vet  arm_b1 vol
    "categories":           (200, 200,   200,   200,   200, 200,   200),
    "models":               (200, 200,   200,   200,   200, 200,   200),
    "register model":       (201, 403,   403,   403,   403, 403,   403),
    "sites":                (200, 200,   200,   200,   200, 200,   200),
    "create site":          (403, 403,   201,   403,   403, 403,   403),
    "create site in R2":    (403, 403,   404,   403,   403, 403,   403),
    "receive shipment":     (403, 403,   403,   403,   403, 201,   403),
    "receive shipment in R2": (403, 403, 403,   403,   403, 404,   403),
    "to maintenance":       (403, 403,   403,   403,   403, 200,   403),
    "to maintenance in R2": (403, 403,   403,   403,   403, 404,   403),
    "from maintenance":     (403, 403,   403,   403,   403, 200,   403),
    "recover":              (403, 403,   403,   403,   403, 200,   403),
    "dispose":              (403, 403,   403,   403,   403, 200,   403),
    "receive lot":          (403, 403,   403,   403,   403, 201,   403),
    "issue rounds":         (403, 403,   403,   403,   403, 201,   403),
    "issue rounds in R2":   (403, 403,   403,   403,   403, 404,   403),
    "return rounds":        (403, 403,   403,   403,   403, 200,   403),
    "expend rounds":        (403, 403,   403,   403,   403, 200,   403),
    "balances":             (200, 200,   200,   200,   200, 200,   200),
    "kits":                 (200, 200,   200,   200,   200, 200,   200),
    "define kit":           (403, 403,   403,   403,   403, 201,   403),
    "issue kit":            (403, 403,   403,   403,   403, 201,   403),
    "return kit":           (403, 403,   403,   403,   403, 200,   403),
    # Policy: only a commander orders an emergency issue; the armorer's order is refused.
    "emergency issue":      (403, 403,   403,   201,   403, 400,   403),
    # The armorer as second person: the commander may reconcile, the armorer not with themselves.
    "reconcile":            (403, 403,   403,   200,   403, 400,   403),
    "unreconciled":         (200, 200,   200,   200,   200, 200,   200),
    "variances":            (200, 200,   200,   200,   404, 200,   404),
    "resolve variance":     (403, 403,   403,   403,   403, 200,   403),
    "open incident":        (201, 403,   201,   201,   403, 201,   403),
    "read incident":        (200, 200,   200,   200,   200, 200,   200),
    "read incident in R2":  (200, 200,   404,   404,   404, 404,   404),
    "note incident":        (201, 403,   201,   201,   403, 201,   403),
    "move incident":        (200, 403,   200,   200,   403, 200,   403),
}  # fmt: skip


def test_the_matrix_covers_every_new_endpoint(stock_world):
    from muster.api.api import api

    documented = {
        (method.lower(), path.removeprefix(API))
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
    }
    new = {
        (method, path)
        for method, path in documented
        if path.split("/")[1] in NEW_AREAS
        or path in {"/custody/recover", "/custody/dispose"}
        or (path.startswith("/counts/") and "/variances" in path)
        or (path.startswith("/incidents") and (method, path) != ("get", "/incidents"))
    }
    walked = {(method, path) for _, method, path, _ in stock_endpoints(stock_world)}

    def matches(operation: tuple[str, str], call: tuple[str, str]) -> bool:
        pattern = re.sub(r"\{[a-z_]+\}", "[^/]+", operation[1])
        return operation[0] == call[0] and re.fullmatch(pattern, call[1]) is not None

    assert [op for op in sorted(new) if not any(matches(op, call) for call in walked)] == []
    assert set(STOCK_EXPECTED) == {name for name, *_ in stock_endpoints(stock_world)}


@pytest.mark.parametrize("username", ROLES)
def test_each_role_does_only_its_stock_work_in_its_scope(stock_world, username):
    walk(username, stock_endpoints(stock_world), STOCK_EXPECTED)
