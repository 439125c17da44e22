"""Where alerts come from: one function per kind, returning the conditions that hold now.

A source is a plain reader: `source(now) -> list[Condition]`, no writes. Each Condition names
its occurrence by a `key` (the alert job raises one alert per key and resolves it when the key
is no longer returned), the unit whose people must act and the records concerned. A source
that cannot run raises `SourceSkipped` with a note: the job then leaves that kind's alerts as
they are (it cannot tell whether they cleared). `SOURCES` is the registry the job runs, in
order; another app adds one with `@source("kind")` (its kind must be an AlertKind).

The sources, and what names an occurrence:

- overdue — items held by a person past their due time; key: item and due time (a new due time
  is a new occurrence).
- recall — items whose holder may no longer hold them (suspended, discharged, a required
  qualification expired or revoked: armory.selectors.recalls, without its "overdue" reason,
  which the overdue source covers); key: item, when it was issued, and the rules failing.
- expiring — qualification records of *active* members, in force, not renewed by a later
  record, that lapse within MUSTER_ALERT_EXPIRING_DAYS days (default 30): every type, not
  only those required for what the member holds, because the vetting officer renews them
  before they are needed (the dashboard's "qualifications expiring" counts the same records,
  of every member); key: the record.
- count_overdue — a site holding items (or a lot) of a category for which the policy in force
  for the site's unit sets `counts.interval_days`, and no closed count of the site (or of that
  category there) within that interval; a site never counted is due that interval after it
  was created; key: site, category and the last closed count.
- variance — variances of closed counts not yet resolved; key: the variance.
- understaffed — shifts starting within 48 hours with fewer people than they need, from
  `muster.duties.selectors.understaffed_shifts(now, within)` when that function exists
  (skipped with a note otherwise); key: the shift.

A message names items, sites, counts and units; it names a person only where whoever sees the
alert sees that person (expiring: an alert about a person is seen only by those who see their
unit, muster.alerts.audience). An item's holder is kept as `person_id` and shown by the pages
to those who may see them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.alerts.choices import AlertKind
from muster.armory.choices import CountStatus, Place
from muster.armory.models import InventoryCount, Item, LotBalance, Site, Variance
from muster.armory.reference import custody_reference
from muster.armory.selectors import recalls
from muster.core.errors import DomainError
from muster.people.choices import PersonStatus
from muster.policy.schema import PolicyDocument
from muster.policy.selectors import policy_in_force
from muster.vetting.models import Qualification

UNDERSTAFFED_WITHIN = dt.timedelta(hours=48)
# Where the understaffed source finds its function (a name, so tests can point it elsewhere).
DUTIES_SELECTORS = "muster.duties.selectors"
MESSAGE_LENGTH = 500


@dataclass(frozen=True)
class Condition:
    """One occurrence of a condition someone must act on (see the module's docstring)."""

    kind: str
    key: str
    unit_id: int
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)
    site_id: int | None = None
    person_id: int | None = None
    person_unit_id: int | None = None
    item_id: int | None = None
    count_id: int | None = None
    variance_id: int | None = None
    shift_id: int | None = None


class SourceSkipped(Exception):
    """A source that cannot run now; `note` says why (the job reports it)."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


Source = Callable[[dt.datetime], list[Condition]]
SOURCES: dict[str, Source] = {}


def source(kind: str) -> Callable[[Source], Source]:
    """Register `fn` as the source of `kind` alerts (the last registration wins)."""
    if kind not in AlertKind.values:
        raise ValueError(f"unknown alert kind {kind!r}: add it to AlertKind")

    def register(fn: Source) -> Source:
        SOURCES[kind] = fn
        return fn

    return register


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> int:
    """A moment in a key: microseconds since 1970 (exact, unlike a float timestamp)."""
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_LENGTH else text[: MESSAGE_LENGTH - 1] + "…"


@source(AlertKind.OVERDUE)
def overdue_returns(now: dt.datetime) -> list[Condition]:
    """Items held by a person whose due time has passed (the item_due_idx index)."""
    items = (
        Item.objects.filter(place=Place.PERSON, due_at__lt=now)
        .select_related("model", "holder", "home_site")
        .order_by("pk")
    )
    found = []
    for item in items:
        assert item.due_at is not None
        found.append(
            _held_item(
                AlertKind.OVERDUE,
                f"overdue:item:{item.pk}:{_stamp(item.due_at)}",
                item,
                _("%(model)s %(serial)s of %(site)s was due back at %(due)s"),
                {"due": _when(item.due_at)},
                {"due_at": item.due_at.isoformat()},
            )
        )
    return found


def _held_item(
    kind: str,
    key: str,
    item: Item,
    message: str,
    words: Mapping[str, str],
    data: Mapping[str, Any],
) -> Condition:
    """A condition about an item a person holds: the item's home site's unit acts, and the
    holder's. `message` names the item's model, serial and site, and `words`; the condition's
    data is those three and `data`."""
    assert item.holder is not None
    named = {"model": item.model.code, "serial": item.serial, "site": item.home_site.code}
    return Condition(
        kind=kind,
        key=key,
        unit_id=item.home_site.unit_id,
        site_id=item.home_site_id,
        person_id=item.holder_id,
        person_unit_id=item.holder.unit_id,
        item_id=item.pk,
        message=_short(message % {**named, **words}),
        data={**named, **data},
    )


OVERDUE_REASON = "overdue since "  # how armory.selectors.recalls words an overdue checkout


@source(AlertKind.RECALL)
def recalled_items(now: dt.datetime) -> list[Condition]:
    """Items whose holder may no longer hold them, with the policy's reasons."""
    found = []
    for recall in recalls(now):
        reasons = [r for r in recall.reasons if not r.startswith(OVERDUE_REASON)]
        if not reasons:
            continue
        item = recall.item
        assert item.issued_at is not None
        rules = sorted({r.split(":", 1)[0] for r in reasons})
        digest = hashlib.sha256("\n".join(rules).encode()).hexdigest()[:12]
        found.append(
            _held_item(
                AlertKind.RECALL,
                f"recall:item:{item.pk}:{_stamp(item.issued_at)}:{digest}",
                item,
                _("Recall %(model)s %(serial)s of %(site)s from its holder: %(reasons)s"),
                {"reasons": "; ".join(reasons)},
                {"issued_at": item.issued_at.isoformat(), "reasons": reasons},
            )
        )
    return found


