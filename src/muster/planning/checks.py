"""How two policies differ in what they decide, item by item: the comparisons a policy
simulation (planning.simulation) makes of a category's rules, an issued item, a model and a
site under each policy. No queries here: the records come in, reasons go out."""

from __future__ import annotations

import datetime as dt

from muster.armory.models import EquipmentModel, Item, Site
from muster.armory.rules import legal_limit_problems, security_meets
from muster.core.errors import PolicyError
from muster.planning.report import Reasons
from muster.policy.rules import (
    Decision,
    PersonFacts,
    evaluate,
    evaluate_all,
    qualification_types_used,
)
from muster.policy.schema import PolicyDocument

# What a category's eligibility depends on, besides the classes of the qualification types
# it requires; and what an issue of it must respect.
ELIGIBILITY_FIELDS = ("eligible_statuses", "min_age", "classes", "requires", "class_requires")
ISSUE_FIELDS = ("assignment_allowed", "max_issue_hours")


def fields_differ(
    current: PolicyDocument, draft: PolicyDocument, code: str, names: tuple[str, ...]
) -> bool:
    a, b = current.categories.get(code), draft.categories.get(code)
    if a is None or b is None:
        return True
    return bool(a.model_dump(include=set(names)) != b.model_dump(include=set(names)))


def eligibility_changed(current: PolicyDocument, draft: PolicyDocument, code: str) -> bool:
    """Whether the two policies could decide some person differently on this category."""
    if fields_differ(current, draft, code, ELIGIBILITY_FIELDS):
        return True
    for type_code in qualification_types_used(current, code):
        a = current.qualification_types.get(type_code)
        b = draft.qualification_types.get(type_code)
        if a is None or b is None or bool(a.classes) != bool(b.classes):
            return True
    return False


def decide(
    facts: PersonFacts, policy: PolicyDocument, moment: dt.date, code: str | None
) -> dict[str, Decision]:
    """The decisions on one category's targets (every target's, for None), by target."""
    if code is not None and code not in policy.categories:
        return {}
    return {d.target: d for d in evaluate_all(facts, policy, moment, code)}


def refusals(decision: Decision | None, policy: PolicyDocument, target: str) -> Reasons:
    if decision is None:
        return ((f"categories.{target.partition('/')[0]}", f"{policy.ref} has no target {target}"),)
    return tuple((r.rule, r.message) for r in decision.refusals)


def compliance(
    policy: PolicyDocument, facts: PersonFacts, item: Item, moment: dt.date, eligibility: bool
) -> Reasons:
    """Why `item`, issued as it is, would be due back under `policy` (empty: it may stay);
    with `eligibility`, the holder's eligibility for its target is asked of the engine too."""
    code = item.model.category.code
    rule = policy.categories.get(code)
    if rule is None:
        return ((f"categories.{code}", f"{policy.ref} does not cover the category {code}"),)
    reasons: list[tuple[str, str]] = []
    if eligibility:
        try:
            decision = evaluate(facts, policy, item.model.target, moment)
        except PolicyError as error:
            return tuple((f"categories.{code}.classes", p.rule) for p in error.problems)
        reasons.extend((r.rule, r.message) for r in decision.refusals)
    where = f"categories.{code}"
    if item.issue_kind == "assignment" and not rule.assignment_allowed:
        reasons.append(
            (f"{where}.assignment_allowed", "an assignment is not allowed: only a checkout")
        )
    if (
        item.issue_kind == "checkout"
        and rule.max_issue_hours is not None
        and item.issued_at is not None
        and item.due_at is not None
        and item.due_at - item.issued_at > dt.timedelta(hours=rule.max_issue_hours)
    ):
        hours = (item.due_at - item.issued_at).total_seconds() / 3600
        reasons.append(
            (
                f"{where}.max_issue_hours",
                f"checked out for {hours:g} hours; at most {rule.max_issue_hours} allowed",
            )
        )
    return tuple(reasons)


def model_problems(policy: PolicyDocument, model: EquipmentModel) -> list[tuple[str, str, str]]:
    """What `muster catalogue load` would refuse of the model under `policy`."""
    problems = [
        (name, f"{policy.ref} {rule}", value)
        for name, rule, value in legal_limit_problems(
            policy.legal_limits, model.legal_class, model.attributes or {}
        )
    ]
    rule_for = policy.categories.get(model.category.code)
    if rule_for is not None:
        if rule_for.classes and model.weapon_class not in rule_for.classes:
            problems.append(
                (
                    "weapon_class",
                    f"{policy.ref} decides {model.category.code} by class: one of "
                    f"{', '.join(rule_for.classes)}",
                    model.weapon_class,
                )
            )
        if not rule_for.classes and model.weapon_class:
            problems.append(
                (
                    "weapon_class",
                    f"{policy.ref} has no classes of {model.category.code}",
                    model.weapon_class,
                )
            )
    return problems


def storage_problems(
    policy: PolicyDocument,
    site: Site,
    code: str,
    stored: int,
    returning: int,
    capacity: int | None,
) -> list[tuple[str, str, str]]:
    """(kind, rule, message) for each way `site` would break `policy` holding `code`."""
    problems = []
    rule = policy.categories.get(code)
    needed = rule.storage.min_security if rule and rule.storage else None
    level = site.security_level
    if needed:
        if level not in policy.security_levels:
            problems.append(
                (
                    "level",
                    "security_levels",
                    f"{policy.ref} does not list the security level {level} of {site.code}",
                )
            )
        elif not security_meets(policy.security_levels, level, needed):
            problems.append(
                (
                    "security",
                    f"categories.{code}.storage.min_security",
                    f"{code} needs a site certified {needed} or better; {site.code} is {level}",
                )
            )
    total = stored + returning
    if capacity is not None and total > capacity:
        coming = f" once {returning} recalled items come back" if returning else ""
        problems.append(
            (
                "capacity",
                "capacity",
                f"{site.code} would hold {total} {code} of a capacity of {capacity}{coming}",
            )
        )
    return problems


def quota(policy: PolicyDocument, code: str) -> int | None:
    rule = policy.categories.get(code)
    return rule.quota.per_region if rule is not None and rule.quota is not None else None
