"""Vetted and eligible active members per unit (R10), counted once and then kept current.

A full count is the policy engine's pass over every active member a scope sees
(vetting.selectors.decisions_for_people): seconds at national scale. After it, each member's
outcome is kept, and every request brings the counts up to date before they are shown:

- journal entries about a person (registered, moved, suspended, a qualification awarded or
  revoked) have those people, and only them, decided again;
- on a new day, only the members whose decision can change on a day that has come are decided
  again: the day a record of theirs was obtained, expires or is revoked, a `within_months`
  window of the policy closes, or a birthday (the minimum age);
- entries that cannot change who is vetted or eligible (the armory's, bookkeeping, a unit
  created, a role granted) change nothing.

Everything else counts everyone again: another kind (a policy loaded, a qualification type
redefined, a kind added later), a reference-data change the journal does not explain, another
policy version in force, a journal that is not the one counted, more than EVALUATE_AT_ONCE
people changed, and, as a check against writes that bypass the services, RECOUNT_EVERY. A
scope of BACKGROUND_FROM members or more is counted again in a background thread while the
last counts are shown: marked with the time they were brought up to date when they may be out
of date (policy, reference data), unmarked for the routine check. A count needed inside a
transaction (tests) runs in the request, since another connection would not see its data.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from django.db import close_old_connections, connection, connections
from django.utils import timezone

from muster.access.scope import Scope, people_in
from muster.core.errors import DomainError
from muster.people.choices import PersonStatus
from muster.people.models import Unit
from muster.policy.rules import PersonFacts, add_months, evaluate_all
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import (
    VETTING_CHECK,
    decisions_for_people,
    is_vetted,
    people_with_facts,
    person_facts,
)
from muster.web.kept import MAX_AGE, Changes, Marker, changes_between
from muster.web.tallies import PEOPLE_UNRELATED, REFERENCE, ancestors

logger = logging.getLogger(__name__)

CATEGORY = "firearm"
EVALUATE_AT_ONCE = 1000
LARGEST_CATCH_UP = 50_000
"""More journal entries than this since the counts were made: count everyone again."""
RECOUNT_EVERY = MAX_AGE
BACKGROUND_FROM = 20_000
BACKGROUND = True
"""Whether a large scope may be counted again in a background thread (off: always inline)."""

# Kinds after which only the people the entries name need deciding again.
PERSONAL = ("person.", "qualification.")
# Kinds that cannot change who is vetted or eligible.
UNRELATED = PEOPLE_UNRELATED


@dataclass(frozen=True)
class UnitCounts:
    """Vetted and eligible active members per unit path (eligible unknown: no policy in force
    for some member), and how current they are."""

    by_path: Mapping[str, tuple[int, int]]
    eligible_known: bool
    counted_at: dt.datetime | None = None
    """When every member was last decided (a full count)."""
    stale_since: dt.datetime | None = None
    """Set when the counts may be out of date: they stand as they were then, while everyone
    is counted again in the background."""

    def total(self, under: str = "") -> tuple[int, int | None]:
        """(vetted, eligible) under a unit path ("" for all)."""
        vetted, eligible = self.rolled.get(under, (0, 0))
        return vetted, eligible if self.eligible_known else None

    @cached_property
    def rolled(self) -> dict[str, tuple[int, int]]:
        """The counts under each unit path, and "" for all."""
        found: dict[str, list[int]] = {}
        for path, (v, e) in self.by_path.items():
            for above in ancestors(path):
                tally = found.setdefault(above, [0, 0])
                tally[0] += v
                tally[1] += e
        return {path: (v, e) for path, (v, e) in found.items()}


@dataclass
class _State:
    """One scope's members and their outcomes on `day`, as of `marker`."""

    day: dt.date
    marker: Marker
    policies: dict[str, str]
    months: frozenset[int]
    eligible_known: bool
    counted_at: dt.datetime
    members: dict[int, tuple[str, bool, bool]] = field(default_factory=dict)
    by_path: dict[str, list[int]] = field(default_factory=dict)
    due: dict[dt.date, set[int]] = field(default_factory=dict)
    shown: UnitCounts | None = None

    def put(self, pk: int, outcome: tuple[str, bool, bool] | None, due: dt.date | None) -> None:
        """Record one member's outcome (None: no longer an active member of the scope)."""
        self.shown = None
        old = self.members.pop(pk, None)
        if old is not None:
            tally = self.by_path[old[0]]
            tally[0] -= old[1]
            tally[1] -= old[2]
        if outcome is not None:
            self.members[pk] = outcome
            tally = self.by_path.setdefault(outcome[0], [0, 0])
            tally[0] += outcome[1]
            tally[1] += outcome[2]
        if due is not None:
            self.due.setdefault(due, set()).add(pk)

    def counts(self, stale_since: dt.datetime | None = None) -> UnitCounts:
        if self.shown is None:
            self.shown = UnitCounts(
                {p: (v, e) for p, (v, e) in self.by_path.items() if v or e},
                self.eligible_known,
                self.counted_at,
            )
        return replace(self.shown, stale_since=stale_since) if stale_since else self.shown


