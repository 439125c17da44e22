"""`muster demo`: what someone trying Muster relies on once the demo data is built."""

from __future__ import annotations

import datetime as dt
import io
import json
from importlib import resources

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.utils import timezone

from muster.accounts.models import RoleGrant, User
from muster.armory.models import (
    Category,
    CountRecord,
    EquipmentModel,
    Incident,
    IncidentNote,
    InventoryCount,
    Item,
    Lot,
    LotBalance,
    QuotaUsage,
    Shipment,
    Site,
    Transfer,
)
from muster.armory.rules import security_meets
from muster.demo.armory import ARMORY_USERS
from muster.demo.builder import DEMO_PASSWORD, POLICY_FILE, USERS
from muster.demo.plan import plan_region, scale_regions
from muster.journal.models import JournalEntry, JournalHead
from muster.people.models import Membership, Person, StatusChange, Unit
from muster.policy.models import PolicyVersion
from muster.policy.schema import parse_policy
from muster.policy.selectors import policy_in_force
from muster.vetting.models import Qualification, QualificationRevocation, QualificationType
from muster.vetting.selectors import eligibility_of

POLICY = parse_policy(
    resources.files("muster.policy").joinpath(POLICY_FILE).read_text(encoding="utf-8")
)
VALIDITY = {code: t.default_validity_months for code, t in POLICY.qualification_types.items()}


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def tiny_demo(db, settings) -> str:
    """A demo of two small regions (a few dozen volunteers), built by the command itself.
    Argon2 is slow on purpose; these tests check the password, not the hash's strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return run_demo("--tiny")


def test_every_volunteer_has_a_membership_and_a_status_history(tiny_demo):
    people = Person.objects.annotate(
        memberships_n=Count("memberships", distinct=True),
        statuses_n=Count("status_changes", distinct=True),
    )
    assert people.count() > 40
    assert not people.filter(memberships_n=0).exists()
    assert not people.filter(statuses_n=0).exists()
    for person in people.filter(status__in=["suspended", "discharged", "vetting"]):
        last = person.status_changes.order_by("-effective_on", "-id").first()
        assert last.to_status == person.status and last.reason


def test_every_row_written_has_its_journal_entry(tiny_demo):
    people = Person.objects.count()
    expected = (
        Unit.objects.count()
        + people  # person.registered
        + StatusChange.objects.count()
        - people  # changes after the first status
        + Membership.objects.count()
        - people  # moves after the first placement
        + Qualification.objects.count()
        + QualificationRevocation.objects.count()
        + QualificationType.objects.count()
        + PolicyVersion.objects.count()
        + User.objects.count()
        + RoleGrant.objects.count()
        + JournalEntry.objects.filter(kind="user.updated").count()
        + _armory_rows()
    )
    assert JournalHead.objects.get().size == JournalEntry.objects.count() == expected
    registered = set(
        JournalEntry.objects.filter(kind="person.registered").values_list("subject_id", flat=True)
    )
    assert registered == {str(pk) for pk in Person.objects.values_list("pk", flat=True)}
    # The demo writes as itself; armory custody is done by the people whose job it is.
    users = set(User.objects.values_list("username", flat=True))
    assert set(JournalEntry.objects.values_list("actor", flat=True)) <= {"system:demo"} | users
    assert not JournalEntry.objects.filter(kind="custody.issue_refused").exists()


def _armory_rows() -> int:
    """Journal entries the armory's rows call for; lot entries are reconciled separately."""
    items = Item.objects.count() + (Item.objects.aggregate(n=Sum("version"))["n"] or 0)
    return (
        Category.objects.count()
        + EquipmentModel.objects.count()
        + Site.objects.count()
        + Shipment.objects.count()
        + items  # custody.received, then one entry per custody change (the version)
        + JournalEntry.objects.filter(subject_type="lot").count()
        + InventoryCount.objects.count()
        + InventoryCount.objects.filter(records__isnull=False).distinct().count()
        + InventoryCount.objects.filter(status="closed").count()  # count.closed, with its parts:
        + JournalEntry.objects.filter(kind__in=["count.lines", "count.heads"]).count()
        + Incident.objects.count()
        + IncidentNote.objects.count()
        + IncidentNote.objects.exclude(status_to="").count()
    )


def test_demo_users_sign_in_with_the_printed_password(tiny_demo):
    assert f"password {DEMO_PASSWORD}" in tiny_demo
    assert "http://127.0.0.1:8000/" in tiny_demo
    for username in [*(u for u, *_ in USERS), *ARMORY_USERS]:
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None, username
        assert username in tiny_demo
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    commander = User.objects.get(username="commander")
    assert commander.person.unit.code == "R01-B1" and commander.person.unit_role == "commander"
    assert RoleGrant.objects.get(user=commander).unit.code == "R01-B1"
    assert RoleGrant.objects.get(user__username="region2", role="regional_admin").unit.code == "R02"
    assert User.objects.get(username="volunteer").person.status == "active"


def test_demo_holds_statuses_qualifications_and_revocations(tiny_demo):
    statuses = set(Person.objects.values_list("status", flat=True))
    assert {"applicant", "vetting", "active"} <= statuses
    assert Qualification.objects.filter(qualification_type__code="firearms_training").exists()
    assert (
        QualificationRevocation.objects.exclude(reason="").count()
        == QualificationRevocation.objects.count()
    )
    assert (
        Unit.objects.filter(kind="region").values_list("jurisdiction", flat=True).distinct().get()
        == "national"
    )
    assert "eligible today in R01" in tiny_demo


def test_same_seed_on_the_same_day_plans_the_same_volunteers():
    spec = scale_regions("seed")[1]
    today = dt.date(2026, 11, 22)

    def national_ids(seed: int) -> list[str]:
        plan = plan_region(spec, seed=seed, today=today, validity=VALIDITY, taken_ids=set())
        return [p.national_id for p in plan.people]

    assert national_ids(7) == national_ids(7)
    assert national_ids(7) != national_ids(8)
    assert all(len(n) == 10 and n.startswith("VD") and n[2:].isdigit() for n in national_ids(7))


def test_the_database_holds_the_planned_volunteers(tiny_demo):
    from django.utils import timezone

    taken: set[str] = set()
    planned = [
        p.national_id
        for spec in scale_regions("tiny")
        for p in plan_region(
            spec, seed=2026, today=timezone.localdate(), validity=VALIDITY, taken_ids=taken
        ).people
    ]
    assert sorted(planned) == sorted(Person.objects.values_list("national_id", flat=True))


def test_if_empty_leaves_a_populated_database_untouched(tiny_demo):
    size, people = JournalHead.objects.get().size, Person.objects.count()
    out = run_demo("--if-empty", "--tiny")
    assert "already there" in out and "make demo-reset" in out
    assert (JournalHead.objects.get().size, Person.objects.count()) == (size, people)


def test_a_populated_database_is_refused_without_if_empty(tiny_demo):
    size = JournalHead.objects.get().size
    with pytest.raises(CommandError, match="empty database"):
        run_demo("--tiny")
    assert JournalHead.objects.get().size == size


def test_regions_is_refused_at_seed_scale():
    with pytest.raises(CommandError, match="--scale national"):
        run_demo("--regions", "3")


# --- the armory ------------------------------------------------------------------------------

# Where each custody event leaves an item.
PLACE_AFTER = {
    "custody.received": "site",
    "custody.issued": "person",
    "custody.returned": "site",
    "custody.dispatched": "in_transit",
    "custody.arrived": "site",
    "custody.sent_to_maintenance": "maintenance",
    "custody.returned_from_maintenance": "site",
    "custody.reported_lost": "lost",
    "custody.reported_stolen": "stolen",
    "custody.recovered": "site",
    "custody.disposed": "disposed",
    "custody.corrected": "site",
}


def test_the_armory_is_stocked_in_certified_sites_that_may_hold_it(tiny_demo):
    today = timezone.localdate()
    serialized = set(Category.objects.filter(tracking="serialized").values_list("code", flat=True))
    assert set(Item.objects.values_list("model__category__code", flat=True)) == serialized
    assert Item.objects.filter(model__category__code="firearm").count() >= 40
    for site in Site.objects.select_related("unit"):
        assert site.certified_on <= today < site.certification_expires, site.code
    policy = policy_in_force("national", today)
    stored = Item.objects.filter(place="site").select_related("site", "model__category")
    for item in stored:
        rule = policy.categories[item.model.category.code].storage
        assert rule is None or security_meets(
            policy.security_levels, item.site.security_level, rule.min_security
        ), (item.serial, item.site.code)
    vehicles = Item.objects.filter(model__category__code="vehicle")
    assert not vehicles.filter(registration="").exists()


