"""The eligibility engine: the one place that decides who may hold which equipment, and why.

A decision is computed from a person's facts and a policy, never ticked by hand. Every check
yields a Reason, ok or not, and the decision is allowed iff every reason is ok. Pure Python.
Each (policy, target) pair is compiled once into plain closures, so the hot path does no
pydantic work: 100,000 people for one category take a second or two.
"""

from __future__ import annotations

import calendar
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from muster.core.errors import PolicyError, Problem
from muster.policy.schema import CLASS_PLACEHOLDER, CategoryPolicy, PolicyDocument, Requirement


@dataclass(frozen=True, slots=True)
class QualificationFact:
    """One qualification record as the engine sees it; `klass` is "" for types without classes."""

    type_code: str
    klass: str
    obtained_on: date
    expires_on: date | None
    revoked_on: date | None


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the engine needs to know about a person; `ref` (national id) is only for messages."""

    ref: str
    status: str
    birth_date: date | None
    qualifications: tuple[QualificationFact, ...]


@dataclass(frozen=True, slots=True)
class Reason:
    """The outcome of one check: which rule of the policy, whether it passed, and why."""

    rule: str
    ok: bool
    message: str
    code: str


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a person may hold a target at a moment under a policy; allowed iff all reasons ok."""

    target: str
    allowed: bool
    reasons: tuple[Reason, ...]
    policy: str
    moment: date

    @property
    def refusals(self) -> tuple[Reason, ...]:
        """The reasons that did not pass (empty when allowed)."""
        return tuple(r for r in self.reasons if not r.ok)


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic, clamping the day: Mar 31 − 1 month is Feb 28 (29 in leap years)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def in_force(qual: QualificationFact, moment: date) -> bool:
    """Obtained by `moment`, not yet expired and not revoked on or before it."""
    return (
        qual.obtained_on <= moment
        and (qual.expires_on is None or qual.expires_on > moment)
        and (qual.revoked_on is None or qual.revoked_on > moment)
    )


def qualification_types_used(policy: PolicyDocument, category: str) -> frozenset[str]:
    """Every qualification type a decision on `category` can look at, so that callers deciding
    for many people need load no other records."""
    rule = policy.categories[category]
    requirements = list(rule.requires)
    for extra in rule.class_requires.values():
        requirements.extend(extra)
    return frozenset(
        alt.qualification for req in requirements for alt in req.alternatives() if alt.qualification
    )


def category_of(target: str) -> str:
    """The category part of a target: "firearm/rifle" -> "firearm"."""
    return target.partition("/")[0]


def targets(policy: PolicyDocument, category: str | None = None) -> list[str]:
    """Every target of the policy (or of one category): the category, or category/class per class."""
    if category is not None and category not in policy.categories:
        raise _unknown(policy, "category", category, f"unknown category '{category}'")
    names = [category] if category is not None else list(policy.categories)
    out: list[str] = []
    for name in names:
        classes = policy.categories[name].classes
        out.extend([f"{name}/{klass}" for klass in classes] if classes else [name])
    return out


def evaluate(facts: PersonFacts, policy: PolicyDocument, target: str, moment: date) -> Decision:
    """Decide one target for one person at a moment; an unknown target raises PolicyError."""
    return _run(_compiled(policy, target), facts, _by_type(facts), moment)


def evaluate_all(
    facts: PersonFacts, policy: PolicyDocument, moment: date, category: str | None = None
) -> list[Decision]:
    """Decide every target of the policy (or of one category) for one person, in policy order."""
    by_type = _by_type(facts)
    return [_run(_compiled(policy, t), facts, by_type, moment) for t in targets(policy, category)]


# --- compiled checks -------------------------------------------------------------------------

QualsByType = Mapping[str, Sequence[QualificationFact]]
Check = Callable[[PersonFacts, QualsByType, date], Reason]


@dataclass(frozen=True, slots=True)
class _Compiled:
    target: str
    policy_ref: str
    checks: tuple[Check, ...]


def _run(compiled: _Compiled, facts: PersonFacts, by_type: QualsByType, moment: date) -> Decision:
    reasons = tuple([check(facts, by_type, moment) for check in compiled.checks])
    allowed = all(r.ok for r in reasons)
    return Decision(compiled.target, allowed, reasons, compiled.policy_ref, moment)


def _by_type(facts: PersonFacts) -> dict[str, list[QualificationFact]]:
    grouped: dict[str, list[QualificationFact]] = {}
    for qual in facts.qualifications:
        grouped.setdefault(qual.type_code, []).append(qual)
    return grouped


