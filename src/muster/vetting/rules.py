"""Pure rules of qualification records. No Django here."""

from __future__ import annotations

import datetime as dt

from muster.policy.rules import add_months

# Records older than this are refused as typing mistakes (e.g. 1925 for 2025).
OLDEST_PLAUSIBLE = dt.date(1950, 1, 1)


def default_expiry(obtained_on: dt.date, validity_months: int | None) -> dt.date | None:
    return None if validity_months is None else add_months(obtained_on, validity_months)


def qualification_problems(
    *,
    type_classes: tuple[str, ...],
    klass: str,
    obtained_on: dt.date,
    expires_on: dt.date | None,
    today: dt.date,
) -> list[tuple[str, str, str]]:
    """Every (field, rule, value) a qualification record breaks; empty when it is sound."""
    problems: list[tuple[str, str, str]] = []
    if type_classes and klass not in type_classes:
        rule = f"must be one of {', '.join(type_classes)} for this qualification"
        problems.append(("class", rule, klass))
    if not type_classes and klass:
        problems.append(("class", "this qualification has no classes; leave it empty", klass))
    if obtained_on > today:
        problems.append(("obtained_on", "is in the future", obtained_on.isoformat()))
    if obtained_on < OLDEST_PLAUSIBLE:
        problems.append(
            ("obtained_on", f"is before {OLDEST_PLAUSIBLE.isoformat()}", obtained_on.isoformat())
        )
    if expires_on is not None and expires_on <= obtained_on:
        problems.append(("expires_on", "must be after the date obtained", expires_on.isoformat()))
    return problems
