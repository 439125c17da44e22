"""What if the bill passes: drafts whose effects are known, simulated against the armory's
data, report exactly those effects — who becomes eligible or ineligible and why, the rifle that
must come back, the model out of the legal limits, the site below the storage rule, the
quota's headroom — and write nothing."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import openpyxl
import pytest
from planning_world import (
    draft_of,
    issue,
    scope_for,
    table_sizes,
    years_ago,
)

from muster.core.errors import NotFound, PolicyError
from muster.journal.selectors import journal_size
from muster.planning.exports import simulation_pdf, simulation_xlsx
from muster.planning.simulation import simulate
from muster.policy.schema import PolicyDocument
from muster.vetting.services import NewQualification, award_qualifications


def raise_rifle_age(data):
    data["categories"]["firearm"]["min_age"] = 30


def test_a_higher_minimum_age_makes_the_young_rifleman_ineligible_and_his_rifle_a_recall(
    accounts, young_rifleman, rifleman
):
    before, size = table_sizes(), journal_size()
    report = simulate(draft=draft_of(raise_rifle_age), scope=scope_for(accounts["hq"]))
    assert table_sizes() == before and journal_size() == size
    assert report.current == "national@2026.1" and report.draft == "national@2099.1-draft"
    assert report.evaluated_categories == ["firearm"]
    assert [(c.national_id, c.target, c.becomes) for c in report.changes] == [
        ("YR0000001", "firearm/rifle", "ineligible")
    ]
    (change,) = report.changes
    assert change.reasons == (
        (
            "categories.firearm.min_age",
            f"age 25 on {dt.date.today()} is below the minimum of 30 for firearm/rifle",
        ),
    )
    rifle = {t.target: t for t in report.targets}["firearm/rifle"]
    assert (rifle.eligible_now, rifle.eligible_draft, rifle.newly_ineligible) == (2, 1, 1)
    assert [(r.serial, r.national_id, r.home_site) for r in report.recalls] == [
        ("R0001", "YR0000001", "ARM-1")
    ]
    assert report.recalls[0].reasons[0][0] == "categories.firearm.min_age"
    # Nothing else moves: no model, no site, the quota as it was.
    assert report.models == [] and report.sites == []
    quota = {(q.region, q.category): q for q in report.quotas}
    assert (quota[("R1", "firearm")].issued, quota[("R1", "firearm")].headroom_draft) == (1, 299)
    assert quota[("R1", "firearm")].headroom_after_recalls == 300


def test_a_lower_age_makes_a_trained_teenager_newly_eligible_for_ammunition_and_says_why(
    accounts, armory, make_person, actor
):
    teen = make_person(national_id="TN0000001", given_name="Yurko", birth_date=years_ago(19))
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=teen,
                type_code="firearms_training",
                klass="rifle",
                obtained_on=dt.date.today() - dt.timedelta(days=10),
            )
        ],
    )

    def lower_ammunition_age(data):
        data["categories"]["ammunition"]["min_age"] = 18

    report = simulate(draft=draft_of(lower_ammunition_age), scope=scope_for(accounts["hq"]))
    assert [(c.national_id, c.target, c.becomes) for c in report.changes] == [
        ("TN0000001", "ammunition", "eligible")
    ]
    # The reason given is the refusal of the policy in force that the draft lifts.
    assert [rule for rule, _ in report.changes[0].reasons] == ["categories.ammunition.min_age"]
    assert report.recalls == []


def test_a_new_requirement_makes_everyone_without_it_ineligible(accounts, rifleman, young_rifleman):
    def require_first_aid(data):
        data["categories"]["firearm"]["requires"].append({"qualification": "first_aid"})

    report = simulate(draft=draft_of(require_first_aid), scope=scope_for(accounts["hq"]))
    assert sorted((c.national_id, c.becomes) for c in report.changes) == [
        ("VD50000001", "ineligible"),
        ("YR0000001", "ineligible"),
    ]
    assert {c.reasons for c in report.changes} == {
        (("categories.firearm.requires[4]", f"no first_aid obtained by {dt.date.today()}"),)
    }
    assert [r.serial for r in report.recalls] == ["R0001"]


def test_a_lower_magazine_limit_puts_the_rifle_model_out(accounts, armory):
    def five_rounds(data):
        data["legal_limits"][0]["max"] = 5

    report = simulate(draft=draft_of(five_rounds), scope=scope_for(accounts["hq"]))
    assert [(m.code, m.items) for m in report.models] == [("VPR-223", 10)]
    (field, rule, value) = report.models[0].problems[0]
    assert (field, value) == ("magazine_capacity", "10")
    assert "legal_limits[0]: at most 5 for a civilian_rifle" in rule
    assert report.changes == [] and report.recalls == [] and report.sites == []


def test_a_higher_storage_level_puts_the_arms_room_out(accounts, young_rifleman):
    def guarded(data):
        data["categories"]["firearm"]["storage"]["min_security"] = "guarded_24h"

    report = simulate(draft=draft_of(guarded), scope=scope_for(accounts["hq"]))
    assert [(s.code, s.category, s.stored, s.capacity) for s in report.sites] == [
        ("ARM-1", "firearm", 9, 50)
    ]
    assert report.sites[0].problems == (
        (
            "categories.firearm.storage.min_security",
            "firearm needs a site certified guarded_24h or better; ARM-1 is vault_alarmed",
        ),
    )
    assert report.evaluated_categories == [] and report.changes == []


def test_a_smaller_quota_changes_the_headroom_of_each_region(accounts, young_rifleman):
    def quota_of_one(data):
        data["categories"]["firearm"]["quota"]["per_region"] = 1

    report = simulate(draft=draft_of(quota_of_one), scope=scope_for(accounts["hq"]))
    lines = [
        (q.region, q.issued, q.quota_now, q.headroom_now, q.quota_draft, q.headroom_draft)
        for q in report.quotas
        if q.category == "firearm"
    ]
    assert lines == [("R1", 1, 300, 299, 1, 0), ("R2", 0, 300, 300, 1, 1)]
    assert report.recalls == []


def test_issue_rules_recall_assignments_and_long_checkouts(
    accounts, armory, young_rifleman, vetted_rifleman
):
    shift = vetted_rifleman("SH0000001")
    issue(armory, shift, "R0002", kind="checkout", hours=20)

    def shorter(data):
        data["categories"]["firearm"]["assignment_allowed"] = False
        data["categories"]["firearm"]["max_issue_hours"] = 12

    report = simulate(draft=draft_of(shorter), scope=scope_for(accounts["hq"]))
    assert report.changes == []  # eligibility rules are unchanged
    reasons = {r.serial: [rule for rule, _ in r.reasons] for r in report.recalls}
    assert reasons == {
        "R0001": ["categories.firearm.assignment_allowed"],
        "R0002": ["categories.firearm.max_issue_hours"],
    }


def test_each_caller_sees_only_their_scope(accounts, young_rifleman):
    draft = draft_of(raise_rifle_age)
    other = simulate(draft=draft, scope=scope_for(accounts["admin2"]))
    assert other.changes == [] and other.recalls == [] and other.people == 0
    assert [q.region for q in other.quotas] == ["R2"]
    own = simulate(draft=draft, scope=scope_for(accounts["commander"]))
    assert [c.national_id for c in own.changes] == ["YR0000001"]
    assert [q.region for q in own.quotas] == ["R1"]
    narrowed = simulate(draft=draft, scope=scope_for(accounts["hq"]), region_code="R2")
    assert narrowed.changes == [] and narrowed.recalls == []


def test_bad_input_names_the_record_the_field_and_the_rule(accounts, armory):
    hq = scope_for(accounts["hq"])
    with pytest.raises(NotFound) as missing:
        simulate(draft=draft_of(raise_rifle_age), scope=hq, region_code="NOPE")
    assert missing.value.problems[0].field == "region"

    def elsewhere(data):
        data["jurisdiction"] = "atlantis"

    with pytest.raises(PolicyError) as unknown:
        simulate(draft=draft_of(elsewhere), scope=hq)
    assert unknown.value.problems[0].field == "jurisdiction"
    assert "atlantis" in unknown.value.problems[0].rule


def test_the_same_policy_changes_nothing(accounts, young_rifleman):
    from muster.policy.schema import parse_policy
    from worlds import NATIONAL

    same: PolicyDocument = parse_policy(NATIONAL)
    report = simulate(draft=same, scope=scope_for(accounts["hq"]))
    assert report.rules == [] and report.changes == [] and report.recalls == []
    assert report.evaluated_categories == []


def test_the_pdf_and_the_workbook_list_the_summary_and_the_details(
    accounts, young_rifleman, tmp_path
):
    def both(data):
        raise_rifle_age(data)
        data["legal_limits"][0]["max"] = 5

    report = simulate(draft=draft_of(both), scope=scope_for(accounts["hq"]), seen_by="hq")
    pdf = simulation_pdf(report)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "simulation.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "Policy simulation",
        "national@2099.1-draft",
        "Moroz Ostap",
        "R0001",
        "VPR-223",
    ):
        assert expected in text, expected
    book = openpyxl.load_workbook(io.BytesIO(simulation_xlsx(report)), read_only=True)
    assert book.sheetnames == [
        "Summary", "Targets", "Rules", "Eligibility", "Recalls", "Models", "Sites", "Quotas",
    ]  # fmt: skip
    eligibility = list(book["Eligibility"].iter_rows(values_only=True))
    assert eligibility[1][:6] == (
        "YR0000001",
        "Moroz Ostap",
        "R1-B1-C1",
        "R1",
        "firearm/rifle",
        "ineligible",
    )
    recalls = list(book["Recalls"].iter_rows(values_only=True))
    assert recalls[1][0] == "R0001"
    summary = dict(list(book["Summary"].iter_rows(values_only=True))[1:])
    assert summary["Newly ineligible"] == 1 and summary["Items to recall"] == 1
