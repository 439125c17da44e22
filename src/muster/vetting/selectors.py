"""Reads over vetting records, and eligibility computed from them by the policy engine.

Eligibility is never stored: it is evaluated from the records and the policy in force each
time, so it cannot drift from either.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import QuerySet

from muster.core import rows
from muster.people.models import Person, Unit
from muster.people.selectors import jurisdiction_of
from muster.policy.ranking import ExperienceFacts, Score, rank
from muster.policy.rules import (
    Decision,
    PersonFacts,
    QualificationFact,
    evaluate_all,
    in_force,
    qualification_types_used,
)
from muster.policy.selectors import policy_in_force
from muster.vetting.models import Qualification, QualificationRevocation, QualificationType

CHUNK = 5000


def qualifications_of(person: Person) -> QuerySet[Qualification]:
    """A person's whole qualification history, newest first, with revocations."""
    return (
        Qualification.objects.filter(person=person)
        .select_related("qualification_type", "revocation")
        .order_by("-obtained_on", "-id")
    )


def person_facts(person: Person) -> PersonFacts:
    """The facts the eligibility engine decides on, for one person: one plain query (it runs
    before every issue)."""
    with rows.cursor() as cursor:
        cursor.execute(*facts_query(person.pk))
        return facts_from(person, cursor.fetchall())


def facts_query(person_id: int) -> tuple[str, list[Any]]:
    """The statement person_facts runs, for callers that send it along with others."""
    return _sql(_QUALS_OF_PERSON), [person_id]


def facts_from(person: Person, found: Sequence[Sequence[Any]]) -> PersonFacts:
    """PersonFacts from the rows of `facts_query`."""
    to_date = _date_parser()
    return PersonFacts(
        ref=person.national_id,
        status=person.status,
        birth_date=person.birth_date,
        qualifications=tuple(
            QualificationFact(code, klass, to_date(obtained), to_date(expires), to_date(revoked))
            for code, klass, obtained, expires, revoked in found
        ),
    )


_QUALS_OF_PERSON = (
    "SELECT t.code, q.klass, {q.obtained_on}, {q.expires_on}, {r.revoked_on} "
    "FROM vetting_qualification q "
    "JOIN vetting_qualificationtype t ON t.id = q.qualification_type_id "
    "LEFT JOIN vetting_qualificationrevocation r ON r.qualification_id = q.id "
    "WHERE q.person_id = %s ORDER BY q.id"
)


class PersonRow(NamedTuple):
    """The registry fields eligibility and ranking need, without a model instance per person
    (a named tuple: 100,000 of them are built in one pass)."""

    pk: int
    national_id: str
    name: str
    unit_code: str
    unit_path: str
    jurisdiction: str
    prior_service_months: int
    combat_experience_months: int
    since_in_unit: dt.date | None


def people_with_facts(
    people: QuerySet[Person], types: Collection[str] | None = None
) -> Iterator[tuple[PersonRow, PersonFacts]]:
    """Stream (row, facts) for every person in `people`, in id order; with `types`, facts hold
    only qualifications of those types (all a decision on one category looks at).

    Built for the whole force at once (100,000 people, 400,000 records): three plain range
    queries per 5,000 people, no joins, dates parsed once each."""
    jurisdictions = _jurisdictions_by_unit()
    units = {pk: (code, path) for pk, code, path in Unit.objects.values_list("pk", "code", "path")}
    type_codes = dict(QualificationType.objects.values_list("pk", "code"))
    if types is not None:
        type_codes = {pk: code for pk, code in type_codes.items() if code in types}
    revoked = dict(QualificationRevocation.objects.values_list("qualification_id", "revoked_on"))
    to_date = _date_parser()
    last_id = 0
    while True:
        chunk = list(
            people.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list(
                "pk",
                "national_id",
                "family_name",
                "given_name",
                "unit_id",
                "status",
                "birth_date",
                "prior_service_months",
                "combat_experience_months",
            )[:CHUNK]
        )
        if not chunk:
            return
        low, last_id = chunk[0][0], chunk[-1][0]
        quals: dict[int, list[QualificationFact]] = defaultdict(list)
        since: dict[int, dt.date] = {}
        with connection.cursor() as cursor:
            cursor.execute(_sql(_QUALS_IN_RANGE), [low, last_id])
            for person_id, type_id, klass, obtained, expires, qual_id in cursor.fetchall():
                if type_id not in type_codes:
                    continue
                quals[person_id].append(
                    QualificationFact(
                        type_codes[type_id],
                        klass,
                        to_date(obtained),
                        to_date(expires),
                        revoked.get(qual_id),
                    )
                )
            cursor.execute(_sql(_LATEST_PLACEMENT_IN_RANGE), [low, last_id])
            since = {person_id: to_date(day) for person_id, day in cursor.fetchall()}
        for pk, nid, family, given, unit_id, status, born, prior, combat in chunk:
            code, path = units[unit_id]
            yield (
                PersonRow(
                    pk=pk,
                    national_id=nid,
                    name=f"{family} {given}",
                    unit_code=code,
                    unit_path=path,
                    jurisdiction=jurisdictions[unit_id],
                    prior_service_months=prior,
                    combat_experience_months=combat,
                    since_in_unit=since.get(pk),
                ),
                PersonFacts(
                    ref=nid, status=status, birth_date=born, qualifications=tuple(quals[pk])
                ),
            )