def test_some_items_are_issued_and_every_holder_may_hold_them(tiny_demo):
    today = timezone.localdate()
    held = Item.objects.filter(place="person").select_related("holder__unit", "model__category")
    categories = {item.model.category.code for item in held}
    assert {"firearm", "magazine", "radio", "drone"} <= categories
    for item in held:
        decisions = eligibility_of(item.holder, today, item.model.category.code)
        assert any(d.allowed and d.target == item.model.target for d in decisions), item.serial
        assert (item.issue_kind == "checkout") == (item.due_at is not None)
    firearms = held.filter(model__category__code="firearm")
    assert firearms.filter(issue_kind="assignment").count() == firearms.count() > 0
    assert QuotaUsage.objects.get(category__code="firearm").issued == firearms.count()
    issued = JournalEntry.objects.filter(kind="custody.issued", subject_type="item")
    armorer = User.objects.get(username="armorer")
    by_armorer = [json.loads(e.body)["data"] for e in issued.filter(actor=armorer.username)]
    assert any(d.get("second_person") == "commander" for d in by_armorer)


def test_every_items_place_is_the_one_its_journal_history_ends_in(tiny_demo):
    events: dict[str, list[JournalEntry]] = {}
    for entry in JournalEntry.objects.filter(subject_type="item").order_by("seq"):
        events.setdefault(entry.subject_id, []).append(entry)
    items = Item.objects.select_related("site", "holder", "transit_to")
    assert len(events) == items.count()
    for item in items:
        history = events[str(item.pk)]
        assert history[0].kind == "custody.received"
        prev = None
        for entry in history:
            data = json.loads(entry.body)["data"]
            assert (data["serial"], data["prev"]) == (item.serial, prev), entry.seq
            prev = entry.seq
        assert item.last_seq == history[-1].seq and item.version == len(history) - 1
        assert PLACE_AFTER[history[-1].kind] == item.place, item.serial
        last = json.loads(history[-1].body)["data"]
        if item.place == "person":
            assert last["to_person"] == item.holder.national_id
        elif item.place == "site":
            assert last["to_site"] == item.site.code


def test_one_count_is_open_and_one_incident_and_other_loose_ends(tiny_demo):
    count = InventoryCount.objects.get(status="open")
    assert count.category.code == "firearm" and count.site.code == "ARM-R01-B1"
    assert count.counter.username == "commander"
    assert not count.site.custodians.filter(user=count.counter).exists()
    assert CountRecord.objects.filter(count=count).exists()
    incident = Incident.objects.get()
    assert incident.kind == "loss" and incident.status == "investigating"
    assert [i.place for i in incident.items.all()] == ["lost"]
    assert Item.objects.filter(place="maintenance").count() == 1
    transfer = Transfer.objects.get(received_at__isnull=True)
    assert {i.place for i in transfer.items.all()} == {"in_transit"}
    assert "open counts     count" in tiny_demo and "open incidents  incident" in tiny_demo


def test_ammunition_balances_reconcile_to_the_round(tiny_demo):
    received: dict[int, int] = {}
    for entry in JournalEntry.objects.filter(subject_type="lot", kind="lot.received"):
        lot_id = int(entry.subject_id)
        received[lot_id] = received.get(lot_id, 0) + json.loads(entry.body)["data"]["quantity"]
    lots = Lot.objects.all()
    assert len(lots) >= 3 and sum(lot.received_total for lot in lots) >= 10_000
    for lot in lots:
        balances = LotBalance.objects.filter(lot=lot).aggregate(n=Sum("quantity"))["n"]
        assert lot.received_total == received[lot.pk]
        assert lot.received_total == balances + lot.expended_total + lot.written_off_total
    assert LotBalance.objects.filter(holder__isnull=False, quantity__gt=0).exists()
    assert Lot.objects.filter(expended_total__gt=0).exists()


def test_the_demo_journal_is_in_the_log_under_a_signed_checkpoint(tiny_demo):
    from muster.journal import log
    from muster.journal.models import JournalEntry
    from muster_verify import merkle
    from muster_verify.checkpoint import open_checkpoint
    from muster_verify.note import parse_verifier_key

    latest = log.latest_checkpoint()
    opened = open_checkpoint(latest.note, parse_verifier_key(log.verifier_key()))
    bodies = JournalEntry.objects.order_by("seq").values_list("body", flat=True)
    assert opened.size == len(bodies)
    assert f"{len(bodies):,} entries in the Merkle tree, checkpoint signed" in tiny_demo
    assert opened.root_hash == merkle.root([merkle.leaf_hash(b.encode()) for b in bodies])
