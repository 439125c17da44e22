"""The registry's documents (R10, R12): the readiness report per battalion, and the roster as
a table. Each takes querysets the caller has already narrowed to what the user may see
(muster.access.scope)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.armory.models import Item
from muster.documents.pdf import render_document
from muster.documents.tables import TableDocument
from muster.people.choices import PersonStatus, UnitKind
from muster.people.models import Person, Unit
from muster.policy.selectors import policy_in_force
from muster.vetting.selectors import VETTING_CHECK, decisions_for_people, is_vetted

FIREARM = "firearm"


@dataclass
class ReadinessLine:
    """One battalion (or the people of a region directly, outside any battalion)."""

    code: str
    name: str
    members: int = 0  # everyone not discharged
    active: int = 0
    vetted: int = 0
    eligible: int = 0  # for at least one firearm class, under the policy in force
    firearms_issued: int = 0

    def add(self, other: ReadinessLine) -> None:
        self.members += other.members
        self.active += other.active
        self.vetted += other.vetted
        self.eligible += other.eligible
        self.firearms_issued += other.firearms_issued


@dataclass
class RegionReadiness:
    region: ReadinessLine
    lines: list[ReadinessLine] = field(default_factory=list)
    quota: int | None = None  # firearms that may be issued at once in the region


@dataclass(frozen=True)
class Readiness:
    title: str
    moment: dt.date
    regions: list[RegionReadiness]
    total: ReadinessLine
    policies: tuple[str, ...]
    produced_at: dt.datetime


def _group_of(path: str, units: dict[int, tuple[str, str, str]]) -> tuple[int, int]:
    """(region id, battalion id or the region's id) of a unit path: the outermost region and
    the outermost battalion on the way down."""
    ids = [int(part) for part in path.strip("/").split("/") if part]
    region = next((u for u in ids if units[u][2] == UnitKind.REGION), ids[0])
    battalion = next((u for u in ids if units[u][2] == UnitKind.BATTALION), region)
    return region, battalion


def readiness(
    units: QuerySet[Unit],
    people: QuerySet[Person],
    items: QuerySet[Item],
    *,
    title: str,
    moment: dt.date | None = None,
) -> Readiness:
    """Per battalion of `people`: members, active, vetted, eligible for a firearm (the
    eligibility engine over everyone at once, one pass), and firearms issued (from `items`);
    with a line per region and the total. Battalions of `units` with nobody in them appear
    with zeros."""
    moment = moment or timezone.localdate()
    all_units = {pk: (code, name, kind) for pk, code, name, kind in _unit_rows()}
    lines: dict[int, ReadinessLine] = {}
    region_of: dict[int, int] = {}

    def line(path: str) -> ReadinessLine:
        region, battalion = _group_of(path, all_units)
        if battalion not in lines:
            code, name, _kind = all_units[battalion]
            if battalion == region:
                name = _("%(name)s, outside any battalion") % {"name": name}
            lines[battalion] = ReadinessLine(code, name)
            region_of[battalion] = region
        return lines[battalion]

    for path in units.filter(kind=UnitKind.BATTALION).values_list("path", flat=True):
        line(path)
    policies: set[str] = set()
    for row, facts, decisions in decisions_for_people(
        category=FIREARM,
        moment=moment,
        people=people.exclude(status=PersonStatus.DISCHARGED),
        extra_types=(VETTING_CHECK,),
    ):
        entry = line(row.unit_path)
        entry.members += 1
        if facts.status != PersonStatus.ACTIVE:
            continue
        entry.active += 1
        if is_vetted(facts, moment):
            entry.vetted += 1
        if any(d.allowed for d in decisions):
            entry.eligible += 1
        policies.update(d.policy for d in decisions)
    issued = Counter(
        items.filter(place="person", model__category__code=FIREARM).values_list(
            "holder__unit__path", flat=True
        )
    )
    for path, number in issued.items():
        line(path).firearms_issued += number
    return _assemble(title, moment, lines, region_of, all_units, policies)


def _unit_rows() -> Iterable[tuple[int, str, str, str]]:
    # Every unit's code and name, to name the battalion and region a person is in even when
    # the reader's scope starts below them (a company commander).
    return Unit.objects.values_list("pk", "code", "name", "kind")


def _assemble(
    title: str,
    moment: dt.date,
    lines: dict[int, ReadinessLine],
    region_of: dict[int, int],
    all_units: dict[int, tuple[str, str, str]],
    policies: set[str],
) -> Readiness:
    regions: dict[int, RegionReadiness] = {}
    for battalion, entry in sorted(lines.items(), key=lambda pair: pair[1].code):
        region = region_of[battalion]
        if region not in regions:
            code, name, _kind = all_units[region]
            regions[region] = RegionReadiness(ReadinessLine(code, name), quota=_quota(region))
        regions[region].lines.append(entry)
        regions[region].region.add(entry)
    total = ReadinessLine(_("Total"), "")
    for region_readiness in regions.values():
        total.add(region_readiness.region)
    ordered = sorted(regions.values(), key=lambda r: r.region.code)
    return Readiness(title, moment, ordered, total, tuple(sorted(policies)), timezone.now())


def _quota(region_id: int) -> int | None:
    jurisdiction = Unit.objects.values_list("jurisdiction", flat=True).get(pk=region_id)
    if not jurisdiction:
        return None
    policy = policy_in_force(jurisdiction, timezone.localdate())
    category = policy.categories.get(FIREARM)
    return int(category.quota.per_region) if category and category.quota else None


def readiness_pdf(
    units: QuerySet[Unit],
    people: QuerySet[Person],
    items: QuerySet[Item],
    *,
    title: str,
    moment: dt.date | None = None,
) -> bytes:
    """The readiness report as a PDF (see `readiness`)."""
    report = readiness(units, people, items, title=title, moment=moment)
    return render_document("people/readiness.html", {"report": report}).data


def roster_table(people: QuerySet[Person]) -> TableDocument:
    """The roster of `people`: identity, unit, role, status, dates. Contact details and birth
    dates are left out: a list of names needs no personal-record journaling (R10)."""
    columns = [
        ("national_id", _("National ID")),
        ("family_name", _("Family name")),
        ("given_name", _("Given name")),
        ("patronymic", _("Patronymic")),
        ("unit", _("Unit")),
        ("unit_name", _("Unit name")),
        ("unit_role", _("Role")),
        ("status", _("Status")),
        ("joined_on", _("Joined on")),
    ]
    queryset = people.select_related("unit").order_by("unit__path", "family_name", "national_id")
    rows = (
        {
            "national_id": person.national_id,
            "family_name": person.family_name,
            "given_name": person.given_name,
            "patronymic": person.patronymic,
            "unit": person.unit.code,
            "unit_name": person.unit.name,
            "unit_role": person.unit_role,
            "status": person.status,
            "joined_on": person.joined_on,
        }
        for person in queryset.iterator(chunk_size=2000)
    )
    return TableDocument("roster", columns, rows)