_CACHE_SIZE = 256
_cache: dict[tuple[int, str], tuple[PolicyDocument, _Compiled]] = {}
_cache_lock = threading.Lock()


def _compiled(policy: PolicyDocument, target: str) -> _Compiled:
    """Compile once per (policy object, target); the cache holds the policy so its id stays unique."""
    hit = _cache.get((id(policy), target))
    if hit is not None and hit[0] is policy:
        return hit[1]
    compiled = _compile(policy, target)
    with _cache_lock:
        while len(_cache) >= _CACHE_SIZE:
            del _cache[next(iter(_cache))]
        _cache[(id(policy), target)] = (policy, compiled)
    return compiled


def _compile(policy: PolicyDocument, target: str) -> _Compiled:
    name, _, klass = target.partition("/")
    category = policy.categories.get(name)
    if category is None:
        raise _unknown(policy, "target", target, f"unknown category '{name}'")
    if category.classes and klass not in category.classes:
        known = ", ".join(f"{name}/{c}" for c in category.classes)
        raise _unknown(policy, "target", target, f"{name} has classes; name one of: {known}")
    if not category.classes and klass:
        raise _unknown(policy, "target", target, f"{name} has no classes; name it as '{name}'")
    where = f"categories.{name}"
    checks: list[Check] = [_status_check(f"{where}.eligible_statuses", category, target)]
    if category.min_age is not None:
        checks.append(_age_check(f"{where}.min_age", category.min_age, target))
    for i, requirement in enumerate(category.requires):
        checks.append(_qualification_check(f"{where}.requires[{i}]", requirement, klass, policy))
    for i, requirement in enumerate(category.class_requires.get(klass, [])):
        path = f"{where}.class_requires.{klass}[{i}]"
        checks.append(_qualification_check(path, requirement, klass, policy))
    return _Compiled(target, policy.ref, tuple(checks))


def _unknown(policy: PolicyDocument, field: str, value: str, rule: str) -> PolicyError:
    declared = ", ".join(targets(policy))
    return PolicyError([Problem(policy.ref, field, f"{rule} (targets: {declared})", value)])


# Reasons are immutable, so each check memoises them by the few values its message depends on:
# people share statuses, ages and (within a region) record dates, and this keeps the hot path
# to a few comparisons and a cache hit.


def _status_check(rule: str, category: CategoryPolicy, target: str) -> Check:
    allowed = frozenset(category.eligible_statuses)
    listed = ", ".join(category.eligible_statuses) or "no status at all"

    @lru_cache(maxsize=64)
    def reason(status: str) -> Reason:
        if status in allowed:
            return Reason(rule, True, f"status {status} is eligible for {target}", "status")
        message = f"status {status} is not eligible for {target} (needs: {listed})"
        return Reason(rule, False, message, "status")

    def check(facts: PersonFacts, _quals: QualsByType, _moment: date) -> Reason:
        return reason(facts.status)

    return check


def _age_check(rule: str, min_age: int, target: str) -> Check:
    unknown = Reason(rule, False, f"birth date unknown; {target} needs age {min_age}", "min_age")

    @lru_cache(maxsize=1024)
    def reason(age: int, moment: date) -> Reason:
        if age >= min_age:
            return Reason(rule, True, f"age {age} on {moment} meets minimum {min_age}", "min_age")
        message = f"age {age} on {moment} is below the minimum of {min_age} for {target}"
        return Reason(rule, False, message, "min_age")

    def check(facts: PersonFacts, _quals: QualsByType, moment: date) -> Reason:
        born = facts.birth_date
        if born is None:
            return unknown
        age = moment.year - born.year - ((moment.month, moment.day) < (born.month, born.day))
        return reason(age, moment)

    return check


def _qualification_check(
    rule: str, requirement: Requirement, target_class: str, policy: PolicyDocument
) -> Check:
    alternatives = [
        _AlternativeCheck(rule, _alternative(alt, target_class, policy))
        for alt in requirement.alternatives()
    ]
    if len(alternatives) == 1:
        return alternatives[0].assess

    def check_any(facts: PersonFacts, quals: QualsByType, moment: date) -> Reason:
        outcomes = [alt.assess(facts, quals, moment) for alt in alternatives]
        for outcome in outcomes:
            if outcome.ok:
                message = f"one of the alternatives: {outcome.message}"
                return Reason(rule, True, message, "qualification")
        message = "none of the alternatives: " + "; ".join(o.message for o in outcomes)
        return Reason(rule, False, message, "qualification")

    return check_any


