"""The command line: `muster policy simulate` prints what a draft would change and writes its
PDF and XLSX, writing nothing to the database; `muster allocate` plans, shows, approves and
withdraws a plan and lists its tasks, refusing bad input with the record, field and rule."""

from __future__ import annotations

from io import StringIO

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from planning_world import draft_yaml, issue, table_sizes

from muster.journal.selectors import journal_size
from worlds import PASSWORD


def muster(*args):
    """Run a command as `muster` would: (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*map(str, args), stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_policy_simulate_prints_the_changes_and_writes_the_files_but_nothing_else(
    accounts, young_rifleman, tmp_path
):
    def older(data):
        data["categories"]["firearm"]["min_age"] = 30

    draft = tmp_path / "draft.yaml"
    draft.write_text(draft_yaml(older), encoding="utf-8")
    pdf, xlsx = tmp_path / "sim.pdf", tmp_path / "sim.xlsx"
    before, size = table_sizes(), journal_size()
    status, out, err = muster("policy", "simulate", draft, "--pdf", pdf, "--xlsx", xlsx)
    assert status == 0, err
    assert table_sizes() == before and journal_size() == size
    assert "national@2099.1-draft (Test draft) against national@2026.1" in out
    assert "~ categories.firearm.min_age: 21 → 30" in out
    assert "ineligible firearm/rifle    YR0000001 Moroz Ostap (R1-B1-C1)" in out
    assert "VPR-223 R0001 (assignment) held by YR0000001" in out
    assert "R1 firearm: issued 1; in force 300 (headroom 299)" in out
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "Recalls" in openpyxl.load_workbook(xlsx, read_only=True).sheetnames


def test_policy_simulate_lists_every_problem_of_a_bad_draft(armory, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("jurisdiction: national\nversion: '1'\ncategories: {}\n", encoding="utf-8")
    status, _, err = muster("policy", "simulate", bad)
    assert status == 2
    assert "bad.yaml, title: is required" in err
    assert "bad.yaml, security_levels: is required" in err
    status, _, err = muster("policy", "simulate", tmp_path / "absent.yaml")
    assert status == 2 and "absent.yaml, file: does not exist" in err


def test_policy_simulate_refuses_an_unknown_region(armory, tmp_path):
    draft = tmp_path / "draft.yaml"
    draft.write_text(draft_yaml(lambda data: None), encoding="utf-8")
    status, _, err = muster("policy", "simulate", draft, "--region", "NOPE")
    assert status == 2 and "region NOPE, region:" in err


@pytest.fixture
def admin1(accounts, battalions, monkeypatch):
    monkeypatch.setenv("MUSTER_USER", "admin1")
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    return accounts["admin1"]


def test_allocate_plans_approves_and_lists_the_tasks(admin1, armory, battalions):
    status, out, err = muster("allocate", "plan", "--region", "R1", "--limit", "3")
    assert status == 0, err
    assert (
        "seats 3 = min(available 13, quota headroom 299 = 300 − 1 issued − 0 in open tasks, limit 3)"
        in out
    )
    assert "1. chosen   B2P1 Bondar B2P1 (R1-B2)" in out
    assert "round 1: R1-B1 gets 2 of 3 seats (6 of 9 candidates × 3 seats = 2.00 → 2)" in out
    plan = out.split("plan ", 1)[1].split(":", 1)[0]
    status, shown, _ = muster("allocate", "show", plan)
    assert status == 0 and "B1P1 Bondar B1P1 (R1-B1)" in shown
    status, out, err = muster("allocate", "approve", plan)
    assert status == 0, err
    assert "3 issue tasks created" in out and "VPR-223 R0001 at ARM-1 to B1P1" in out
    issue(armory, battalions.b1_people[0], "R0001")
    status, out, _ = muster("allocate", "tasks", "--site", "ARM-1")
    assert "to B1P1 Bondar B1P1 (R1-B1-C1): done (issued R0001" in out
    assert "to B1P2 Bondar B1P2 (R1-B1-C1): open" in out
    assert "S0001" not in out  # ARM-2's task is not listed
    status, out, _ = muster("allocate", "withdraw", plan, "--reason", "replanned")
    assert status == 0 and "2 open tasks cancelled" in out
    status, out, _ = muster("allocate", "tasks", "--plan", plan, "--state", "cancelled")
    assert out.count("cancelled (replanned)") == 2


def test_allocate_refuses_with_the_record_field_and_rule(accounts, battalions, monkeypatch):
    monkeypatch.setenv("MUSTER_USER", "commander")
    monkeypatch.setenv("MUSTER_PASSWORD", PASSWORD)
    status, _, err = muster("allocate", "plan", "--region", "R1")
    assert status == 2
    assert "plan for region R1, unit: commander may people change only in their own units" in err
    status, _, err = muster("allocate", "plan", "--site", "NOPE")
    assert status == 2 and "site NOPE, code: no storage site has this code" in err
    status, _, err = muster("allocate", "show", "999")
    assert status == 2 and "plan 999, plan: no such plan" in err
    status, _, err = muster("allocate", "approve", "999")
    assert status == 2 and "plan 999, id: no such plan" in err
