"""What a policy simulation reports (planning.simulation makes it; planning.exports writes
it as text, PDF and XLSX): plain data, one class per part of the report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from muster.policy.diff import DiffLine

Reasons = tuple[tuple[str, str], ...]
"""(rule, message) pairs, as the engine words them."""


@dataclass
class TargetSummary:
    target: str
    category: str
    eligible_now: int = 0
    eligible_draft: int = 0
    newly_eligible: int = 0
    newly_ineligible: int = 0


@dataclass(frozen=True)
class EligibilityChange:
    person_id: int
    national_id: str
    name: str
    unit: str
    region: str
    target: str
    becomes: str  # "eligible" or "ineligible"
    reasons: Reasons  # lifted refusals (eligible), or the draft's refusals (ineligible)


@dataclass(frozen=True)
class RecallChange:
    item_id: int
    serial: str
    model: str
    category: str
    holder_id: int
    national_id: str
    name: str
    unit: str
    issue_kind: str
    issued_at: dt.datetime | None
    due_at: dt.datetime | None
    home_site: str
    region: str
    reasons: Reasons


@dataclass(frozen=True)
class ModelChange:
    code: str
    name: str
    category: str
    legal_class: str
    items: int  # items of the model the caller sees (not disposed)
    problems: tuple[tuple[str, str, str], ...]  # (field, rule, value)


@dataclass(frozen=True)
class SiteChange:
    code: str
    name: str
    unit: str
    security_level: str
    category: str
    stored: int
    returning: int
    capacity: int | None
    problems: Reasons  # (rule, message)


@dataclass(frozen=True)
class QuotaLine:
    region: str
    region_name: str
    category: str
    issued: int
    quota_now: int | None
    headroom_now: int | None
    quota_draft: int | None
    headroom_draft: int | None
    recalled: int
    headroom_after_recalls: int | None


@dataclass
class SimulationReport:
    draft: str
    draft_title: str
    current: str
    jurisdiction: str
    moment: dt.date
    produced_at: dt.datetime
    seen_by: str
    region: str | None
    people: int = 0  # members (not discharged) evaluated
    evaluated_categories: list[str] = field(default_factory=list)
    unchanged_categories: list[str] = field(default_factory=list)
    rules: list[DiffLine] = field(default_factory=list)
    targets: list[TargetSummary] = field(default_factory=list)
    changes: list[EligibilityChange] = field(default_factory=list)
    recalls: list[RecallChange] = field(default_factory=list)
    models: list[ModelChange] = field(default_factory=list)
    sites: list[SiteChange] = field(default_factory=list)
    quotas: list[QuotaLine] = field(default_factory=list)

    @property
    def newly_eligible(self) -> int:
        return sum(1 for c in self.changes if c.becomes == "eligible")

    @property
    def newly_ineligible(self) -> int:
        return sum(1 for c in self.changes if c.becomes == "ineligible")
