"""`muster policy diff`: what changes if the bill passes, path by path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from muster.policy.diff import DiffLine, diff_documents
from muster.policy.schema import parse_policy

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "muster" / "policy" / "examples"


def stored(name: str) -> dict[str, Any]:
    return parse_policy((EXAMPLES / name).read_text(encoding="utf-8")).model_dump(mode="json")


def test_the_draft_changes_exactly_what_the_bill_says() -> None:
    lines = diff_documents(stored("national-2026.yaml"), stored("draft-2027-simplified.yaml"))
    rules = {line.path: (line.old, line.new) for line in lines if line.kind == "changed"}
    assert {line.kind for line in lines} == {"changed"}
    assert rules["categories.firearm.min_age"] == (21, 18)
    assert rules["categories.firearm.requires[1].within_months"] == (24, 36)
    assert rules["categories.firearm.quota.per_region"] == (300, 450)
    assert rules["qualification_types.psych_assessment.default_validity_months"] == (24, 36)
    assert rules["status"] == ("in_force", "draft")
    assert not any(path.startswith("legal_limits") for path in rules)


def test_a_policy_does_not_differ_from_itself() -> None:
    national = stored("national-2026.yaml")
    assert diff_documents(national, national) == []


def test_added_and_removed_keys_and_list_entries() -> None:
    a = {"categories": {"radio": {"requires": [{"qualification": "radio_operator"}]}}}
    b = {
        "categories": {
            "radio": {"requires": [{"qualification": "radio_operator"}, {"qualification": "x"}]},
            "drone": {"sensitive": True},
        }
    }
    assert diff_documents(a, b) == [
        DiffLine("categories.radio.requires[1]", "added", None, {"qualification": "x"}),
        DiffLine("categories.drone", "added", None, {"sensitive": True}),
    ]
    assert diff_documents(b, a) == [
        DiffLine("categories.radio.requires[1]", "removed", {"qualification": "x"}, None),
        DiffLine("categories.drone", "removed", {"sensitive": True}, None),
    ]


def test_a_list_of_plain_values_is_shown_whole() -> None:
    a = {"eligible_statuses": ["active"]}
    b = {"eligible_statuses": ["active", "vetting"]}
    [line] = diff_documents(a, b)
    assert str(line) == '~ eligible_statuses: ["active"] → ["active", "vetting"]'


def test_a_change_of_type_is_a_change_even_when_python_calls_them_equal() -> None:
    assert diff_documents({"x": 1}, {"x": True}) == [DiffLine("x", "changed", 1, True)]


def test_lines_read_as_plus_minus_and_tilde() -> None:
    assert str(DiffLine("a.b", "added", None, 3)) == "+ a.b: 3"
    assert str(DiffLine("a.b", "removed", "x", None)) == '- a.b: "x"'
    assert str(DiffLine("a.b", "changed", None, 2)) == "~ a.b: null → 2"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
documents = st.dictionaries(st.text(max_size=3), json_values, max_size=4)


@given(documents, documents)
def test_no_lines_iff_the_documents_are_the_same_json(
    a: dict[str, object], b: dict[str, object]
) -> None:
    same = json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert (diff_documents(a, b) == []) == same
    assert diff_documents(a, a) == []
