"""The alert job: raise what holds now, resolve what no longer holds, mail the new ones.

`run_alerts` is idempotent. It asks every source (muster.alerts.sources) for the conditions
that hold, then, in one transaction under the job's lock:

- raises an alert for each occurrence (key) that has none still to be dealt with, unless a
  person already resolved that occurrence (their resolution stands until a new occurrence,
  which has a new key);
- resolves, as `system:alerts` with a note, each open or acknowledged alert whose key its source
  no longer returns (the item came back, the record was renewed, the count was made, …);
- refiles an alert whose units changed (the holder moved to another unit): it is resolved with
  a note and raised again under the new unit, so the right people see it.

A source that was skipped or failed leaves its kind's alerts as they are. After the
transaction commits, each user who must act on some of the new alerts gets one e-mail digest
of them (muster.alerts.mail). Run it from a timer (docs/deploy/) or `muster alerts run
--every SECONDS`; never from the web process.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from muster.alerts.choices import ACTIVE, AlertKind, AlertState
from muster.alerts.mail import Mailed, send_digests
from muster.alerts.models import Alert
from muster.alerts.services import CHUNK, Routed, clear_alerts, lock_job, raise_alerts
from muster.alerts.sources import SOURCES, Condition, Source, SourceSkipped
from muster.core.actors import Actor
from muster.people.models import Unit

log = logging.getLogger(__name__)

JOB = Actor.system("alerts")

# What "cleared" means for each kind: the note of the job's resolution.
CLEARED: dict[str, Any] = {
    AlertKind.OVERDUE: gettext_lazy(
        "cleared: the item is no longer overdue (returned, or its due time moved)"
    ),
    AlertKind.RECALL: gettext_lazy("cleared: the item is back, or its holder may hold it again"),
    AlertKind.EXPIRING: gettext_lazy(
        "cleared: the qualification was renewed or revoked, has lapsed, or its holder is "
        "no longer active"
    ),
    AlertKind.COUNT_OVERDUE: gettext_lazy(
        "cleared: the site was counted, or no longer holds the category"
    ),
    AlertKind.VARIANCE: gettext_lazy("cleared: the variance was resolved"),
    AlertKind.UNDERSTAFFED: gettext_lazy(
        "cleared: the shift is staffed, has started or was cancelled"
    ),
}
REFILED = gettext_lazy(
    "refiled: the people or sites concerned are now in another unit; raised again there"
)


@dataclass
class RunSummary:
    """What one run did, for the command's output and the benchmark."""

    raised: Counter[str] = field(default_factory=Counter)
    resolved: Counter[str] = field(default_factory=Counter)
    refiled: int = 0
    kept_resolved: int = 0
    """Conditions still holding whose occurrence a person resolved: not raised again."""
    active: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    mail: Mailed | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and (self.mail is None or not self.mail.error)


def _collect(
    sources: Mapping[str, Source], now: dt.datetime, summary: RunSummary
) -> dict[str, Condition]:
    """The conditions of every source that ran, by key (the first of a key wins)."""
    found: dict[str, Condition] = {}
    for kind, source in sources.items():
        started = time.perf_counter()
        try:
            conditions = source(now)
        except SourceSkipped as skipped:
            summary.skipped[kind] = skipped.note
            continue
        except Exception as error:  # one broken source must not stop the others
            log.exception("alert source %s failed", kind)
            summary.failed[kind] = f"{type(error).__name__}: {error}"
            continue
        finally:
            summary.timings[f"source.{kind}"] = round(time.perf_counter() - started, 3)
        for condition in conditions:
            found.setdefault(condition.key, condition)
    return found


def _route(condition: Condition, paths: Mapping[int, str], site_units: Mapping[int, int]) -> Routed:
    site_unit = site_units.get(condition.site_id) if condition.site_id is not None else None
    return Routed(
        condition=condition,
        unit_path=paths[condition.unit_id],
        site_path=paths[site_unit] if site_unit is not None else "",
        person_path=paths[condition.person_unit_id] if condition.person_unit_id else "",
    )


def _resolved_by_people(keys: list[str]) -> set[str]:
    """Of `keys`, those of an occurrence a person resolved."""
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(
            Alert.objects.filter(
                key__in=keys[start : start + CHUNK], state=AlertState.RESOLVED, cleared=False
            ).values_list("key", flat=True)
        )
    return found


def run_alerts(
    *,
    now: dt.datetime | None = None,
    sources: Mapping[str, Source] | None = None,
    mail: bool = True,
) -> RunSummary:
    """One run of the job (see the module's docstring)."""
    from muster.armory.models import Site

    started = time.perf_counter()
    now = now or timezone.now()
    sources = SOURCES if sources is None else sources
    summary = RunSummary()
    conditions = _collect(sources, now, summary)
    ran = [kind for kind in sources if kind not in summary.skipped and kind not in summary.failed]
    step = time.perf_counter()
    with transaction.atomic():
        lock_job()
        paths = dict(Unit.objects.values_list("pk", "path"))
        site_units = dict(Site.objects.values_list("pk", "unit_id"))
        routed = {key: _route(c, paths, site_units) for key, c in conditions.items()}
        active = {
            key: (pk, kind, unit_path, site_path, person_path)
            for pk, key, kind, unit_path, site_path, person_path in Alert.objects.filter(
                state__in=ACTIVE, kind__in=ran
            ).values_list("pk", "key", "kind", "unit_path", "site_path", "person_path")
        }
        notes: dict[int, str] = {}
        kinds: dict[int, str] = {}
        moved: set[int] = set()
        for key, (pk, kind, unit_path, site_path, person_path) in active.items():
            now_filed = routed.get(key)
            if now_filed is None:
                notes[pk], kinds[pk] = str(CLEARED.get(kind, "cleared")), kind
            elif (now_filed.unit_path, now_filed.site_path, now_filed.person_path) != (
                unit_path,
                site_path,
                person_path,
            ):
                notes[pk], kinds[pk] = str(REFILED), kind
                moved.add(pk)
        cleared = clear_alerts(actor=JOB, notes=notes, now=now)
        refiled = moved.intersection(cleared)
        summary.refiled = len(refiled)
        summary.resolved.update(kinds[pk] for pk in cleared if pk not in refiled)
        still = {key for key, (pk, *_rest) in active.items() if pk not in cleared}
        candidates = [key for key in routed if key not in still]
        by_people = _resolved_by_people(candidates)
        summary.kept_resolved = len(by_people)
        new = [routed[key] for key in candidates if key not in by_people]
        new_ids = raise_alerts(actor=JOB, found=new, now=now)
        summary.raised.update(r.condition.kind for r in new)
        summary.active = Alert.objects.filter(state__in=ACTIVE).count()
    summary.timings["write"] = round(time.perf_counter() - step, 3)
    if mail and new_ids:
        step = time.perf_counter()
        summary.mail = send_digests(new_ids)
        summary.timings["mail"] = round(time.perf_counter() - step, 3)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary
