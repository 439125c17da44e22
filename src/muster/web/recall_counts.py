"""The items that must come back now (armory.selectors.recalls), kept current between requests.

An item must come back when it is overdue or when its holder may no longer hold it. Being
overdue moves with time alone, so it is read at every request (one indexed query). Whether
the holder may still hold it is taken from recalls() once a day and then kept: an item named
by a custody entry, and the items held by a person named by an entry about them, are decided
again the way recalls() decides (the holder's records, the policy in force for their unit, the
item's target). Other entries that cannot matter are skipped; a policy loaded, any other kind,
reference data changed outside the services, another journal, or MAX_AGE call recalls() again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from muster.armory.choices import Place
from muster.armory.models import Item
from muster.armory.selectors import recalls
from muster.people.models import Person
from muster.policy.rules import evaluate
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import person_facts
from muster.web.eligibility_counts import PERSONAL, REFERENCE, jurisdictions_of
from muster.web.kept import BOOKKEEPING, MAX_AGE, Marker, changes_between

# Kinds that change no holder's records and move no item to or from a person; custody
# entries name their item, which is decided again.
UNRELATED = (
    *BOOKKEEPING, "ammunition.", "category.", "count.", "custody.", "incident.", "kit.", "lot.",
    "model.", "role.", "shipment.", "site.", "transfer.", "unit.created", "variance.",
)  # fmt: skip


@dataclass
class _State:
    day: dt.date
    marker: Marker
    made_at: dt.datetime
    not_allowed: set[int]


_kept: dict[str, _State] = {}
_lock = threading.Lock()


def recalled(now: dt.datetime, marker: Marker) -> frozenset[int]:
    """The ids of the items armory.selectors.recalls names at `now`."""
    overdue = set(
        Item.objects.filter(place=Place.PERSON, due_at__lt=now).values_list("pk", flat=True)
    )
    with _lock:
        state = _kept.get(marker.alias)
        if state is None or not _catch_up(state, now, marker):
            state = _count(now, marker, overdue)
            _kept[marker.alias] = state
        return frozenset(state.not_allowed | overdue)


def _count(now: dt.datetime, marker: Marker, overdue: set[int]) -> _State:
    named = {r.item.pk for r in recalls(now)}
    # An overdue item is named whether or not its holder may hold it: decide those again.
    not_allowed = (named - overdue) | not_allowed_among(named & overdue, timezone.localdate(now))
    return _State(timezone.localdate(now), marker, now, not_allowed)


def _catch_up(state: _State, now: dt.datetime, marker: Marker) -> bool:
    """Bring `state` up to `marker`; False when recalls() must decide everything again."""
    if timezone.localdate(now) != state.day or not marker.same_journal(state.marker):
        return False
    if not state.made_at <= now <= state.made_at + MAX_AGE:
        return False
    if marker.size == state.marker.size:
        return marker.stamp == state.marker.stamp
    changes = changes_between(state.marker.size, marker.size)
    if not changes.only((*UNRELATED, *PERSONAL)):
        return False
    if marker.stamp != state.marker.stamp and not any(
        kind.startswith(REFERENCE) for kind in changes.kinds
    ):
        return False
    again = set(changes.items)
    if changes.people:
        again.update(
            Item.objects.filter(place=Place.PERSON, holder__in=changes.people).values_list(
                "pk", flat=True
            )
        )
    state.not_allowed -= again
    state.not_allowed |= not_allowed_among(again, state.day)
    state.marker = marker
    return True


def not_allowed_among(ids: Iterable[int], today: dt.date) -> set[int]:
    """The items of `ids` held by a person whom the policy in force for their unit does not
    allow the item's target today (as armory.selectors.recalls decides)."""
    held = list(
        Item.objects.filter(place=Place.PERSON, pk__in=list(ids)).select_related(
            "model__category", "holder__unit"
        )
    )
    if not held:
        return set()
    holders: dict[int, Person] = {i.holder.pk: i.holder for i in held if i.holder is not None}
    jurisdictions = jurisdictions_of(p.unit for p in holders.values())
    policies = {j: policy_in_force(j, today) for j in set(jurisdictions.values())}
    facts = {pk: person_facts(p) for pk, p in holders.items()}
    found = set()
    for item in held:
        holder = holders[item.holder_id]  # type: ignore[index]
        policy = policies[jurisdictions[holder.unit_id]]
        if not evaluate(facts[holder.pk], policy, item.model.target, today).allowed:
            found.add(item.pk)
    return found


def clear() -> None:
    with _lock:
        _kept.clear()