@dataclass(frozen=True, slots=True)
class _Alternative:
    """One qualification that would satisfy a requirement; klass None means any class."""

    type_code: str
    klass: str | None
    within_months: int | None

    @property
    def label(self) -> str:
        return self.type_code + (f"/{self.klass}" if self.klass else "")


def _alternative(alt: Requirement, target_class: str, policy: PolicyDocument) -> _Alternative:
    code = alt.qualification or ""
    klass = target_class if alt.klass == CLASS_PLACEHOLDER else alt.klass
    has_classes = bool(policy.qualification_types[code].classes)
    return _Alternative(code, klass if has_classes else None, alt.within_months)


class _AlternativeCheck:
    """Assesses one alternative: a record of the type (and class) valid at the moment."""

    def __init__(self, rule: str, alt: _Alternative) -> None:
        self.rule = rule
        self.alt = alt
        self.passed = lru_cache(maxsize=8192)(self._passed)
        self.failed = lru_cache(maxsize=8192)(self._failed)
        self.missing = lru_cache(maxsize=256)(self._missing)

    def assess(self, _facts: PersonFacts, by_type: QualsByType, moment: date) -> Reason:
        """A valid record passes (the latest is cited); otherwise the latest one says why not."""
        alt = self.alt
        months = alt.within_months
        cutoff = _cutoff(moment, months) if months else None
        klass = alt.klass
        best: QualificationFact | None = None
        latest: QualificationFact | None = None
        quals = by_type.get(alt.type_code, ())
        for qual in quals:
            obtained = qual.obtained_on
            if obtained > moment or (klass is not None and qual.klass != klass):
                continue
            if latest is None or (obtained >= latest.obtained_on and _cited_before(qual, latest)):
                latest = qual
            # in_force(), inlined: this loop runs for every requirement of every person.
            if (
                (qual.revoked_on is None or qual.revoked_on > moment)
                and (qual.expires_on is None or qual.expires_on > moment)
                and (cutoff is None or obtained >= cutoff)
                and (best is None or (obtained >= best.obtained_on and _cited_before(qual, best)))
            ):
                best = qual
        if best is not None:
            return self.passed(best.obtained_on, best.expires_on, cutoff)
        if latest is not None:
            return self.failed(
                latest.obtained_on, latest.expires_on, latest.revoked_on, moment, cutoff
            )
        held = tuple(sorted({q.klass for q in quals if q.obtained_on <= moment}))
        return self.missing(moment, held)

    def _passed(self, obtained: date, expires: date | None, cutoff: date | None) -> Reason:
        until = f"until {expires}" if expires else "with no expiry"
        since = f" (needed since {cutoff})" if cutoff else ""
        message = f"{self.alt.label} obtained {obtained}, valid {until}{since}"
        return Reason(self.rule, True, message, "qualification")

    def _failed(
        self,
        obtained: date,
        expires: date | None,
        revoked: date | None,
        moment: date,
        cutoff: date | None,
    ) -> Reason:
        head = f"{self.alt.label} obtained {obtained}"
        if revoked is not None and revoked <= moment:
            message = f"{head} was revoked on {revoked}"
        elif expires is not None and expires <= moment:
            message = f"{head} expired on {expires}"
        else:
            message = (
                f"{head} is older than {self.alt.within_months} months (needed since {cutoff})"
            )
        return Reason(self.rule, False, message, "qualification")

    def _missing(self, moment: date, held: tuple[str, ...]) -> Reason:
        holds = f" (holds: {', '.join(held)})" if self.alt.klass is not None and held else ""
        message = f"no {self.alt.label} obtained by {moment}{holds}"
        return Reason(self.rule, False, message, "qualification")


def _cited_before(qual: QualificationFact, other: QualificationFact) -> bool:
    """Which of two records a message cites: the later obtained, then a total order on the rest,
    so that the order records arrive in never changes a decision."""
    if qual.obtained_on != other.obtained_on:
        return qual.obtained_on > other.obtained_on
    return _tiebreak(qual) > _tiebreak(other)


def _tiebreak(qual: QualificationFact) -> tuple[date, date, str]:
    return (qual.expires_on or date.max, qual.revoked_on or date.max, qual.klass)


@lru_cache(maxsize=4096)
def _cutoff(moment: date, months: int) -> date:
    return add_months(moment, -months)
