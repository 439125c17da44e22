"""Eligibility, worked through with the national policy: who may be issued what, and why not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.core.errors import PolicyError
from muster.policy.rules import (
    Decision,
    PersonFacts,
    QualificationFact,
    add_months,
    category_of,
    evaluate,
    evaluate_all,
    targets,
)
from muster.policy.schema import STATUSES, PolicyDocument, parse_policy

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "muster" / "policy" / "examples"
NATIONAL = parse_policy((EXAMPLES / "national-2026.yaml").read_text(encoding="utf-8"))
DRAFT = parse_policy((EXAMPLES / "draft-2027-simplified.yaml").read_text(encoding="utf-8"))
TODAY = date(2026, 5, 10)


def qual(
    code: str,
    obtained: date,
    klass: str = "",
    *,
    expires: date | None = None,
    revoked: date | None = None,
) -> QualificationFact:
    return QualificationFact(code, klass, obtained, expires, revoked)


def vetted_rifleman(**changes: object) -> PersonFacts:
    """An active 35-year-old with everything a rifle needs, all obtained recently."""
    person = PersonFacts(
        ref="UA-0001",
        status="active",
        birth_date=date(1991, 3, 2),
        qualifications=(
            qual("firearms_training", date(2026, 2, 1), "rifle", expires=date(2027, 2, 1)),
            qual("psych_assessment", date(2025, 1, 15), expires=date(2027, 1, 15)),
            qual("medical_fitness", date(2025, 9, 1), expires=date(2026, 9, 1)),
            qual("background_check", date(2024, 6, 1), expires=date(2027, 6, 1)),
        ),
    )
    return replace(person, **changes)  # type: ignore[arg-type]


def with_quals(person: PersonFacts, *extra: QualificationFact, drop: str = "") -> PersonFacts:
    kept = tuple(q for q in person.qualifications if q.type_code != drop)
    return replace(person, qualifications=kept + extra)


def reason(decision: Decision, rule: str) -> tuple[bool, str]:
    [found] = [r for r in decision.reasons if r.rule == rule]
    return found.ok, found.message


# --- worked examples ----------------------------------------------------------------------------


def test_a_fully_vetted_volunteer_may_be_issued_a_rifle_and_every_check_is_explained() -> None:
    decision = evaluate(vetted_rifleman(), NATIONAL, "firearm/rifle", TODAY)
    assert decision.allowed
    assert decision.policy == "national@2026.1"
    assert decision.moment == TODAY
    assert [r.rule for r in decision.reasons] == [
        "categories.firearm.eligible_statuses",
        "categories.firearm.min_age",
        "categories.firearm.requires[0]",
        "categories.firearm.requires[1]",
        "categories.firearm.requires[2]",
        "categories.firearm.requires[3]",
    ]
    assert [r.code for r in decision.reasons] == ["status", "min_age"] + ["qualification"] * 4
    assert decision.refusals == ()


def test_a_volunteer_whose_psych_assessment_lapsed_yesterday_may_not_be_issued_a_rifle() -> None:
    lapsed = qual("psych_assessment", date(2024, 5, 9), expires=TODAY - timedelta(days=1))
    person = with_quals(vetted_rifleman(), lapsed, drop="psych_assessment")
    decision = evaluate(person, NATIONAL, "firearm/rifle", TODAY)
    assert not decision.allowed
    [refusal] = decision.refusals
    assert refusal.rule == "categories.firearm.requires[1]"
    assert refusal.code == "qualification"
    assert refusal.message == "psych_assessment obtained 2024-05-09 expired on 2026-05-09"


def test_a_psych_assessment_older_than_24_months_is_refused_naming_the_cutoff() -> None:
    old = qual("psych_assessment", date(2023, 5, 1))
    person = with_quals(vetted_rifleman(), old, drop="psych_assessment")
    ok, message = reason(
        evaluate(person, NATIONAL, "firearm/rifle", TODAY), "categories.firearm.requires[1]"
    )
    assert not ok
    assert message == (
        "psych_assessment obtained 2023-05-01 is older than 24 months (needed since 2024-05-10)"
    )


def test_an_assessment_obtained_exactly_on_the_cutoff_day_still_counts() -> None:
    on_cutoff = qual("psych_assessment", date(2024, 5, 10))
    day_before = qual("psych_assessment", date(2024, 5, 9))
    rule = "categories.firearm.requires[1]"
    person = vetted_rifleman()
    assert reason(
        evaluate(
            with_quals(person, on_cutoff, drop="psych_assessment"), NATIONAL, "firearm/rifle", TODAY
        ),
        rule,
    )[0]
    assert not reason(
        evaluate(
            with_quals(person, day_before, drop="psych_assessment"),
            NATIONAL,
            "firearm/rifle",
            TODAY,
        ),
        rule,
    )[0]


def test_rifle_training_does_not_qualify_for_a_pistol() -> None:
    decision = evaluate(vetted_rifleman(), NATIONAL, "firearm/pistol", TODAY)
    assert not decision.allowed
    [refusal] = decision.refusals
    assert refusal.rule == "categories.firearm.requires[0]"
    assert refusal.message == "no firearms_training/pistol obtained by 2026-05-10 (holds: rifle)"


def test_a_qualification_revoked_today_no_longer_counts() -> None:
    revoked = qual("background_check", date(2024, 6, 1), revoked=TODAY)
    person = with_quals(vetted_rifleman(), revoked, drop="background_check")
    decision = evaluate(person, NATIONAL, "firearm/rifle", TODAY)
    assert [r.message for r in decision.refusals] == [
        "background_check obtained 2024-06-01 was revoked on 2026-05-10"
    ]
    assert evaluate(person, NATIONAL, "firearm/rifle", TODAY - timedelta(days=1)).allowed


def test_a_qualification_recorded_for_a_later_date_does_not_count_yet() -> None:
    future = qual("medical_fitness", TODAY + timedelta(days=3))
    person = with_quals(vetted_rifleman(), future, drop="medical_fitness")
    ok, message = reason(
        evaluate(person, NATIONAL, "firearm/rifle", TODAY), "categories.firearm.requires[2]"
    )
    assert (ok, message) == (False, "no medical_fitness obtained by 2026-05-10")


def test_a_newer_valid_record_wins_over_an_older_revoked_one() -> None:
    revoked = qual("background_check", date(2023, 1, 1), revoked=date(2023, 6, 1))
    person = with_quals(vetted_rifleman(), revoked)
    assert evaluate(person, NATIONAL, "firearm/rifle", TODAY).allowed


def test_a_volunteer_under_21_may_not_hold_a_firearm_but_may_drive() -> None:
    young = vetted_rifleman(birth_date=date(2006, 1, 1))
    young = with_quals(
        young, qual("driving_licence", date(2024, 2, 1), "B", expires=date(2034, 2, 1))
    )
    rifle = evaluate(young, NATIONAL, "firearm/rifle", TODAY)
    assert [r.message for r in rifle.refusals] == [
        "age 20 on 2026-05-10 is below the minimum of 21 for firearm/rifle"
    ]
    assert evaluate(young, NATIONAL, "vehicle", TODAY).allowed


def test_the_21st_birthday_itself_is_old_enough() -> None:
    person = vetted_rifleman(birth_date=date(2005, 5, 10))
    assert evaluate(person, NATIONAL, "firearm/rifle", TODAY).allowed
    assert not evaluate(person, NATIONAL, "firearm/rifle", TODAY - timedelta(days=1)).allowed


def test_an_unknown_birth_date_refuses_a_category_with_a_minimum_age() -> None:
    decision = evaluate(vetted_rifleman(birth_date=None), NATIONAL, "firearm/rifle", TODAY)
    [refusal] = decision.refusals
    assert (refusal.code, refusal.message) == (
        "min_age",
        "birth date unknown; firearm/rifle needs age 21",
    )


@pytest.mark.parametrize("status", ["applicant", "vetting", "suspended", "discharged"])
def test_only_active_volunteers_may_hold_a_firearm(status: str) -> None:
    decision = evaluate(vetted_rifleman(status=status), NATIONAL, "firearm/rifle", TODAY)
    [refusal] = decision.refusals
    assert refusal.code == "status"
    assert refusal.message == f"status {status} is not eligible for firearm/rifle (needs: active)"


def test_counter_drone_accepts_either_operator_qualification_plus_background_check() -> None:
    base = vetted_rifleman()
    drone_pilot = with_quals(
        base, qual("drone_operator", date(2025, 8, 1), expires=date(2027, 8, 1))
    )
    decision = evaluate(drone_pilot, NATIONAL, "counter_drone", TODAY)
    assert decision.allowed
    ok, message = reason(decision, "categories.counter_drone.requires[0]")
    assert ok
    assert message.startswith("one of the alternatives: drone_operator obtained 2025-08-01")

    neither = evaluate(base, NATIONAL, "counter_drone", TODAY)
    [refusal] = neither.refusals
    assert refusal.message == (
        "none of the alternatives: no counter_drone_operator obtained by 2026-05-10; "
        "no drone_operator obtained by 2026-05-10"
    )


def test_a_lorry_licence_does_not_cover_the_pickups() -> None:
    person = with_quals(vetted_rifleman(), qual("driving_licence", date(2020, 1, 1), "C"))
    decision = evaluate(person, NATIONAL, "vehicle", TODAY)
    assert [r.message for r in decision.refusals] == [
        "no driving_licence/B obtained by 2026-05-10 (holds: C)"
    ]


def test_protective_gear_needs_only_active_status() -> None:
    bare = PersonFacts("UA-0002", "active", None, ())
    decision = evaluate(bare, NATIONAL, "protective_gear", TODAY)
    assert decision.allowed
    assert [r.code for r in decision.reasons] == ["status"]


def test_simulating_the_draft_shows_who_the_bill_would_arm() -> None:
    nineteen = vetted_rifleman(birth_date=date(2007, 1, 1))
    older_psych = with_quals(
        vetted_rifleman(), qual("psych_assessment", date(2024, 1, 10)), drop="psych_assessment"
    )
    for person in (nineteen, older_psych):
        assert not evaluate(person, NATIONAL, "firearm/rifle", TODAY).allowed
        simulated = evaluate(person, DRAFT, "firearm/rifle", TODAY)
        assert simulated.allowed
        assert simulated.policy == "national@2027.1-draft"


def test_evaluate_all_decides_every_target_in_policy_order() -> None:
    decisions = evaluate_all(vetted_rifleman(), NATIONAL, TODAY)
    assert [d.target for d in decisions] == targets(NATIONAL)
    allowed = {d.target for d in decisions if d.allowed}
    assert allowed == {"firearm/rifle", "ammunition", "magazine", "optics", "protective_gear"}
    firearms = evaluate_all(vetted_rifleman(), NATIONAL, TODAY, category="firearm")
    assert [d.target for d in firearms] == ["firearm/rifle", "firearm/pistol"]


def test_targets_name_each_class_of_a_category_with_classes() -> None:
    assert targets(NATIONAL)[:3] == ["firearm/rifle", "firearm/pistol", "ammunition"]
    assert targets(NATIONAL, "drone") == ["drone"]
    assert category_of("firearm/rifle") == "firearm"
    assert category_of("drone") == "drone"


@pytest.mark.parametrize(
    ("target", "rule"),
    [
        ("tank", "unknown category 'tank'"),
        ("firearm", "firearm has classes; name one of: firearm/rifle, firearm/pistol"),
        ("firearm/shotgun", "firearm has classes"),
        ("drone/large", "drone has no classes"),
    ],
)
def test_an_unknown_target_is_an_error_not_a_refusal(target: str, rule: str) -> None:
    with pytest.raises(PolicyError) as caught:
        evaluate(vetted_rifleman(), NATIONAL, target, TODAY)
    [problem] = caught.value.problems
    assert (problem.record, problem.field, problem.value) == ("national@2026.1", "target", target)
    assert problem.rule.startswith(rule)


def test_targets_of_an_unknown_category_names_it() -> None:
    with pytest.raises(PolicyError, match="unknown category 'tank'"):
        targets(NATIONAL, "tank")


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 5, 10), -24, date(2024, 5, 10)),
        (date(2026, 1, 15), -13, date(2024, 12, 15)),
    ],
)
def test_calendar_months_clamp_the_day(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# --- invariants ---------------------------------------------------------------------------------

PAIRS = sorted(
    {
        (code, klass)
        for code, t in NATIONAL.qualification_types.items()
        for klass in t.classes or [""]
    }
)
DAYS = st.dates(min_value=date(2019, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def qualifications(draw: st.DrawFn) -> QualificationFact:
    code, klass = draw(st.sampled_from(PAIRS))
    obtained = draw(DAYS)
    expires = draw(st.none() | st.integers(1, 2000).map(lambda n: obtained + timedelta(days=n)))
    revoked = draw(st.none() | st.integers(0, 2000).map(lambda n: obtained + timedelta(days=n)))
    return QualificationFact(code, klass, obtained, expires, revoked)


people = st.builds(
    PersonFacts,
    ref=st.just("UA-9999"),
    status=st.sampled_from(STATUSES),
    birth_date=st.none() | st.dates(min_value=date(1950, 1, 1), max_value=date(2012, 1, 1)),
    qualifications=st.lists(qualifications(), max_size=10).map(tuple),
)
policies = st.sampled_from([NATIONAL, DRAFT])
moments = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 1, 1))


def all_targets(policy: PolicyDocument) -> st.SearchStrategy[str]:
    return st.sampled_from(targets(policy))


@given(people, policies, moments, st.data())
def test_allowed_iff_every_reason_is_ok(
    person: PersonFacts, policy: PolicyDocument, moment: date, data: st.DataObject
) -> None:
    decision = evaluate(person, policy, data.draw(all_targets(policy)), moment)
    assert decision.reasons
    assert decision.allowed == all(r.ok for r in decision.reasons)
    assert decision.policy == policy.ref


@given(people, policies, moments, st.data())
def test_evaluation_is_deterministic_and_ignores_record_order(
    person: PersonFacts, policy: PolicyDocument, moment: date, data: st.DataObject
) -> None:
    target = data.draw(all_targets(policy))
    first = evaluate(person, policy, target, moment)
    assert evaluate(person, policy, target, moment) == first
    shuffled = replace(
        person, qualifications=tuple(data.draw(st.permutations(person.qualifications)))
    )
    assert evaluate(shuffled, policy, target, moment) == first


@given(people, qualifications(), policies, moments, st.data())
def test_adding_a_qualification_never_turns_an_allowed_decision_into_a_refusal(
    person: PersonFacts,
    extra: QualificationFact,
    policy: PolicyDocument,
    moment: date,
    data: st.DataObject,
) -> None:
    target = data.draw(all_targets(policy))
    before = evaluate(person, policy, target, moment)
    after = evaluate(with_quals(person, extra), policy, target, moment)
    assert after.allowed or not before.allowed


@given(people, policies, moments, st.data())
def test_a_revoked_or_expired_qualification_never_satisfies_a_requirement(
    person: PersonFacts, policy: PolicyDocument, moment: date, data: st.DataObject
) -> None:
    def spoiled(q: QualificationFact) -> QualificationFact:
        lapse = data.draw(st.dates(min_value=q.obtained_on, max_value=max(q.obtained_on, moment)))
        if data.draw(st.booleans()):
            return replace(q, revoked_on=lapse)
        return replace(q, expires_on=lapse)

    lapsed = replace(person, qualifications=tuple(spoiled(q) for q in person.qualifications))
    decision = evaluate(lapsed, policy, data.draw(all_targets(policy)), moment)
    assert not any(r.ok for r in decision.reasons if r.code == "qualification")


@given(people, qualifications(), policies, moments, st.data())
def test_a_record_obtained_after_the_moment_changes_nothing(
    person: PersonFacts,
    extra: QualificationFact,
    policy: PolicyDocument,
    moment: date,
    data: st.DataObject,
) -> None:
    target = data.draw(all_targets(policy))
    later = replace(extra, obtained_on=moment + timedelta(days=1))
    assert evaluate(with_quals(person, later), policy, target, moment) == evaluate(
        person, policy, target, moment
    )


@given(people, policies, moments, st.data())
def test_a_status_not_in_the_allowed_list_always_refuses(
    person: PersonFacts, policy: PolicyDocument, moment: date, data: st.DataObject
) -> None:
    target = data.draw(all_targets(policy))
    allowed = policy.categories[category_of(target)].eligible_statuses
    outside = [s for s in STATUSES if s not in allowed]
    status = data.draw(st.sampled_from(outside))
    decision = evaluate(replace(person, status=status), policy, target, moment)
    assert not decision.allowed
    assert decision.refusals[0].code == "status"


def test_a_per_class_requirement_applies_only_to_that_class() -> None:
    stored = NATIONAL.model_dump(mode="json")
    stored["categories"]["firearm"]["class_requires"] = {"pistol": [{"qualification": "first_aid"}]}
    policy = PolicyDocument.model_validate(stored)
    pistoleer = with_quals(vetted_rifleman(), qual("firearms_training", date(2026, 2, 1), "pistol"))
    rifle = evaluate(pistoleer, policy, "firearm/rifle", TODAY)
    pistol = evaluate(pistoleer, policy, "firearm/pistol", TODAY)
    assert rifle.allowed
    assert [(r.rule, r.message) for r in pistol.refusals] == [
        ("categories.firearm.class_requires.pistol[0]", "no first_aid obtained by 2026-05-10")
    ]