class _Ledger:
    """The kept state of one set of people, and the background count running for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state: _State | None = None
        self.stale_since: dt.datetime | None = None
        self.recount: threading.Thread | None = None


_LEDGERS: dict[Hashable, _Ledger] = {}
_LEDGERS_LOCK = threading.Lock()


def scope_key(scope: Scope) -> Hashable:
    """Scopes that see the same people share their counts."""
    if scope.everything:
        return ("everything",)
    return (scope.paths, scope.person_id)


def unit_counts(scope: Scope, now: dt.datetime, marker: Marker) -> UnitCounts:
    """The scope's counts per unit on `now`'s date, brought up to date with `marker` (read
    before this call, so that everything read here is at least as new)."""
    with _LEDGERS_LOCK:
        ledger = _LEDGERS.setdefault(scope_key(scope), _Ledger())
    today = timezone.localdate(now)
    with ledger.lock:
        state = ledger.state
        if ledger.stale_since is not None and state is not None:
            return state.counts(ledger.stale_since)  # a count after a change is running
        why = None if state is None else _catch_up(state, scope, today, marker)
        if state is not None and why is None:
            if now - state.counted_at <= RECOUNT_EVERY:
                return state.counts()
            if _may_background(state):  # the routine check: the counts are current
                _start_recount(ledger, scope, stale=False)
                return state.counts()
        elif state is not None and why != "outdated" and _may_background(state):
            _start_recount(ledger, scope, stale=True)
            return state.counts(ledger.stale_since)
        ledger.state = count_people(scope, now, marker)
        settle(ledger.state)
        return ledger.state.counts()


def count_people(scope: Scope, now: dt.datetime, marker: Marker) -> _State:
    """The full count: every active member the scope sees, decided by the policy engine on
    `now`'s date."""
    today = timezone.localdate(now)
    policies, months = _policies(today)
    people = people_in(scope).filter(status=PersonStatus.ACTIVE)
    state = _State(today, marker, policies, months, True, now)
    try:
        for row, facts, decisions in decisions_for_people(
            category=CATEGORY, moment=today, people=people, extra_types=(VETTING_CHECK,)
        ):
            outcome = (row.unit_path, is_vetted(facts, today), any(d.allowed for d in decisions))
            state.put(row.pk, outcome, next_change(facts, today, months))
    except DomainError:  # no policy in force for a jurisdiction: nobody can be eligible
        state = _State(today, marker, policies, months, False, state.counted_at)
        for row, facts in people_with_facts(people, {VETTING_CHECK}):
            outcome = (row.unit_path, is_vetted(facts, today), False)
            state.put(row.pk, outcome, next_change(facts, today, months))
    return state


def _catch_up(state: _State, scope: Scope, today: dt.date, marker: Marker) -> str | None:
    """Bring `state` up to `today` and `marker`, deciding again only whom the changes concern;
    or say why everyone must be counted again ("outdated": the counts cannot be shown)."""
    if not marker.same_journal(state.marker) or today < state.day:
        return "outdated"
    if marker.size - state.marker.size > LARGEST_CATCH_UP:
        return "changed"
    changes = Changes(frozenset())
    if marker.size > state.marker.size:
        changes = changes_between(state.marker.size, marker.size)
    if not changes.only((*UNRELATED, *PERSONAL)):
        return "changed"
    if marker.stamp != state.marker.stamp and not any(
        kind.startswith(REFERENCE) for kind in changes.kinds
    ):
        return "changed"  # reference data changed outside the services
    people = set(changes.people)
    if today > state.day:
        if not state.eligible_known or _policies(today)[0] != state.policies:
            return "changed"
        for day in [d for d in state.due if d <= today]:
            people |= state.due.pop(day)
    if len(people) > EVALUATE_AT_ONCE:
        return "changed"
    try:
        decided = decide(scope, people, today, state.months)
    except DomainError:
        return "changed"
    for pk in people:
        outcome, due = decided.get(pk, (None, None))
        state.put(pk, outcome, due)
    state.day = today
    state.marker = marker
    return None


def decide(
    scope: Scope, ids: Iterable[int], today: dt.date, months: frozenset[int]
) -> dict[int, tuple[tuple[str, bool, bool], dt.date | None]]:
    """The outcome and next date of change of each of `ids` still an active member of the
    scope, decided one by one (the same engine, facts and policy as the full count)."""
    ids = list(ids)
    if not ids:
        return {}
    people = list(
        people_in(scope)
        .filter(status=PersonStatus.ACTIVE, pk__in=ids)
        .select_related("unit")
        .order_by("pk")
    )
    jurisdictions = jurisdictions_of(person.unit for person in people)
    policies = {j: policy_in_force(j, today) for j in set(jurisdictions.values())}
    found = {}
    for person in people:
        facts = person_facts(person)
        decisions = evaluate_all(facts, policies[jurisdictions[person.unit_id]], today, CATEGORY)
        outcome = (person.unit.path, is_vetted(facts, today), any(d.allowed for d in decisions))
        found[person.pk] = (outcome, next_change(facts, today, months))
    return found