def expiring_days() -> int:
    return int(getattr(settings, "ALERT_EXPIRING_DAYS", 30))


@source(AlertKind.EXPIRING)
def expiring_qualifications(now: dt.datetime) -> list[Condition]:
    """Qualification records of active members, in force and not renewed, that lapse within
    `expiring_days()` days."""
    today = timezone.localdate(now)
    days = expiring_days()
    renewed = Qualification.objects.filter(
        person=OuterRef("person"),
        qualification_type=OuterRef("qualification_type"),
        klass=OuterRef("klass"),
        obtained_on__gt=OuterRef("obtained_on"),
        revocation__isnull=True,
    )
    rows = (
        Qualification.objects.filter(
            obtained_on__lte=today,
            expires_on__gte=today,
            expires_on__lte=today + dt.timedelta(days=days),
            revocation__isnull=True,
            person__status=PersonStatus.ACTIVE,
        )
        .exclude(Exists(renewed))
        .order_by("pk")
        .values_list(
            "pk",
            "klass",
            "expires_on",
            "qualification_type__code",
            "person_id",
            "person__unit_id",
            "person__national_id",
            "person__family_name",
            "person__given_name",
        )
    )
    found = []
    for pk, klass, expires, code, person, unit, nid, family, given in rows:
        assert expires is not None  # filtered above
        what = f"{code}/{klass}" if klass else code
        found.append(
            Condition(
                kind=AlertKind.EXPIRING,
                key=f"expiring:qualification:{pk}",
                unit_id=unit,
                person_id=person,
                person_unit_id=unit,
                message=_short(
                    _("%(qualification)s of %(person)s expires on %(day)s")
                    % {
                        "qualification": what,
                        "person": f"{family} {given} ({nid})",
                        "day": expires.isoformat(),
                    }
                ),
                data={
                    "qualification": pk,
                    "type": code,
                    "class": klass,
                    "person": nid,
                    "expires_on": expires.isoformat(),
                    "within_days": days,
                },
            )
        )
    return found


@source(AlertKind.COUNT_OVERDUE)
def counts_overdue(now: dt.datetime) -> list[Condition]:
    """Categories a site holds whose policy interval has passed since its last closed count."""
    today = timezone.localdate(now)
    held = set(
        Item.objects.filter(place=Place.SITE)
        .order_by()
        .values_list("site_id", "model__category__code")
        .distinct()
    )
    held |= set(
        LotBalance.objects.filter(site__isnull=False, quantity__gt=0)
        .order_by()
        .values_list("site_id", "lot__model__category__code")
        .distinct()
    )
    last: dict[tuple[int, str | None], dt.datetime] = {
        (site, category): at
        for site, category, at in InventoryCount.objects.filter(status=CountStatus.CLOSED)
        .order_by()
        .values_list("site_id", "category__code")
        .annotate(last=Max("closed_at"))
    }
    sites = {site.pk: site for site in Site.objects.filter(pk__in={s for s, _ in held})}
    reference = custody_reference()
    policies: dict[str, PolicyDocument | None] = {}
    found = []
    for site_id, category in sorted(held):
        site = sites[site_id]
        jurisdiction = reference.context(site.unit_id)[1]
        if jurisdiction not in policies:
            try:
                policies[jurisdiction] = policy_in_force(jurisdiction, today)
            except DomainError:  # no policy in force there: nothing sets an interval
                policies[jurisdiction] = None
        policy = policies[jurisdiction]
        interval = policy.counts.interval_days.get(category) if policy else None
        if interval is None:
            continue
        counted = [at for at in (last.get((site_id, category)), last.get((site_id, None))) if at]
        latest = max(counted) if counted else None
        if (latest or site.created_at) >= now - dt.timedelta(days=interval):
            continue
        if latest is None:
            message = _(
                "%(site)s holds %(category)s and has never counted it (policy: every %(days)s days)"
            )
        else:
            message = _(
                "%(site)s has not counted %(category)s since %(last)s (policy: every %(days)s days)"
            )
        found.append(
            Condition(
                kind=AlertKind.COUNT_OVERDUE,
                key=f"count:site:{site_id}:{category}:{_stamp(latest) if latest else 'never'}",
                unit_id=site.unit_id,
                site_id=site_id,
                message=_short(
                    message
                    % {
                        "site": site.code,
                        "category": category,
                        "last": _when(latest) if latest else "",
                        "days": interval,
                    }
                ),
                data={
                    "site": site.code,
                    "category": category,
                    "interval_days": interval,
                    "last_counted_at": latest.isoformat() if latest else None,
                    "policy": policy.ref if policy else None,
                },
            )
        )
    return found


