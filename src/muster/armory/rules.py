"""Pure rules of custody: which moves are allowed from which place, storage and legal limits.
No Django here; the services apply these under row locks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

# Which places an operation may take an item from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "issue": frozenset({"site"}),
    "return": frozenset({"person"}),
    "dispatch": frozenset({"site"}),
    "arrive": frozenset({"in_transit"}),
    "to_maintenance": frozenset({"site"}),
    "from_maintenance": frozenset({"maintenance"}),
    "report_missing": frozenset({"site", "person", "in_transit", "maintenance"}),
    "recover": frozenset({"lost", "stolen", "in_transit"}),
    "dispose": frozenset({"site", "maintenance"}),
}

# Who receives shipments into a site (besides its custodians): armorers and quartermasters,
# who hold the armorer role over it.
RECEIVING_ROLES = ("armorer",)

PLACE_WORDS = {
    "site": "at a storage site",
    "person": "issued to a person",
    "in_transit": "in transit",
    "maintenance": "in maintenance",
    "lost": "reported lost",
    "stolen": "reported stolen",
    "disposed": "disposed",
}


def move_problem(operation: str, place: str) -> str | None:
    """Why an item at `place` cannot undergo `operation`, or None when it can."""
    allowed = ALLOWED_FROM[operation]
    if place in allowed:
        return None
    wanted = " or ".join(PLACE_WORDS[p] for p in sorted(allowed))
    return f"is {PLACE_WORDS.get(place, place)}; {operation.replace('_', ' ')} needs it {wanted}"


def security_meets(levels: list[str], site_level: str, needed: str) -> bool:
    """A site certified at one level meets that level and every lower one."""
    if site_level not in levels or needed not in levels:
        return False
    return levels.index(site_level) >= levels.index(needed)


def legal_limit_problems(
    limits: Iterable[Any], legal_class: str, attributes: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    """Every (field, rule, value) by which a model of `legal_class` breaks the legal limits.
    `limits` are the policy's legal_limits (model_class, attribute, min, max, note)."""
    problems: list[tuple[str, str, str]] = []
    for index, limit in enumerate(limits):
        if limit.model_class != legal_class:
            continue
        rule = f"legal_limits[{index}]"
        value = attributes.get(limit.attribute)
        if value is None:
            problems.append(
                (limit.attribute, f"{rule}: a {legal_class} must state its {limit.attribute}", "")
            )
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append((limit.attribute, f"{rule}: must be a whole number", str(value)))
            continue
        note = f" ({limit.note})" if limit.note else ""
        if limit.max is not None and value > limit.max:
            problems.append(
                (
                    limit.attribute,
                    f"{rule}: at most {limit.max} for a {legal_class}{note}",
                    str(value),
                )
            )
        if limit.min is not None and value < limit.min:
            problems.append(
                (
                    limit.attribute,
                    f"{rule}: at least {limit.min} for a {legal_class}{note}",
                    str(value),
                )
            )
    return problems


def due_at(
    *, now: dt.datetime, kind: str, hours: int | None, max_issue_hours: int | None
) -> tuple[dt.datetime | None, str | None]:
    """When a checkout is due back, or why the request is not allowed.
    An assignment has no due time; a checkout defaults to (and may not exceed) the policy maximum."""
    if kind == "assignment":
        return None, None
    if hours is not None and hours <= 0:
        return None, "a checkout must last at least one hour"
    if max_issue_hours is None:
        if hours is None:
            return None, "the policy sets no maximum checkout; say how many hours (--hours)"
        return now + dt.timedelta(hours=hours), None
    if hours is not None and hours > max_issue_hours:
        return None, f"the policy allows a checkout of at most {max_issue_hours} hours"
    return now + dt.timedelta(hours=hours or max_issue_hours), None
