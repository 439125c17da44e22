"""Pure rules of the registry: the status lifecycle and identifier form. No Django here."""

from __future__ import annotations

import re
from datetime import date

STATUSES = ("applicant", "vetting", "active", "suspended", "discharged")

# applicant → vetting → active ↔ suspended → discharged; one may leave from any stage.
TRANSITIONS: dict[str, frozenset[str]] = {
    "applicant": frozenset({"vetting", "discharged"}),
    "vetting": frozenset({"active", "applicant", "discharged"}),
    "active": frozenset({"suspended", "discharged"}),
    "suspended": frozenset({"active", "discharged"}),
    "discharged": frozenset(),
}

NATIONAL_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$")


def transition_problem(current: str, new: str) -> str | None:
    """Why `current → new` is not allowed, or None when it is."""
    if new not in TRANSITIONS:
        return f"unknown status {new!r}; one of {', '.join(STATUSES)}"
    if current == new:
        return f"already {new}"
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (discharge is final)"
        return f"a {current} volunteer cannot become {new}; allowed: {allowed}"
    return None


def normalise_national_id(raw: str) -> str:
    """National identifiers compare without spaces and case."""
    return re.sub(r"\s+", "", raw).upper()


def national_id_problem(value: str) -> str | None:
    if not NATIONAL_ID.match(value):
        return "must be 4–32 letters, digits or hyphens, starting with a letter or digit"
    return None


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_AGE_YEARS = 16
MAX_AGE_YEARS = 100


def _years_between(earlier: date, later: date) -> int:
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def person_problems(
    *,
    national_id: str,
    family_name: str,
    given_name: str,
    birth_date: date | None,
    joined_on: date | None,
    status: str,
    email: str,
    prior_service_months: int,
    combat_experience_months: int,
    today: date,
) -> list[tuple[str, str, str]]:
    """Every (field, rule, value) a volunteer's record breaks; empty when it is sound."""
    problems: list[tuple[str, str, str]] = []
    why = national_id_problem(national_id)
    if why:
        problems.append(("national_id", why, national_id))
    if not family_name.strip():
        problems.append(("family_name", "is required", family_name))
    if not given_name.strip():
        problems.append(("given_name", "is required", given_name))
    if status not in STATUSES:
        problems.append(("status", f"must be one of {', '.join(STATUSES)}", status))
    if email and not EMAIL.match(email):
        problems.append(("email", "is not an e-mail address", email))
    if birth_date is not None:
        if birth_date > today:
            problems.append(("birth_date", "is in the future", birth_date.isoformat()))
        elif _years_between(birth_date, today) > MAX_AGE_YEARS:
            problems.append(
                (
                    "birth_date",
                    f"makes the person older than {MAX_AGE_YEARS}",
                    birth_date.isoformat(),
                )
            )
    if joined_on is not None:
        if joined_on > today:
            problems.append(("joined_on", "is in the future", joined_on.isoformat()))
        if birth_date is not None and joined_on <= birth_date:
            problems.append(("joined_on", "is not after the birth date", joined_on.isoformat()))
        elif birth_date is not None and _years_between(birth_date, joined_on) < MIN_AGE_YEARS:
            problems.append(
                (
                    "joined_on",
                    f"the person was under {MIN_AGE_YEARS} on this date",
                    joined_on.isoformat(),
                )
            )
    if prior_service_months < 0:
        problems.append(("prior_service_months", "cannot be negative", str(prior_service_months)))
    if combat_experience_months < 0:
        problems.append(
            ("combat_experience_months", "cannot be negative", str(combat_experience_months))
        )
    return problems