@source(AlertKind.VARIANCE)
def unresolved_variances(now: dt.datetime) -> list[Condition]:
    """Variances of closed counts that no one has resolved yet."""
    variances = (
        Variance.objects.filter(resolution="", count__status=CountStatus.CLOSED)
        .select_related("count__site", "lot")
        .order_by("pk")
    )
    found = []
    for variance in variances:
        site = variance.count.site
        what = variance.serial or (variance.lot.lot_number if variance.lot else "")
        found.append(
            Condition(
                kind=AlertKind.VARIANCE,
                key=f"variance:{variance.pk}",
                unit_id=site.unit_id,
                site_id=site.pk,
                item_id=variance.item_id,
                count_id=variance.count_id,
                variance_id=variance.pk,
                message=_short(
                    _("%(kind)s %(what)s in count %(count)s at %(site)s is not resolved")
                    % {
                        "kind": variance.kind,
                        "what": what,
                        "count": variance.count_id,
                        "site": site.code,
                    }
                    + (f": {variance.detail}" if variance.detail else "")
                ),
                data={
                    "count": variance.count_id,
                    "site": site.code,
                    "kind": variance.kind,
                    "serial": variance.serial,
                    "lot": variance.lot.lot_number if variance.lot else None,
                    "expected": variance.expected,
                    "counted": variance.counted,
                },
            )
        )
    return found


def _first(obj: object, *names: str) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


@source(AlertKind.UNDERSTAFFED)
def understaffed_shifts(now: dt.datetime) -> list[Condition]:
    """Shifts starting within 48 hours with fewer people than they need, as the duties app
    reports them: `understaffed_shifts(now, within)` gives rows with `.shift` (its `pk`,
    `starts_at`, `post`), `.unit` (the unit responsible for the post), `.headcount` and
    `.filled` (muster.duties.selectors.Understaffed)."""
    try:
        selectors = importlib.import_module(DUTIES_SELECTORS)
    except ImportError:
        raise SourceSkipped(
            _("%(module)s cannot be imported (no duties app yet)") % {"module": DUTIES_SELECTORS}
        ) from None
    find = getattr(selectors, "understaffed_shifts", None)
    if find is None:
        raise SourceSkipped(
            _("%(module)s has no understaffed_shifts yet") % {"module": DUTIES_SELECTORS}
        )
    found = []
    for row in find(now, UNDERSTAFFED_WITHIN):
        shift = row.shift
        unit = _first(row, "unit") or shift.post.unit
        post = _first(shift, "post")
        starts = _first(shift, "starts_at")
        headcount, filled = _first(row, "headcount"), _first(row, "filled")
        staffed = (
            _(" (%(filled)s of %(headcount)s)") % {"filled": filled, "headcount": headcount}
            if headcount is not None and filled is not None
            else ""
        )
        found.append(
            Condition(
                kind=AlertKind.UNDERSTAFFED,
                key=f"understaffed:shift:{shift.pk}",
                unit_id=unit.pk,
                shift_id=shift.pk,
                message=_short(
                    _("%(post)s: the shift starting %(starts)s is understaffed%(staffed)s")
                    % {
                        "post": str(post) if post is not None else _("a post"),
                        "starts": _when(starts) if isinstance(starts, dt.datetime) else "",
                        "staffed": staffed,
                    }
                ),
                data={
                    "shift": shift.pk,
                    "post": str(post) if post is not None else None,
                    "starts_at": starts.isoformat() if isinstance(starts, dt.datetime) else None,
                    "headcount": headcount,
                    "filled": filled,
                },
            )
        )
    return found
