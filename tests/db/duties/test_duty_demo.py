"""The demo's week of duties (built here on the tiny demo; `muster demo --tiny` leaves them
out): every battalion has its posts and a week of shifts, rostered within the rules, with
some places left open, and every duty row has its journal entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from test_duty_invariants import roster_violations

from muster.demo.builder import build_demo
from muster.demo.duties import summarise_duties
from muster.demo.plan import scale_regions
from muster.duties.models import (
    Assignment,
    AssignmentEvent,
    Availability,
    DutyType,
    Post,
    Shift,
    ShiftEquipment,
    ShiftRequirement,
)
from muster.duties.rules import week_start
from muster.journal.models import JournalEntry
from muster.people.models import Unit


@pytest.fixture
def demo_week(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    build_demo(regions=scale_regions("tiny"), seed=2026, duties=True)


def test_each_battalion_has_posts_and_a_week_of_shifts(demo_week):
    monday = week_start(timezone.localdate())
    for battalion in Unit.objects.filter(kind="battalion"):
        posts = Post.objects.filter(unit=battalion)
        assert posts.count() == 3
        shifts = Shift.objects.filter(post__in=posts)
        days = {timezone.localdate(s.starts_at) for s in shifts}
        assert days == {monday + dt.timedelta(days=n) for n in range(7)}
    assert DutyType.objects.count() == 4


def test_the_roster_keeps_the_rules_and_leaves_some_gaps(demo_week):
    assert roster_violations() == []
    summary = summarise_duties()
    assert summary.short > 0 and summary.filled > summary.places // 2
    now = timezone.now()
    over = Assignment.objects.filter(shift__ends_at__lte=now)
    assert not over.filter(state="assigned").exists()  # every shift over was attended or not


def test_every_duty_row_has_its_journal_entry(demo_week):
    def kinds(*names: str) -> int:
        return JournalEntry.objects.filter(kind__in=names).count()

    assert kinds("duty.type_defined") == DutyType.objects.count()
    assert kinds("duty.post_created") == Post.objects.count()
    assert kinds("duty.shift_created") == Shift.objects.count()
    assert (
        JournalEntry.objects.filter(subject_type="assignment", kind__startswith="duty.").count()
        == AssignmentEvent.objects.count()
    )
    assert kinds("duty.availability_recorded") == Availability.objects.count()
    assert ShiftRequirement.objects.exists() and ShiftEquipment.objects.exists()
    assert set(
        JournalEntry.objects.filter(kind__startswith="duty.").values_list("actor", flat=True)
    ) == {"system:demo"}
