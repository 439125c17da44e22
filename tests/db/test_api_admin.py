"""The administration API as a script uses it: units, accounts and role grants, policy
versions, imports checked then confirmed, the transparency log, documents, and the caller's
own tokens — and what each role may read and do with them over two regions."""

from __future__ import annotations

import datetime as dt
import io
import re
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from api_matrix import API, ROLES, client_for, walk
from muster.accounts.models import ApiToken, User
from muster.accounts.services import grant_role
from muster.accounts.tokens import create_token
from muster.api.api import api
from muster.armory.models import Item
from muster.armory.services.catalogue import NewItem, create_site, receive_items
from muster.armory.services.counts import close_count, record_count, start_count
from muster.core.actors import Actor
from muster.journal import log
from muster.journal.models import JournalEntry
from muster.journal.services import Change, record_changes
from muster.people.models import Person, Unit
from muster.people.services import create_unit
from muster.policy.models import PolicyVersion
from muster.vetting.models import Qualification
from muster_verify import merkle
from muster_verify._base64 import decode_base64
from muster_verify.checkpoint import open_checkpoint
from muster_verify.note import parse_verifier_key
from muster_verify.proof import parse_proof, verify_proof
from worlds import NATIONAL, PASSWORD

CSRF = "a" * 32
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
NEXT_VERSION = NATIONAL.replace('version: "2026.1"', 'version: "2026.2"').replace(
    "At most 300 firearms", "At most 350 firearms"
)


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    """Kept uploads and the log's signing key live in the test's own directory."""
    settings.VAR_DIR = tmp_path
    settings.LOG_KEY_FILE = tmp_path / "log.key"


def session_for(username: str) -> Client:
    """A signed-in browser session, sending the CSRF token as the API asks."""
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF)
    client.force_login(User.objects.get(username=username))
    client.cookies["csrftoken"] = CSRF
    return client


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert set(body) >= {"code", "message", "field", "problems"}
    for problem in body["problems"]:
        assert set(problem) == {"record", "field", "rule", "value"}
    if field is not None:
        assert body["field"] == field, body
    return body


def upload(name: str, content: str | bytes) -> SimpleUploadedFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data)


def post_json(client: Client, path: str, body: dict):
    return client.post(f"{API}{path}", body, "application/json")


@pytest.fixture
def world(armory, org, actor, make_person, rifleman):
    """Region R1: battalion B1 (company C1, with the rifleman; the arms room ARM-1) and B2;
    region R2: battalion B3 with its own arms room ARM-3 and one rifle. One account per role
    (the armorer and commander of B1 come from the armory); a closed count at ARM-1; the log
    integrated and signed."""
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
    User.objects.create_user(username="newbie", password=PASSWORD)
    User.objects.filter(username="vol").update(person=people["c1"])
    south = create_site(
        actor=actor,
        code="ARM-3",
        name="3rd Battalion arms room",
        unit=b3,
        security_level="vault_alarmed",
        certified_on=dt.date(2026, 1, 15),
        capacities={"firearm": 50},
    )
    keeper = User.objects.create_user(username="arm_south", password=PASSWORD)
    grant_role(actor=actor, username="arm_south", role="armorer", unit=b3)
    receive_items(
        actor=Actor.for_user(keeper),
        site=south,
        reference="SHIP-S1",
        items=[NewItem("VPR-223", "S0001")],
    )
    clerk = User.objects.get(username="clerk")
    count = start_count(actor=armory["armorer"], site=armory["vault"], counter=clerk, category=None)
    record_count(
        actor=Actor.for_user(clerk), count=count, serials=[f"R{n:04d}" for n in range(1, 10)]
    )
    close_count(actor=Actor.for_user(clerk), count=count)
    log.integrate()
    return {"people": people, "b2": b2, "b3": b3, "count": count, "south": south}


# Units ----------------------------------------------------------------------------------------


def test_a_regional_admin_creates_a_unit_under_a_parent_in_their_region(world):
    admin = client_for("admin1")
    new_unit = {"code": "R1-B9", "name": "9th", "kind": "battalion", "parent": "R1"}
    created = post_json(admin, "/units", new_unit)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["code"], body["parent"], body["depth"], body["members"]) == ("R1-B9", "R1", 1, 0)
    unit = Unit.objects.get(code="R1-B9")
    assert unit.parent.code == "R1" and unit.path.startswith(unit.parent.path)
    assert admin.get(f"{API}/units/R1-B9").json()["id"] == unit.pk
    assert "R1-B9" in [u["code"] for u in admin.get(f"{API}/units").json()["items"]]
    assert JournalEntry.objects.filter(kind="unit.created", subject_id=str(unit.pk)).exists()


