"""`muster demo`: what someone trying Muster relies on once the demo data is built."""

from __future__ import annotations

import datetime as dt
import io
from importlib import resources

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count

from muster.accounts.models import RoleGrant, User
from muster.demo.builder import DEMO_PASSWORD, POLICY_FILE, USERS
from muster.demo.plan import plan_region, scale_regions
from muster.journal.models import JournalEntry, JournalHead
from muster.people.models import Membership, Person, StatusChange, Unit
from muster.policy.models import PolicyVersion
from muster.policy.schema import parse_policy
from muster.vetting.models import Qualification, QualificationRevocation, QualificationType

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
    )
    assert JournalHead.objects.get().size == JournalEntry.objects.count() == expected
    registered = set(
        JournalEntry.objects.filter(kind="person.registered").values_list("subject_id", flat=True)
    )
    assert registered == {str(pk) for pk in Person.objects.values_list("pk", flat=True)}
    assert set(JournalEntry.objects.values_list("actor", flat=True)) == {"system:demo"}


def test_demo_users_sign_in_with_the_printed_password(tiny_demo):
    assert f"password {DEMO_PASSWORD}" in tiny_demo
    assert "http://127.0.0.1:8000/" in tiny_demo
    for username, *_ in USERS:
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None, username
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