_QUALS_IN_RANGE = (
    "SELECT person_id, qualification_type_id, klass, {obtained_on}, {expires_on}, id "
    "FROM vetting_qualification WHERE person_id BETWEEN %s AND %s"
)
_LATEST_PLACEMENT_IN_RANGE = (
    "SELECT person_id, {MAX(since)} FROM people_membership "
    "WHERE person_id BETWEEN %s AND %s GROUP BY person_id"
)


def _sql(template: str) -> str:
    """On SQLite, read dates as text: Django's per-value converter costs more than parsing
    each distinct date once (see _date_parser)."""
    return _sql_for(template, connection.vendor)


@cache
def _sql_for(template: str, vendor: str) -> str:
    if vendor == "sqlite":
        return re.sub(r"\{([^}]+)\}", r"CAST(\1 AS TEXT)", template)
    return re.sub(r"\{([^}]+)\}", r"\1", template)


class _Dates(dict[object, "dt.date | None"]):
    """Dates arrive as date objects (PostgreSQL) or ISO text (SQLite). Each distinct value is
    parsed once; later lookups are plain dict hits, with no Python call per value."""

    def __missing__(self, key: object) -> dt.date | None:
        day = key if key is None or isinstance(key, dt.date) else dt.date.fromisoformat(str(key))
        self[key] = day
        return day


def _date_parser() -> Callable[[object], Any]:
    return _Dates().__getitem__


def _jurisdictions_by_unit() -> dict[int, str]:
    """unit id → the nearest jurisdiction on the unit or an ancestor, for every unit."""
    units = list(Unit.objects.values_list("pk", "path", "jurisdiction"))
    own = {pk: j for pk, _, j in units}
    result = {}
    for pk, path, _ in units:
        chain = [int(p) for p in path.strip("/").split("/") if p]
        result[pk] = next((own[u] for u in reversed(chain) if own.get(u)), "")
    return result


def eligibility_of(person: Person, moment: dt.date, category: str | None = None) -> list[Decision]:
    """Every decision for a person at `moment`, under the policy in force for their unit."""
    policy = policy_in_force(jurisdiction_of(person.unit), moment)
    return evaluate_all(person_facts(person), policy, moment, category)


def months_between(earlier: dt.date, later: dt.date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return max(0, months - (later.day < earlier.day))


@dataclass(frozen=True)
class Ranked:
    person: PersonRow
    score: Score
    decisions: tuple[Decision, ...]


VETTING_CHECK = "background_check"


def is_vetted(facts: PersonFacts, moment: dt.date) -> bool:
    """Vetted (R10's readiness figure): an active volunteer whose background check is in
    force, the check every category of controlled equipment builds on. Load the check with
    `extra_types=(VETTING_CHECK,)` when reading facts for it."""
    return facts.status == "active" and any(
        q.type_code == VETTING_CHECK and in_force(q, moment) for q in facts.qualifications
    )


def decisions_for_people(
    *, category: str, moment: dt.date, people: QuerySet[Person], extra_types: Collection[str] = ()
) -> Iterator[tuple[PersonRow, PersonFacts, list[Decision]]]:
    """Every person's decisions on every target of one category, under the policy in force for
    their unit: the whole force in one pass (R2, R10)."""
    policies = {j: policy_in_force(j, moment) for j in set(_jurisdictions_by_unit().values()) if j}
    # Load only the records a decision (or the caller) can look at.
    types = set(extra_types)
    for policy in policies.values():
        types.update(qualification_types_used(policy, category))
    for row, facts in people_with_facts(people, types):
        yield row, facts, evaluate_all(facts, policies[row.jurisdiction], moment, category)


def ranked_eligible(*, category: str, moment: dt.date, people: QuerySet[Person]) -> list[Ranked]:
    """Volunteers eligible for any target of `category`, best experience first (R3)."""
    policies = {j: policy_in_force(j, moment) for j in set(_jurisdictions_by_unit().values()) if j}
    # Load only the records a decision or the score can look at.
    types = {
        code
        for policy in policies.values()
        for code in (
            *qualification_types_used(policy, category),
            *policy.priority.counted_qualifications,
        )
    }
    candidates = []
    for row, facts in people_with_facts(people, types):
        policy = policies[row.jurisdiction]
        decisions = tuple(d for d in evaluate_all(facts, policy, moment, category) if d.allowed)
        if not decisions:
            continue
        valid_codes = frozenset(q.type_code for q in facts.qualifications if in_force(q, moment))
        experience = ExperienceFacts(
            prior_service_months=row.prior_service_months,
            combat_experience_months=row.combat_experience_months,
            qualification_codes=valid_codes,
            months_in_unit=months_between(row.since_in_unit, moment) if row.since_in_unit else 0,
        )
        candidates.append(((row, decisions, policy), experience))
    if not candidates:
        return []
    # Every jurisdiction's own weights apply; one ranking needs one set, so use the first's
    # when all agree and refuse to mix otherwise.
    weights = {p.priority.model_dump_json() for p in policies.values()}
    if len(weights) > 1:
        from muster.core.errors import PolicyError

        raise PolicyError.single(
            "rank",
            "priority",
            "the selected people fall under policies with different priority weights; "
            "rank one jurisdiction at a time (--region)",
        )
    first_policy = next(iter(policies.values()))
    ordered = rank(candidates, first_policy.priority)
    return [
        Ranked(person=row, score=score, decisions=decisions)
        for (row, decisions, _), score in ordered
    ]