def test_a_unit_outside_the_region_or_a_new_region_is_refused(world):
    admin = client_for("admin1")
    outside = {"code": "R2-B9", "name": "9th", "kind": "battalion", "parent": "R2"}
    assert_error(post_json(admin, "/units", outside), 404, "not_found", "parent")
    region = {"code": "R9", "name": "New", "kind": "region", "jurisdiction": "national"}
    assert_error(post_json(admin, "/units", region), 403, "forbidden", "parent")
    assert_error(admin.get(f"{API}/units/R2-B3"), 404, "not_found", "unit")
    assert not Unit.objects.filter(code__in=["R2-B9", "R9"]).exists()


def test_a_bad_unit_is_400_naming_the_field(world):
    hq = client_for("hq")
    bad_code = {"code": "R1 B9!", "name": "9th", "kind": "battalion", "parent": "R1"}
    assert_error(post_json(hq, "/units", bad_code), 400, "invalid", "code")
    taken = {"code": "R1-B1", "name": "again", "kind": "battalion", "parent": "R1"}
    assert_error(post_json(hq, "/units", taken), 400, "invalid", "code")
    no_kind = {"code": "R1-B9", "name": "9th", "parent": "R1"}
    assert_error(post_json(hq, "/units", no_kind), 400, "invalid", "kind")
    new_region = {"code": "R9", "name": "New", "kind": "region", "jurisdiction": "national"}
    region = post_json(hq, "/units", new_region)
    assert region.status_code == 201, region.content


# Accounts -------------------------------------------------------------------------------------


def test_a_role_granted_through_the_api_gives_its_scope(world):
    admin = client_for("admin1")
    account = {"username": "cmd_b2", "password": PASSWORD, "email": "cmd@example.org"}
    created = post_json(admin, "/users", account)
    assert created.status_code == 201, created.content
    assert (created.json()["username"], created.json()["grants"]) == ("cmd_b2", [])
    granted = post_json(admin, "/users/cmd_b2/roles", {"role": "commander", "unit": "R1-B2"})
    assert granted.status_code == 200, granted.content
    assert [(g["role"], g["unit"]) for g in granted.json()["grants"]] == [("commander", "R1-B2")]
    commander = client_for("cmd_b2")
    people = world["people"]
    assert commander.get(f"{API}/people/{people['b2'].pk}").status_code == 200
    assert commander.get(f"{API}/people/{people['c1'].pk}").status_code == 404
    assert JournalEntry.objects.filter(kind="role.granted", subject_id="cmd_b2").count() == 1


def test_a_regional_admin_grants_nothing_beyond_their_region(world):
    admin = client_for("admin1")
    everything = {"role": "commander"}
    assert_error(post_json(admin, "/users/newbie/roles", everything), 403, "forbidden", "unit")
    hq_role = {"role": "hq_staff", "unit": "R1"}
    assert_error(post_json(admin, "/users/newbie/roles", hq_role), 403, "forbidden", "role")
    south = {"role": "commander", "unit": "R2-B3"}
    assert_error(post_json(admin, "/users/newbie/roles", south), 404, "not_found", "unit")
    assert_error(
        post_json(admin, "/users/nobody/roles", {"role": "commander", "unit": "R1"}),
        404,
        "not_found",
        "username",
    )
    assert_error(
        post_json(admin, "/users/newbie/roles", {"role": "general", "unit": "R1"}),
        400,
        "invalid",
        "role",
    )
    assert not User.objects.get(username="newbie").grants.exists()


def test_seeing_everything_as_auditor_grants_no_more_than_the_admin_role_reaches(world, actor):
    User.objects.create_user(username="both", password=PASSWORD)
    grant_role(actor=actor, username="both", role="auditor", unit=None)
    grant_role(
        actor=actor, username="both", role="regional_admin", unit=Unit.objects.get(code="R1")
    )
    both = client_for("both")
    hq_role = {"role": "hq_staff"}
    assert_error(post_json(both, "/users/newbie/roles", hq_role), 403, "forbidden", "unit")
    south = {"role": "commander", "unit": "R2-B3"}
    assert_error(post_json(both, "/users/newbie/roles", south), 404, "not_found", "unit")
    region = {"code": "R9", "name": "New", "kind": "region", "jurisdiction": "national"}
    assert_error(post_json(both, "/units", region), 403, "forbidden", "parent")
    granted = post_json(both, "/users/newbie/roles", {"role": "commander", "unit": "R1-B2"})
    assert granted.status_code == 200, granted.content
    assert both.get(f"{API}/units/R2-B3").status_code == 200  # the auditor still reads it


