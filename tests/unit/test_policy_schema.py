"""Policy documents: the examples validate, and a broken file says where and which rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from muster.core.errors import PolicyError, Problem
from muster.policy.schema import PolicyDocument, parse_policy

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "muster" / "policy" / "examples"
NATIONAL = EXAMPLES / "national-2026.yaml"
DRAFT = EXAMPLES / "draft-2027-simplified.yaml"


def national_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(NATIONAL.read_text(encoding="utf-8"))
    data["effective_from"] = "2026-01-01"
    return data


def problems_of(mutate: Callable[[dict[str, Any]], None]) -> list[Problem]:
    """Parse the national example after `mutate`; the problems the parser reports."""
    data = national_data()
    mutate(data)
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(data, sort_keys=False), source="broken.yaml")
    return caught.value.problems


def only_problem(mutate: Callable[[dict[str, Any]], None]) -> Problem:
    problems = problems_of(mutate)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize("path", [NATIONAL, DRAFT], ids=lambda p: p.name)
def test_example_policies_validate(path: Path) -> None:
    document = parse_policy(path.read_text(encoding="utf-8"), source=path.name)
    assert document.jurisdiction == "national"
    assert "firearm" in document.categories


def test_national_policy_encodes_the_situation() -> None:
    policy = parse_policy(NATIONAL.read_text(encoding="utf-8"))
    firearm = policy.categories["firearm"]
    assert policy.ref == "national@2026.1"
    assert policy.status == "in_force"
    assert policy.effective_from == date(2026, 1, 1)
    assert firearm.classes == ["rifle", "pistol"]
    assert firearm.quota is not None and firearm.quota.per_region == 300
    assert firearm.storage is not None and firearm.storage.min_security == "vault"
    assert (firearm.min_age, firearm.two_person_rule, firearm.max_issue_hours) == (21, True, 24)
    assert firearm.authorisers == ["armorer", "commander"]
    limits = {(limit.model_class, limit.attribute): limit.max for limit in policy.legal_limits}
    assert limits[("civilian_rifle", "magazine_capacity")] == 10
    assert policy.security_levels[0] == "none"
    assert policy.security_levels[-1] == "guarded_24h"


def test_draft_models_the_simplifying_bill() -> None:
    draft = parse_policy(DRAFT.read_text(encoding="utf-8"))
    national = parse_policy(NATIONAL.read_text(encoding="utf-8"))
    firearm = draft.categories["firearm"]
    assert (draft.ref, draft.status, draft.effective_from) == (
        "national@2027.1-draft",
        "draft",
        date(2027, 3, 1),
    )
    assert firearm.min_age == 18
    assert firearm.quota is not None and firearm.quota.per_region == 450
    assert firearm.requires[1].within_months == 36
    assert draft.qualification_types["psych_assessment"].default_validity_months == 36
    assert draft.legal_limits == national.legal_limits


@pytest.mark.parametrize("path", [NATIONAL, DRAFT], ids=lambda p: p.name)
def test_stored_json_round_trips_exactly(path: Path) -> None:
    document = parse_policy(path.read_text(encoding="utf-8"))
    stored = document.model_dump(mode="json")
    again = PolicyDocument.model_validate(stored)
    assert again == document
    assert again.model_dump(mode="json") == stored
    assert stored["categories"]["firearm"]["requires"][0]["class"] == "$class"


def test_bad_date_names_the_field_and_the_expected_form() -> None:
    problem = only_problem(lambda d: d.update(effective_from="1 Jan 2026"))
    assert problem == Problem(
        "broken.yaml", "effective_from", "must be a date like 2026-01-01", "1 Jan 2026"
    )


def test_impossible_date_is_refused_not_crashed() -> None:
    text = NATIONAL.read_text(encoding="utf-8").replace("2026-01-01", "2026-02-30")
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="national.yaml")
    [problem] = caught.value.problems
    assert problem.field == "effective_from"
    assert "no such day" in problem.rule


def test_unknown_qualification_names_the_requirement_and_where_to_declare_it() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["categories"]["firearm"]["requires"][1]["qualification"] = "psych"

    problem = only_problem(mutate)
    assert problem.field == "categories.firearm.requires[1].qualification"
    assert problem.rule == (
        "unknown qualification type 'psych' — declare it under qualification_types"
    )
    assert problem.value == "psych"


def test_extra_key_is_refused_at_its_path() -> None:
    problem = only_problem(lambda d: d["categories"]["radio"].update(colour="green"))
    assert (problem.field, problem.rule) == ("categories.radio.colour", "extra field not allowed")


def test_negative_quota_is_refused() -> None:
    problem = only_problem(lambda d: d["categories"]["firearm"]["quota"].update(per_region=-1))
    assert problem.field == "categories.firearm.quota.per_region"
    assert problem.rule == "must be at least 0"


def test_yaml_syntax_error_names_the_line() -> None:
    text = "jurisdiction: national\nversion: '1'\ncategories: [firearm\n"
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="typo.yaml")
    [problem] = caught.value.problems
    assert problem.record == "typo.yaml"
    assert problem.field == "line 4"
    assert problem.rule.startswith("not valid YAML")


def test_a_key_given_twice_is_refused_not_silently_overwritten() -> None:
    text = NATIONAL.read_text(encoding="utf-8") + "\ntitle: second title\n"
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert "key 'title' given twice" in caught.value.problems[0].rule


def test_unquoted_version_gets_a_hint_to_quote_it() -> None:
    text = NATIONAL.read_text(encoding="utf-8").replace('version: "2026.1"', "version: 2026.1")
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    [problem] = caught.value.problems
    assert problem.field == "version"
    assert "quote it" in problem.rule


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy("- just\n- a list\n", source="list.yaml")
    assert caught.value.problems[0].value == "list"


def test_unknown_status_lists_the_statuses() -> None:
    problem = only_problem(lambda d: d["categories"]["drone"].update(eligible_statuses=["retired"]))
    assert problem.field == "categories.drone.eligible_statuses[0]"
    assert "'active'" in problem.rule and "'discharged'" in problem.rule


def test_class_the_qualification_type_does_not_declare() -> None:
    problem = only_problem(
        lambda d: d["categories"]["vehicle"]["requires"][0].update({"class": "Z"})
    )
    assert problem.field == "categories.vehicle.requires[0].class"
    assert "driving_licence has no such class" in problem.rule
    assert problem.value == "Z"


def test_class_placeholder_needs_a_category_with_classes() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["categories"]["ammunition"]["requires"][0]["class"] = "$class"

    problem = only_problem(mutate)
    assert problem.field == "categories.ammunition.requires[0].class"
    assert problem.rule == "$class needs the category to declare classes"


def test_category_class_missing_from_the_training_type() -> None:
    problem = only_problem(
        lambda d: d["categories"]["firearm"].update(classes=["rifle", "shotgun"])
    )
    assert problem.field == "categories.firearm.requires[0].class"
    assert "no class 'shotgun'" in problem.rule


def test_per_class_requirements_name_a_declared_class() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["categories"]["firearm"]["class_requires"] = {
            "revolver": [{"qualification": "first_aid"}]
        }

    problem = only_problem(mutate)
    assert problem.field == "categories.firearm.class_requires.revolver"
    assert problem.rule == (
        "unknown class 'revolver' — declare it under categories.firearm.classes"
    )


def test_unknown_security_level() -> None:
    problem = only_problem(
        lambda d: d["categories"]["drone"]["storage"].update(min_security="bunker")
    )
    assert problem.field == "categories.drone.storage.min_security"
    assert problem.rule.startswith("unknown security level")


def test_counts_and_emergency_issue_name_declared_categories() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["counts"]["interval_days"]["tank"] = 1
        d["emergency_issue"]["categories"].append("helicopter")

    fields = {(p.field, p.value) for p in problems_of(mutate)}
    assert fields == {
        ("counts.interval_days", "tank"),
        ("emergency_issue.categories", "helicopter"),
    }


def test_any_of_alternative_with_unknown_qualification() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["categories"]["counter_drone"]["requires"][0]["any_of"][1]["qualification"] = "pilot"

    problem = only_problem(mutate)
    assert problem.field == "categories.counter_drone.requires[0].any_of[1].qualification"


def test_requirement_must_be_either_a_qualification_or_any_of() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["categories"]["counter_drone"]["requires"][0]["qualification"] = "drone_operator"

    problem = only_problem(mutate)
    assert problem.field == "categories.counter_drone.requires[0]"
    assert "any_of" in problem.rule


def test_every_structural_problem_is_reported_at_once() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d.pop("title")
        d["categories"]["firearm"]["min_age"] = "twenty-one"
        d["categories"]["firearm"]["sensitive"] = "yes"

    problems = {(p.field, p.rule) for p in problems_of(mutate)}
    assert problems == {
        ("title", "is required"),
        ("categories.firearm.min_age", "must be a whole number"),
        ("categories.firearm.sensitive", "must be true or false"),
    }


def test_stored_json_is_cross_checked_too() -> None:
    stored = parse_policy(NATIONAL.read_text(encoding="utf-8")).model_dump(mode="json")
    stored["categories"]["radio"]["requires"][0]["qualification"] = "morse"
    with pytest.raises(ValidationError, match="unknown qualification type 'morse'"):
        PolicyDocument.model_validate(stored)


def test_a_parsed_policy_cannot_be_changed_in_place() -> None:
    policy = parse_policy(NATIONAL.read_text(encoding="utf-8"))
    with pytest.raises(ValidationError):
        policy.categories["firearm"].min_age = 16
