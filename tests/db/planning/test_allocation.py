"""Allocation plans as a region's administrator and a battalion's commander use them: the
plan ranks the eligible volunteers without a rifle by experience, shares the rifles between
the battalions by the documented rule and explains every choice and non-choice; approving it
creates issue tasks and never an issue; a task is done once the armorer issues through the
normal flow; withdrawing cancels what is still open."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.db import transaction
from planning_world import issue, scope_for

from muster.access.scope import Forbidden
from muster.armory.models import Item
from muster.journal.models import JournalEntry
from muster.people.models import Unit
from muster.planning.models import AllocationPlan, IssueTask, TaskCancellation
from muster.planning.selectors import task_states, tasks_in
from muster.planning.services import PlanningError, approve_plan, make_plan, withdraw_plan
from muster.policy.services import load_policy
from worlds import NATIONAL


def region_plan(accounts, **options) -> AllocationPlan:
    return make_plan(
        actor=_actor(accounts["admin1"]),
        scope=scope_for(accounts["admin1"]),
        region=Unit.objects.get(code="R1"),
        **options,
    )


def _actor(user):
    from muster.core.actors import Actor

    return Actor.for_user(user)


def chosen(plan: AllocationPlan) -> list[tuple[str, str]]:
    return [
        (line.person.national_id, line.item.serial)
        for line in plan.lines.filter(outcome="chosen").select_related("person", "item")
    ]


def test_the_plan_ranks_by_experience_and_shares_seats_among_battalions(accounts, battalions):
    plan = region_plan(accounts, limit=6)
    assert plan.state == "draft" and plan.seats == 6 and plan.policy == "national@2026.1"
    # 6 of 9 candidates in B1, 3 in B2: 6 × 6/9 = 4 and 6 × 3/9 = 2 seats; best ranks first,
    # each taking a rifle of their own battalion's arms room.
    assert chosen(plan) == [
        ("B2P1", "S0001"),
        ("B1P1", "R0001"),
        ("B1P2", "R0002"),
        ("B1P3", "R0003"),
        ("B1P4", "R0004"),
        ("B2P2", "S0002"),
    ]
    basis = plan.basis
    assert (basis["available"], basis["issued"], basis["headroom"], basis["candidates"]) == (
        13,
        1,
        299,
        9,
    )
    assert basis["excluded"] == {
        "not_eligible": 1,
        "armed": 1,
        "tasked": 0,
        "no_item_of_their_class": 0,
    }
    shares = {s["battalion"]: s["seats"] for s in basis["shares"]}
    assert shares == {"R1-B1": 4, "R1-B2": 2}
    line = plan.lines.get(person__national_id="B1P2")
    assert line.rank == 2 and line.battalion.code == "R1-B1"
    assert line.step == (
        "round 1: R1-B1 gets 4 of 6 seats (6 of 9 candidates × 6 seats = 4.00 → 4); "
        "seat 2 of 4: rank 2 in R1-B1"
    )
    assert "combat_experience 5 months × 5 points a month = 25" in line.explanation
    assert "proposed VPR-223 R0002 at ARM-1 (the site of their unit)" in line.explanation


def test_notable_non_choices_are_explained_and_nobody_unfit_is_chosen(accounts, battalions):
    plan = region_plan(accounts, limit=6)
    passed = {
        line.person.national_id: line.explanation
        for line in plan.lines.exclude(outcome="chosen").select_related("person")
    }
    assert set(passed) == {"B1P5", "B1P6", "B2P3"}
    assert passed["B2P3"].startswith("rank 3 in R1-B2 (score ")
    assert "R1-B2's 2 seats went to higher ranks" in passed["B2P3"]
    names = {line.person.national_id for line in plan.lines.select_related("person")}
    assert "B1PX" not in names and "B1PA" not in names  # not vetted; armed already


def test_a_site_plan_shares_only_that_sites_rifles_among_its_units_people(accounts, battalions):
    plan = make_plan(
        actor=_actor(accounts["commander"]),
        scope=scope_for(accounts["commander"]),
        site=battalions.vault2.__class__.objects.get(code="ARM-1"),
    )
    # ARM-1 belongs to B1: its 9 rifles at the site, B1's 6 candidates.
    assert plan.seats == 9 and plan.unit.code == "R1-B1"
    assert [p for p, _ in chosen(plan)] == [f"B1P{n}" for n in range(1, 7)]


def test_the_quota_headroom_bounds_the_seats(accounts, battalions, actor):
    smaller = yaml.safe_load(NATIONAL)
    smaller["version"] = "2026.2"
    smaller["effective_from"] = dt.date.today() - dt.timedelta(days=1)
    smaller["categories"]["firearm"]["quota"]["per_region"] = 3
    load_policy(actor=actor, text=yaml.safe_dump(smaller), source="smaller.yaml")
    plan = region_plan(accounts)
    assert plan.seats == 2 and plan.basis["headroom"] == 2  # 3 − 1 issued
    assert [p for p, _ in chosen(plan)] == ["B2P1", "B1P1"]


def test_approval_creates_tasks_and_never_an_issue(accounts, battalions):
    plan = region_plan(accounts, limit=6)
    custody = JournalEntry.objects.filter(kind__startswith="custody.").count()
    places = dict(Item.objects.values_list("serial", "place"))
    tasks = approve_plan(
        actor=_actor(accounts["admin1"]), scope=scope_for(accounts["admin1"]), plan_id=plan.pk
    )
    assert len(tasks) == 6
    assert JournalEntry.objects.filter(kind__startswith="custody.").count() == custody
    assert dict(Item.objects.values_list("serial", "place")) == places
    plan.refresh_from_db()
    assert plan.state == "approved" and plan.approved_by == "admin1"
    kinds = list(
        JournalEntry.objects.filter(subject_type="plan", subject_id=str(plan.pk))
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == ["plan.created", "plan.approved"]
    assert all(k.startswith("plan.") for k in kinds)
    states = {
        s.task.person.national_id: s.state for s in task_states(tasks_in(scope_for(accounts["hq"])))
    }
    assert states == dict.fromkeys(["B2P1", "B1P1", "B1P2", "B1P3", "B1P4", "B2P2"], "open")
    with pytest.raises(PlanningError) as again:
        approve_plan(
            actor=_actor(accounts["admin1"]), scope=scope_for(accounts["admin1"]), plan_id=plan.pk
        )
    assert again.value.problems[0].field == "state"


def test_a_task_is_done_after_a_normal_issue_and_withdrawal_cancels_the_rest(
    accounts, armory, battalions
):
    plan = region_plan(accounts, limit=6)
    approve_plan(
        actor=_actor(accounts["admin1"]), scope=scope_for(accounts["admin1"]), plan_id=plan.pk
    )
    b1p1, b1p2 = battalions.b1_people[:2]
    issue(armory, b1p1, "R0001")  # the rifle proposed
    issue(armory, b1p2, "R0005")  # another rifle of the category does the task too
    states = {
        s.task.person.national_id: (s.state, s.done_serial)
        for s in task_states(tasks_in(scope_for(accounts["hq"])))
    }
    assert states["B1P1"] == ("done", "R0001") and states["B1P2"] == ("done", "R0005")
    assert states["B1P3"] == ("open", "")
    cancelled = withdraw_plan(
        actor=_actor(accounts["admin1"]),
        scope=scope_for(accounts["admin1"]),
        plan_id=plan.pk,
        reason="the bill passed; plan again",
    )
    assert len(cancelled) == 4 and TaskCancellation.objects.count() == 4
    after = {
        s.task.person.national_id: s.state for s in task_states(tasks_in(scope_for(accounts["hq"])))
    }
    assert after["B1P1"] == "done" and after["B1P3"] == "cancelled"
    plan.refresh_from_db()
    assert plan.state == "withdrawn" and plan.withdraw_reason == "the bill passed; plan again"
    assert AllocationPlan.objects.count() == 1 and IssueTask.objects.count() == 6


def test_open_tasks_hold_their_people_items_and_quota_for_the_next_plan(accounts, battalions):
    first = region_plan(accounts, limit=2)
    approve_plan(
        actor=_actor(accounts["admin1"]), scope=scope_for(accounts["admin1"]), plan_id=first.pk
    )
    second = region_plan(accounts, limit=2)
    assert second.basis["reserved"] == 2 and second.basis["excluded"]["tasked"] == 2
    taken = {serial for _, serial in chosen(first)}
    assert not taken & {serial for _, serial in chosen(second)}
    assert not {p for p, _ in chosen(first)} & {p for p, _ in chosen(second)}


def test_a_stale_plan_is_refused_naming_each_line(accounts, armory, battalions):
    plan = region_plan(accounts, limit=6)
    issue(armory, battalions.b1_people[0], "R0001")  # before the approval
    with pytest.raises(PlanningError) as refused:
        approve_plan(
            actor=_actor(accounts["admin1"]), scope=scope_for(accounts["admin1"]), plan_id=plan.pk
        )
    problems = [(p.record, p.field) for p in refused.value.problems]
    assert (f"plan {plan.pk} line 2 (B1P1)", "person") in problems
    assert any(p.field == "item" and "R0001" in p.rule for p in refused.value.problems)
    assert IssueTask.objects.count() == 0
    assert AllocationPlan.objects.get(pk=plan.pk).state == "draft"


@pytest.mark.parametrize(
    ("username", "allowed"),
    [("hq", True), ("admin1", True), ("commander", False), ("armorer", False),
     ("auditor", False), ("admin2", False), ("vet", False)],
)  # fmt: skip
def test_who_may_plan_and_approve_for_a_region(accounts, battalions, username, allowed):
    user = accounts[username]
    with transaction.atomic():
        if allowed:
            plan = region_plan({**accounts, "admin1": user})
            approve_plan(actor=_actor(user), scope=scope_for(user), plan_id=plan.pk)
        else:
            with pytest.raises(Forbidden):
                region_plan({**accounts, "admin1": user})
        transaction.set_rollback(True)


def test_bad_input_is_refused_with_the_field(accounts, battalions):
    admin = accounts["admin1"]
    with pytest.raises(PlanningError) as both:
        make_plan(actor=_actor(admin), scope=scope_for(admin), limit=0, category="nothing")
    assert {p.field for p in both.value.problems} == {"site", "limit", "category"}
    plan = region_plan(accounts)
    with pytest.raises(PlanningError) as why:
        withdraw_plan(actor=_actor(admin), scope=scope_for(admin), plan_id=plan.pk, reason=" ")
    assert why.value.problems[0].field == "reason"