def test_a_bad_account_is_400_naming_the_field(world):
    admin = client_for("admin1")
    weak = {"username": "weak", "password": "123"}
    assert_error(post_json(admin, "/users", weak), 400, "invalid", "password")
    taken = {"username": "newbie", "password": PASSWORD}
    assert_error(post_json(admin, "/users", taken), 400, "invalid", "username")
    odd = {"username": "has space", "password": PASSWORD}
    assert_error(post_json(admin, "/users", odd), 400, "invalid", "username")
    assert not User.objects.filter(username__in=["weak", "has space"]).exists()


def test_a_regional_admin_lists_the_accounts_of_their_region_only(world):
    listed = client_for("admin1").get(f"{API}/users").json()
    names = [u["username"] for u in listed["items"]]
    assert names == ["admin1", "armorer", "commander", "vet", "vol"]
    everyone = client_for("auditor").get(f"{API}/users").json()
    assert {"hq", "auditor", "newbie", "clerk"} <= {u["username"] for u in everyone["items"]}


# Policy ---------------------------------------------------------------------------------------


def test_the_policy_in_force_is_read_as_json_and_as_its_yaml(world):
    client = client_for("vol")
    listed = client.get(f"{API}/policies").json()
    assert [(p["ref"], p["state"]) for p in listed["items"]] == [("national@2026.1", "in force")]
    in_force = client.get(f"{API}/policies/national/in-force").json()
    assert in_force["ref"] == "national@2026.1"
    assert in_force["document"]["categories"]["firearm"]["quota"]["per_region"] == 300
    source = client.get(f"{API}/policies/national/versions/2026.1/source")
    assert source.status_code == 200
    assert source["Content-Type"].startswith("application/yaml")
    assert 'filename="national-2026.1.yaml"' in source["Content-Disposition"]
    assert source.content.decode() == NATIONAL
    assert_error(client.get(f"{API}/policies/nowhere/in-force"), 404, "not_found")
    early = client.get(f"{API}/policies/national/in-force", {"at": "2020-01-01"})
    assert_error(early, 404, "not_found", "policy")


def test_hq_loads_a_new_version_and_compares_it(world):
    hq = client_for("hq")
    loaded = hq.post(f"{API}/policies", {"file": upload("national-2026.2.yaml", NEXT_VERSION)})
    assert loaded.status_code == 201, loaded.content
    assert (loaded.json()["ref"], loaded.json()["created"]) == ("national@2026.2", True)
    again = hq.post(f"{API}/policies", {"file": upload("same.yaml", NEXT_VERSION)})
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert PolicyVersion.objects.filter(jurisdiction="national").count() == 2
    diff = hq.get(f"{API}/policies/diff", {"a": "national@2026.1", "b": "national@2026.2"})
    assert diff.status_code == 200, diff.content
    paths = {line["path"]: line for line in diff.json()["lines"]}
    assert set(paths) == {"version", "description"}
    assert (paths["version"]["old"], paths["version"]["new"]) == ("2026.1", "2026.2")
    assert_error(
        hq.get(f"{API}/policies/diff", {"a": "national@2026.1", "b": "national@9"}),
        404,
        "not_found",
        "version",
    )


def test_a_policy_is_loaded_only_by_hq_and_only_when_valid(world):
    assert_error(
        client_for("admin1").post(f"{API}/policies", {"file": upload("p.yaml", NEXT_VERSION)}),
        403,
        "forbidden",
        "role",
    )
    hq = client_for("hq")
    changed = NATIONAL.replace("At most 300 firearms", "At most 301 firearms")
    assert_error(
        hq.post(f"{API}/policies", {"file": upload("p.yaml", changed)}), 400, "invalid", "version"
    )
    broken = NEXT_VERSION.replace("effective_from: 2026-01-01", "effective_from: someday")
    refused = hq.post(f"{API}/policies", {"file": upload("p.yaml", broken)})
    body = assert_error(refused, 400, "invalid", "effective_from")
    assert body["problems"][0]["record"] == "p.yaml"
    assert_error(hq.post(f"{API}/policies", {}), 400, "invalid", "file")
    not_utf8 = hq.post(f"{API}/policies", {"file": upload("p.yaml", "é".encode("latin-1"))})
    assert_error(not_utf8, 400, "invalid", "file")
    assert PolicyVersion.objects.count() == 1


