"""`muster eligibility` and `muster rank` as a vetting officer and a commander use them."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import muster.policy
from muster.policy.services import load_policy
from muster.vetting.services import NewQualification, award_qualifications

NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()
MOMENT = dt.date(2026, 11, 1)


@pytest.fixture
def policy(db, actor):
    load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")


def armed_ready(person, actor, *, rifle_on=dt.date(2026, 6, 1), psych_on=dt.date(2026, 1, 10)):
    award_qualifications(
        actor=actor,
        awards=[
            NewQualification(
                person=person, type_code="firearms_training", klass="rifle", obtained_on=rifle_on
            ),
            NewQualification(person=person, type_code="psych_assessment", obtained_on=psych_on),
            NewQualification(
                person=person, type_code="medical_fitness", obtained_on=dt.date(2026, 2, 1)
            ),
            NewQualification(
                person=person, type_code="background_check", obtained_on=dt.date(2025, 3, 1)
            ),
        ],
    )


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_eligibility_explains_a_refusal_and_cites_the_policy(policy, make_person, actor):
    person = make_person(national_id="VD30000001")
    armed_ready(person, actor, psych_on=dt.date(2024, 5, 1))  # lapsed in May 2026
    decisions = json.loads(
        run("eligibility", "VD30000001", "--category", "firearm", "--at", "2026-11-01", "--json")
    )
    rifle = next(d for d in decisions if d["target"] == "firearm/rifle")
    assert rifle["allowed"] is False
    assert rifle["policy"] == "national@2026.1"
    failed = [r for r in rifle["reasons"] if not r["ok"]]
    assert [r["rule"] for r in failed] == ["categories.firearm.requires[1]"]
    assert "psych_assessment" in failed[0]["message"]


def test_eligibility_allows_a_fully_vetted_volunteer(policy, make_person, actor):
    person = make_person(national_id="VD30000002")
    armed_ready(person, actor)
    text = run("eligibility", "VD30000002", "--category", "firearm", "--at", "2026-11-01")
    assert "firearm/rifle" in text and "ELIGIBLE" in text
    decisions = json.loads(run("eligibility", "VD30000002", "--at", "2026-11-01", "--json"))
    allowed = {d["target"] for d in decisions if d["allowed"]}
    assert "firearm/rifle" in allowed and "firearm/pistol" not in allowed


def test_eligibility_of_an_unknown_person_is_a_clear_refusal(policy):
    with pytest.raises(CommandError):
        run("eligibility", "NOBODY99")


def test_rank_orders_eligible_volunteers_by_experience_and_skips_the_ineligible(
    policy, make_person, actor
):
    veteran = make_person(
        national_id="VD40000001", prior_service_months=120, combat_experience_months=24
    )
    recruit = make_person(national_id="VD40000002")
    lapsed = make_person(
        national_id="VD40000003", prior_service_months=240, combat_experience_months=60
    )
    for person in (veteran, recruit):
        armed_ready(person, actor)
    armed_ready(lapsed, actor, psych_on=dt.date(2023, 1, 1))
    text = run("rank", "--category", "firearm", "--region", "R1", "--at", "2026-11-01")
    assert "2 eligible" in text
    assert text.index("VD40000001") < text.index("VD40000002")
    assert "VD40000003" not in text