def jurisdictions_of(units: Iterable[Unit]) -> dict[int, str]:
    """unit id → the nearest jurisdiction on the unit or an ancestor ("" for none), in one
    query for all of `units`."""
    chains = {unit.pk: [int(p) for p in unit.path.strip("/").split("/")] for unit in units}
    ancestors = {pk for chain in chains.values() for pk in chain}
    named = dict(Unit.objects.filter(pk__in=ancestors).values_list("pk", "jurisdiction"))
    return {
        pk: next((named[u] for u in reversed(chain) if named.get(u)), "")
        for pk, chain in chains.items()
    }


def next_change(facts: PersonFacts, today: dt.date, months: frozenset[int]) -> dt.date | None:
    """The first day after `today` on which the person's decision could differ with the same
    records: a record obtained, expiring or revoked, a `within_months` window closing, a
    birthday. Early is safe (the person is decided again, to the same outcome)."""
    later: list[dt.date] = []
    tomorrow = today + dt.timedelta(days=1)
    for qual in facts.qualifications:
        later.extend(d for d in (qual.obtained_on, qual.expires_on, qual.revoked_on) if d)
        for n in months:
            closes = add_months(qual.obtained_on, n)
            # A window can close a few days after `closes` (month ends are clamped).
            later.append(closes if closes > today else tomorrow)
    if facts.birth_date is not None:
        later.append(next_birthday(facts.birth_date, today))
    return min((d for d in later if d > today), default=None)


def next_birthday(born: dt.date, today: dt.date) -> dt.date:
    """The next day after `today` on which a person born on `born` is a year older (1 March
    in common years for 29 February)."""
    for year in (today.year, today.year + 1):
        try:
            day = dt.date(year, born.month, born.day)
        except ValueError:
            day = dt.date(year, 3, 1)
        if day > today:
            return day
    raise AssertionError("a birthday comes within a year")  # pragma: no cover


def _policies(today: dt.date) -> tuple[dict[str, str], frozenset[int]]:
    """The policy in force in each jurisdiction (by reference), and every `within_months` of
    the category's requirements among them."""
    refs: dict[str, str] = {}
    months: set[int] = set()
    names = Unit.objects.exclude(jurisdiction="").values_list("jurisdiction", flat=True)
    for jurisdiction in sorted(set(names)):
        try:
            policy = policy_in_force(jurisdiction, today)
        except DomainError:
            refs[jurisdiction] = ""
            continue
        refs[jurisdiction] = policy.ref
        rule = policy.categories.get(CATEGORY)
        if rule is None:
            continue
        requirements = [*rule.requires, *(r for rs in rule.class_requires.values() for r in rs)]
        months.update(
            alt.within_months
            for req in requirements
            for alt in req.alternatives()
            if alt.within_months
        )
    return refs, frozenset(months)


def settle(state: _State) -> None:
    """Take a large count out of the cycle collector's way: it lives for minutes, and every
    full collection would walk its members again (80-100 ms at national scale, at random
    requests). Collect first, so that no garbage is frozen with it; frozen objects are still
    freed when nothing refers to them."""
    if len(state.members) >= BACKGROUND_FROM:
        gc.collect()
        gc.freeze()


def _may_background(state: _State) -> bool:
    return (
        BACKGROUND
        and len(state.members) >= BACKGROUND_FROM
        and not connection.in_atomic_block
        and connection.vendor != "sqlite"  # one writer: a long read would hold writers back
    )


def _start_recount(ledger: _Ledger, scope: Scope, *, stale: bool) -> None:
    """Count everyone again in a thread of its own; the ledger takes the result when done.
    Called with the ledger's lock held."""
    if ledger.recount is not None and ledger.recount.is_alive():
        return
    if stale and ledger.state is not None:
        ledger.stale_since = timezone.now()
    alias = connection.alias

    def run() -> None:
        from muster.web.kept import read_marker

        try:
            close_old_connections()
            marker = read_marker()
            state = count_people(scope, timezone.now(), marker)
            settle(state)
            with ledger.lock:
                ledger.state = state
                ledger.stale_since = None
        except Exception:  # the next request counts inline instead
            logger.exception("counting eligibility in the background failed")
            with ledger.lock:
                if ledger.stale_since is not None:
                    ledger.state = None
                ledger.stale_since = None
        finally:
            connections[alias].close()

    ledger.recount = threading.Thread(target=run, name="muster-eligibility", daemon=True)
    ledger.recount.start()


def clear() -> None:
    """Forget every kept count (tests, benchmarks); a running background count is dropped."""
    with _LEDGERS_LOCK:
        _LEDGERS.clear()