def test_a_policy_file_is_checked_without_being_loaded(world):
    client = client_for("commander")
    checked = client.post(f"{API}/policies/check", {"file": upload("p.yaml", NEXT_VERSION)})
    assert checked.status_code == 200, checked.content
    assert (checked.json()["ref"], checked.json()["status"]) == ("national@2026.2", "in_force")
    assert PolicyVersion.objects.count() == 1


# Imports --------------------------------------------------------------------------------------


def check(client: Client, kind: str, name: str, content: str | bytes, **fields):
    return client.post(f"{API}/imports/{kind}/check", {"file": upload(name, content), **fields})


def test_a_roster_with_bad_rows_writes_nothing_and_reports_each_row(world):
    before = Person.objects.count()
    response = check(
        client_for("admin1"), "people", "broken.csv", (FIXTURES / "broken_roster.csv").read_bytes()
    )
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["ok"], report["token"]) == (False, None)
    assert report["bad_rows"] >= 5
    problems = {(p["row"], p["field"]) for p in report["problems"]}
    assert {(3, "unit"), (4, "birth_date"), (6, "joined_on"), (9, "status")} <= problems
    assert all(p["rule"] and p["record"] == f"line {p['row']}" for p in report["problems"])
    assert Person.objects.count() == before


def test_a_checked_roster_is_written_on_confirm_all_at_once(world):
    admin = client_for("admin1")
    checked = check(admin, "people", "roster.csv", (FIXTURES / "good_roster.csv").read_bytes())
    report = checked.json()
    assert (report["ok"], report["to_create"], report["problems"]) == (True, 4, [])
    assert not Person.objects.filter(national_id__startswith="UA1").exists()
    confirmed = post_json(admin, "/imports/people/confirm", {"token": report["token"]})
    assert confirmed.status_code == 200, confirmed.content
    assert (confirmed.json()["created"], confirmed.json()["file"]) == (4, "roster.csv")
    assert Person.objects.filter(national_id__startswith="UA1").count() == 4
    again = post_json(admin, "/imports/people/confirm", {"token": report["token"]})
    assert_error(again, 404, "not_found", "token")
    other = check(admin, "people", "roster.csv", (FIXTURES / "good_roster.csv").read_bytes())
    assert (other.json()["to_create"], other.json()["unchanged"]) == (0, 4)  # none twice


def test_rows_outside_the_callers_units_are_refused_by_name(world):
    roster = (
        "national_id;family_name;given_name;unit;joined_on\nUA3000001;Koval;Ivan;R2-B3;2024-03-01\n"
    )
    report = check(client_for("commander"), "people", "south.csv", roster).json()
    assert report["ok"] is False
    assert [(p["row"], p["field"]) for p in report["problems"]] == [(2, "unit")]


def test_an_upload_is_confirmed_only_by_its_owner_for_its_kind(world):
    roster = (FIXTURES / "good_roster.csv").read_bytes()
    token = check(client_for("admin1"), "people", "roster.csv", roster).json()["token"]
    assert_error(
        post_json(client_for("hq"), "/imports/people/confirm", {"token": token}), 404, "not_found"
    )
    admin = client_for("admin1")
    assert_error(post_json(admin, "/imports/items/confirm", {"token": token}), 403, "forbidden")
    assert_error(post_json(admin, "/imports/people/confirm", {"token": "../x"}), 404, "not_found")
    assert not Person.objects.filter(national_id__startswith="UA1").exists()


def test_an_upload_above_the_limit_is_refused(world, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    roster = (FIXTURES / "good_roster.csv").read_bytes()
    response = check(client_for("admin1"), "people", "roster.csv", roster)
    assert_error(response, 400, "invalid", "file")
    assert_error(client_for("admin1").post(f"{API}/imports/people/check"), 400, "invalid", "file")


def test_qualifications_and_items_are_imported_like_the_roster(world):
    vet = client_for("vet")
    rows = "national_id;qualification;obtained_on\nVD50000001;first_aid;2026-01-10\n"
    token = check(vet, "qualifications", "q.csv", rows).json()["token"]
    done = post_json(vet, "/imports/qualifications/confirm", {"token": token})
    assert done.status_code == 200, done.content
    assert Qualification.objects.filter(
        person=world["people"]["c1"], qualification_type__code="first_aid"
    ).exists()

    armorer = client_for("armorer")
    packing = "model;serial\nVPR-223;R0100\nVPR-223;R0101\n"
    report = check(armorer, "items", "packing.csv", packing, site="ARM-1", reference="SHIP-9")
    assert (report.json()["ok"], report.json()["to_create"]) == (True, 2)
    done = post_json(armorer, "/imports/items/confirm", {"token": report.json()["token"]})
    assert done.status_code == 200, done.content
    received = Item.objects.filter(serial__in=["R0100", "R0101"])
    assert set(received.values_list("site__code", flat=True)) == {"ARM-1"}
    south = check(armorer, "items", "packing.csv", packing, site="ARM-3", reference="SHIP-9")
    assert_error(south, 404, "not_found", "site")
    missing = check(armorer, "items", "packing.csv", packing, site="ARM-1")
    assert_error(missing, 400, "invalid", "reference")


# The transparency log -------------------------------------------------------------------------


def test_the_auditor_reads_the_latest_checkpoint_and_verifies_it_with_the_key(world):
    auditor = client_for("auditor")
    note = auditor.get(f"{API}/log/checkpoint")
    assert note.status_code == 200, note.content
    assert note["Content-Type"].startswith("text/plain")
    key = auditor.get(f"{API}/log/key").content.decode().strip()
    checkpoint = open_checkpoint(note.content.decode(), parse_verifier_key(key))
    assert checkpoint.size == JournalEntry.objects.count()
    overview = auditor.get(f"{API}/log").json()
    (origin,) = overview["origins"]
    assert (origin["key"], origin["checkpoint"]["size"]) == (key, checkpoint.size)
    assert_error(client_for("armorer").get(f"{API}/log/checkpoint"), 403, "forbidden", "role")


def test_a_kept_checkpoint_is_proved_a_prefix_of_the_latest(world, actor):
    auditor = client_for("auditor")
    old = open_checkpoint(
        auditor.get(f"{API}/log/checkpoint").content.decode(),
        parse_verifier_key(log.verifier_key()),
    )
    with transaction.atomic():
        record_changes(actor=actor, changes=[Change("test.happened", "test", 1, {"n": 1})])
    new = open_checkpoint(
        auditor.get(f"{API}/log/checkpoint").content.decode(),
        parse_verifier_key(log.verifier_key()),
    )
    assert new.size == old.size + 1
    proof = auditor.get(f"{API}/log/consistency", {"old_size": old.size}).json()
    assert proof["new_size"] == new.size
    merkle.verify_consistency(
        old.size,
        new.size,
        old.root_hash,
        new.root_hash,
        [decode_base64(h, what="hash") for h in proof["proof"]],
    )
    beyond = auditor.get(f"{API}/log/consistency", {"old_size": 1, "new_size": new.size + 5})
    assert_error(beyond, 400, "invalid", "new_size")
    request = auditor.get(f"{API}/log/witness-request", {"old_size": old.size})
    assert request.content.decode().startswith(f"old {old.size}\n")


def test_an_entry_is_proved_included_in_the_log(world):
    auditor = client_for("auditor")
    entry = JournalEntry.objects.filter(kind="unit.created").order_by("seq").first()
    response = auditor.get(f"{API}/log/entries/{entry.seq}/proof")
    assert response.status_code == 200, response.content
    proof = parse_proof(response.content.decode())
    checkpoint = verify_proof(proof, parse_verifier_key(log.verifier_key()))
    assert proof.index == entry.seq and proof.entry.decode() == entry.body
    assert checkpoint.size >= entry.seq + 1
    assert_error(auditor.get(f"{API}/log/entries/999999/proof"), 404, "not_found", "seq")


def test_the_witnesses_cosignatures_are_listed(world, settings, tmp_path):
    out = StringIO()
    call_command("witness", "init", str(tmp_path / "w"), "--name", "audit.test/w1", stdout=out)
    settings.LOG_WITNESS_KEYS = [out.getvalue().splitlines()[-1]]
    request = tmp_path / "request"
    request.write_text(log.witness_request(0))
    lines = StringIO()
    witness = ["add", str(tmp_path / "w"), str(request), "--log-key", log.verifier_key()]
    call_command("witness", *witness, stdout=lines)
    size = log.latest_checkpoint().size
    log.record_cosignatures(size, lines.getvalue())
    listed = client_for("hq").get(f"{API}/log/cosignatures").json()
    assert [(c["witness"], c["size"]) for c in listed["items"]] == [("audit.test/w1", size)]
    witnessed = client_for("hq").get(f"{API}/log/checkpoint", {"witnessed": "true"})
    assert listed["items"][0]["line"] in witnessed.content.decode()


# Documents ------------------------------------------------------------------------------------


def test_the_readiness_report_is_a_pdf_of_the_callers_scope(world):
    response = client_for("commander").get(f"{API}/documents/readiness.pdf")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 'filename="readiness-' in response["Content-Disposition"]
    one_unit = client_for("hq").get(f"{API}/documents/readiness.pdf", {"unit": "R1-B1"})
    assert one_unit.content.startswith(b"%PDF")
    assert_error(client_for("vol").get(f"{API}/documents/readiness.pdf"), 404, "not_found")


def test_the_roster_as_xlsx_holds_exactly_the_callers_people(world):
    response = client_for("commander").get(f"{API}/documents/tables/roster", {"format": "xlsx"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == [world["people"]["c1"].national_id]


def test_the_items_table_as_csv_holds_the_callers_items(world):
    response = client_for("armorer").get(f"{API}/documents/tables/items", {"site": "ARM-1"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    serials = [line.split(",")[3] for line in text.splitlines()[1:]]
    assert serials == [f"R{n:04d}" for n in range(1, 11)]
    assert_error(
        client_for("armorer").get(f"{API}/documents/tables/items", {"format": "pdf"}),
        400,
        "invalid",
        "format",
    )
    variances = client_for("armorer").get(f"{API}/documents/tables/variances")
    rows = b"".join(variances.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and "R0010" in rows[1]


def test_item_history_hand_receipt_count_sheets_and_labels_are_pdfs(world):
    armorer = client_for("armorer")
    count = world["count"].pk
    rifle = Item.objects.get(serial="R0001")
    for path in (
        f"/documents/items/{rifle.pk}/history.pdf",
        f"/documents/people/{world['people']['c1'].pk}/hand-receipt.pdf",
        f"/documents/counts/{count}/sheet.pdf",
        f"/documents/counts/{count}/variances.pdf",
        "/documents/sites/ARM-1/labels.pdf",
        "/documents/sites/labels.pdf",
    ):
        response = armorer.get(f"{API}{path}")
        assert response.status_code == 200, (path, response.content[:300])
        assert response.content.startswith(b"%PDF"), path
    assert JournalEntry.objects.filter(kind="person.viewed", actor="armorer").exists()
    south = Item.objects.get(serial="S0001")
    assert_error(armorer.get(f"{API}/documents/items/{south.pk}/history.pdf"), 404, "not_found")
    assert_error(armorer.get(f"{API}/documents/sites/ARM-3/labels.pdf"), 404, "not_found")


def test_the_variance_report_of_an_open_count_is_409(world, armory):
    # The clerk counted last time: an independent counter takes the next count.
    counter = User.objects.create_user(username="clerk2", password=PASSWORD)
    open_count = start_count(
        actor=armory["armorer"], site=armory["vault"], counter=counter, category=None
    )
    response = client_for("armorer").get(f"{API}/documents/counts/{open_count.pk}/variances.pdf")
    assert_error(response, 409, "conflict", "status")


# Tokens ---------------------------------------------------------------------------------------


def test_a_token_made_from_a_session_works_until_it_is_revoked(world):
    session = session_for("commander")
    made = session.post(f"{API}/tokens", {"name": "night script"}, "application/json")
    assert made.status_code == 201, made.content
    secret = made.json()["token"]
    assert secret.startswith("mst_") and made.json()["active"] is True
    script = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    listed = script.get(f"{API}/tokens").json()
    assert [t["name"] for t in listed["items"]] == ["night script"]
    assert all("token" not in t for t in listed["items"])
    revoked = script.post(f"{API}/tokens/{made.json()['id']}/revoke")
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["active"] is False
    assert_error(script.get(f"{API}/tokens"), 401, "unauthenticated")
    assert_error(
        session.post(f"{API}/tokens/{made.json()['id']}/revoke"), 400, "invalid", "revoked_at"
    )


def test_a_token_cannot_make_another_nor_touch_anyone_elses(world):
    commander = client_for("commander")
    assert_error(
        post_json(commander, "/tokens", {"name": "more"}), 403, "forbidden", "Authorization"
    )
    armorer = User.objects.get(username="armorer")
    theirs, _ = create_token(actor=Actor.for_user(armorer), user=armorer, name="theirs")
    assert_error(commander.post(f"{API}/tokens/{theirs.pk}/revoke"), 404, "not_found")
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    unnamed = session_for("commander").post(f"{API}/tokens", {"name": ""}, "application/json")
    assert_error(unnamed, 400, "invalid", "name")


# Every role over two regions ------------------------------------------------------------------


def endpoints(world, username: str) -> list[tuple[str, str, str, object]]:
    """(name, method, path, body) of every endpoint of the administration API; a body that
    is a dict of files is sent as multipart."""
    people = {k: v.pk for k, v in world["people"].items()}
    rifle = Item.objects.get(serial="R0001").pk
    count = world["count"].pk
    user = User.objects.get(username=username)
    spare, _ = create_token(actor=Actor.for_user(user), user=user, name="spare")
    roster = (FIXTURES / "good_roster.csv").read_bytes()
    packing = "model;serial\nVPR-223;R0200\n"
    qualifications = "national_id;qualification;obtained_on\nVD50000001;first_aid;2026-01-10\n"
    entry = JournalEntry.objects.order_by("seq").first().seq
    return [
        ("create unit in R1", "post", "/units",
         {"code": "R1-B9", "name": "9th", "kind": "battalion", "parent": "R1"}),
        ("create unit in R2", "post", "/units",
         {"code": "R2-B9", "name": "9th", "kind": "battalion", "parent": "R2"}),
        ("read unit in R1", "get", "/units/R1-B1", None),
        ("read unit in R2", "get", "/units/R2-B3", None),
        ("list users", "get", "/users", None),
        ("create user", "post", "/users", {"username": "made", "password": PASSWORD}),
        ("grant in R1", "post", "/users/newbie/roles", {"role": "commander", "unit": "R1-B2"}),
        ("grant in R2", "post", "/users/newbie/roles", {"role": "commander", "unit": "R2-B3"}),
        ("grant everything", "post", "/users/newbie/roles", {"role": "auditor"}),
        ("list policies", "get", "/policies", None),
        ("policy in force", "get", "/policies/national/in-force", None),
        ("policy version", "get", "/policies/national/versions/2026.1", None),
        ("policy source", "get", "/policies/national/versions/2026.1/source", None),
        ("policy diff", "get", "/policies/diff?a=national@2026.1&b=national@2026.1", None),
        ("load policy", "post", "/policies", {"file": upload("p.yaml", NEXT_VERSION)}),
        ("check policy", "post", "/policies/check", {"file": upload("p.yaml", NEXT_VERSION)}),
        ("check people", "post", "/imports/people/check", {"file": upload("r.csv", roster)}),
        ("check qualifications", "post", "/imports/qualifications/check",
         {"file": upload("q.csv", qualifications)}),
        ("check items", "post", "/imports/items/check",
         {"file": upload("p.csv", packing), "site": "ARM-1", "reference": "SHIP-9"}),
        ("confirm people", "post", "/imports/people/confirm", {"token": "x" * 32}),
        ("confirm qualifications", "post", "/imports/qualifications/confirm", {"token": "x" * 32}),
        ("confirm items", "post", "/imports/items/confirm", {"token": "x" * 32}),
        ("log", "get", "/log", None),
        ("checkpoint", "get", "/log/checkpoint", None),
        ("log key", "get", "/log/key", None),
        ("cosignatures", "get", "/log/cosignatures", None),
        ("consistency", "get", "/log/consistency?old_size=1", None),
        ("witness request", "get", "/log/witness-request?old_size=1", None),
        ("entry proof", "get", f"/log/entries/{entry}/proof", None),
        ("readiness", "get", "/documents/readiness.pdf", None),
        ("rifle history", "get", f"/documents/items/{rifle}/history.pdf", None),
        ("own receipt", "get", f"/documents/people/{people['c1']}/hand-receipt.pdf", None),
        ("R2 receipt", "get", f"/documents/people/{people['b3']}/hand-receipt.pdf", None),
        ("count sheet", "get", f"/documents/counts/{count}/sheet.pdf", None),
        ("variance report", "get", f"/documents/counts/{count}/variances.pdf", None),
        ("sites labels", "get", "/documents/sites/labels.pdf", None),
        ("ARM-1 labels", "get", "/documents/sites/ARM-1/labels.pdf", None),
        ("ARM-3 labels", "get", "/documents/sites/ARM-3/labels.pdf", None),
        ("roster", "get", "/documents/tables/roster", None),
        ("items table", "get", "/documents/tables/items?format=xlsx", None),
        ("holdings table", "get", "/documents/tables/holdings", None),
        ("variances table", "get", "/documents/tables/variances", None),
        ("list tokens", "get", "/tokens", None),
        ("create token", "post", "/tokens", {"name": "more"}),
        ("revoke own token", "post", f"/tokens/{spare.pk}/revoke", None),
    ]  # fmt: skip


EXPECTED = {
    # endpoint:              hq   auditor admin1 cmd_b1 vet  arm_b1 vol
    "create unit in R1":     (201, 403,   201,   403,   403, 403,   403),
    "create unit in R2":     (201, 403,   404,   403,   403, 403,   403),
    "read unit in R1":       (200, 200,   200,   200,   200, 200,   404),
    "read unit in R2":       (200, 200,   404,   404,   404, 404,   404),
    "list users":            (200, 200,   200,   403,   403, 403,   403),
    "create user":           (201, 403,   201,   403,   403, 403,   403),
    "grant in R1":           (200, 403,   200,   403,   403, 403,   403),
    "grant in R2":           (200, 403,   404,   403,   403, 403,   403),
    "grant everything":      (200, 403,   403,   403,   403, 403,   403),
    "list policies":         (200, 200,   200,   200,   200, 200,   200),
    "policy in force":       (200, 200,   200,   200,   200, 200,   200),
    "policy version":        (200, 200,   200,   200,   200, 200,   200),
    "policy source":         (200, 200,   200,   200,   200, 200,   200),
    "policy diff":           (200, 200,   200,   200,   200, 200,   200),
    "load policy":           (201, 403,   403,   403,   403, 403,   403),
    "check policy":          (200, 200,   200,   200,   200, 200,   200),
    "check people":          (200, 403,   200,   200,   403, 403,   403),
    "check qualifications":  (403, 403,   403,   403,   200, 403,   403),
    "check items":           (403, 403,   403,   403,   403, 200,   403),
    "confirm people":        (404, 403,   404,   404,   403, 403,   403),
    "confirm qualifications": (403, 403,  403,   403,   404, 403,   403),
    "confirm items":         (403, 403,   403,   403,   403, 404,   403),
    "log":                   (200, 200,   403,   403,   403, 403,   403),
    "checkpoint":            (200, 200,   403,   403,   403, 403,   403),
    "log key":               (200, 200,   403,   403,   403, 403,   403),
    "cosignatures":          (200, 200,   403,   403,   403, 403,   403),
    "consistency":           (200, 200,   403,   403,   403, 403,   403),
    "witness request":       (200, 200,   403,   403,   403, 403,   403),
    "entry proof":           (200, 200,   403,   403,   403, 403,   403),
    "readiness":             (200, 200,   200,   200,   200, 200,   404),
    "rifle history":         (200, 200,   200,   200,   404, 200,   404),
    "own receipt":           (200, 200,   200,   200,   200, 200,   200),
    "R2 receipt":            (200, 200,   404,   404,   404, 404,   404),
    "count sheet":           (200, 200,   200,   200,   404, 200,   404),
    "variance report":       (200, 200,   200,   200,   404, 200,   404),
    "sites labels":          (200, 200,   200,   200,   404, 200,   404),
    "ARM-1 labels":          (200, 200,   200,   200,   404, 200,   404),
    "ARM-3 labels":          (200, 200,   404,   404,   404, 404,   404),
    "roster":                (200, 200,   200,   200,   200, 200,   404),
    "items table":           (200, 200,   200,   200,   404, 200,   404),
    "holdings table":        (200, 200,   200,   200,   404, 200,   404),
    "variances table":       (200, 200,   200,   200,   404, 200,   404),
    "list tokens":           (200, 200,   200,   200,   200, 200,   200),
    "create token":          (403, 403,   403,   403,   403, 403,   403),
    "revoke own token":      (200, 200,   200,   200,   200, 200,   200),
}  # fmt: skip


@pytest.fixture
def quick_pdfs(monkeypatch):
    """The matrix is about who may have a document, not its pages: WeasyPrint is skipped."""
    from muster.documents import pdf

    monkeypatch.setattr(pdf, "render_pdf", lambda template, context: pdf.Pdf(b"%PDF-1.7", 1))


def test_the_matrix_covers_every_administration_endpoint(world):
    covered = {
        (method.upper(), path.split("?")[0])
        for _name, method, path, _body in endpoints(world, "hq")
    }
    schema = api.get_openapi_schema()
    admin_tags = {"administration", "policy", "imports", "log", "documents", "tokens"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if set(operation.get("tags", [])) & admin_tags:
                assert any(_matches(path.removeprefix(API), method.upper(), c) for c in covered), (
                    method,
                    path,
                )


def _matches(template: str, method: str, called: tuple[str, str]) -> bool:
    pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
    return called[0] == method and re.match(pattern, called[1]) is not None


@pytest.mark.parametrize("username", ROLES)
def test_each_role_reads_and_writes_only_its_scope(world, username, quick_pdfs):
    walk(username, endpoints(world, username), EXPECTED)
