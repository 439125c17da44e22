"""The catalogue and storage sites (R4, R8): categories, models checked against the legal limits
of every policy in force, sites with certified security, and receiving shipments into them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import CharField, Count, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from muster.accounts.models import User
from muster.armory.models import (
    Category,
    EquipmentModel,
    Item,
    Shipment,
    Site,
    SiteCapacity,
    SiteCustodian,
)
from muster.armory.rules import legal_limit_problems, security_meets
from muster.armory.services.common import policy_for_site, receiver_problems
from muster.core.actors import Actor
from muster.core.errors import CatalogueError, CustodyError, PolicyError, Problem
from muster.journal.models import JournalEntry
from muster.journal.services import Change, record_change, record_changes
from muster.people.models import Unit
from muster.policy.models import PolicyVersion
from muster.policy.schema import PolicyDocument
from muster.policy.selectors import policy_in_force

TRACKINGS = ("serialized", "quantity")


@transaction.atomic
def define_categories(*, actor: Actor, categories: Sequence[tuple[str, str, str]]) -> int:
    """Create categories (code, name, tracking) that do not exist yet; returns how many."""
    existing = {c.code: c for c in Category.objects.all()}
    problems, changes = [], []
    for code, name, tracking in categories:
        record = f"category {code}"
        if tracking not in TRACKINGS:
            problems.append(Problem(record, "tracking", "must be serialized or quantity", tracking))
            continue
        current = existing.get(code)
        if current is not None:
            if current.tracking != tracking:
                problems.append(
                    Problem(
                        record,
                        "tracking",
                        f"is already {current.tracking}; it cannot change",
                        tracking,
                    )
                )
            continue
        Category.objects.create(code=code, name=name, tracking=tracking)
        changes.append(
            Change("category.defined", "category", code, {"name": name, "tracking": tracking})
        )
    if problems:
        raise CatalogueError(problems)
    record_changes(actor=actor, changes=changes)
    return len(changes)


def policies_in_force(moment: dt.date) -> list[PolicyDocument]:
    """The policy in force today in every jurisdiction that has one."""
    jurisdictions = PolicyVersion.objects.values_list("jurisdiction", flat=True).distinct()
    found = []
    for jurisdiction in sorted(set(jurisdictions)):
        try:
            found.append(policy_in_force(jurisdiction, moment))
        except PolicyError:  # only future versions: nothing in force yet
            continue
    return found


@transaction.atomic
def register_model(
    *,
    actor: Actor,
    code: str,
    name: str,
    category: str,
    manufacturer: str = "",
    legal_class: str = "",
    weapon_class: str = "",
    attributes: dict[str, Any] | None = None,
) -> EquipmentModel:
    """Add a model to the catalogue; the legal limits of every policy in force are checked
    (a civilian-class rifle with a 30-round magazine is refused, citing the rule)."""
    attributes = dict(attributes or {})
    record = f"model {code}"
    problems = []
    category_row = Category.objects.filter(code=category).first()
    if category_row is None:
        problems.append(Problem(record, "category", "unknown category", category))
    if EquipmentModel.objects.filter(code=code).exists():
        problems.append(Problem(record, "code", "another model has this code", code))
    if not name.strip():
        problems.append(Problem(record, "name", "is required"))
    for policy in policies_in_force(timezone.localdate()):
        for field, rule, value in legal_limit_problems(
            policy.legal_limits, legal_class, attributes
        ):
            problems.append(Problem(record, field, f"{policy.ref} {rule}", value))
        rule_for = policy.categories.get(category)
        if rule_for is not None:
            if rule_for.classes and weapon_class not in rule_for.classes:
                problems.append(
                    Problem(
                        record,
                        "weapon_class",
                        f"{policy.ref} decides {category} by class: one of {', '.join(rule_for.classes)}",
                        weapon_class,
                    )
                )
            if not rule_for.classes and weapon_class:
                problems.append(
                    Problem(
                        record,
                        "weapon_class",
                        f"{category} has no classes; leave it empty",
                        weapon_class,
                    )
                )
    if problems:
        raise CatalogueError(problems)
    assert category_row is not None
    model = EquipmentModel.objects.create(
        code=code,
        name=name,
        category=category_row,
        manufacturer=manufacturer,
        legal_class=legal_class,
        weapon_class=weapon_class,
        attributes=attributes,
    )
    record_change(
        actor=actor,
        change=Change(
            "model.registered",
            "model",
            code,
            {
                "name": name,
                "category": category,
                "manufacturer": manufacturer,
                "legal_class": legal_class,
                "weapon_class": weapon_class,
                "attributes": attributes,
            },
        ),
    )
    return model


@transaction.atomic
def create_site(
    *,
    actor: Actor,
    code: str,
    name: str,
    unit: Unit,
    security_level: str,
    certified_on: dt.date,
    certification_expires: dt.date | None = None,
    address: str = "",
    capacities: dict[str, int] | None = None,
    custodians: Sequence[User] = (),
) -> Site:
    """A storage site with its certified security level, capacity per category and custodians."""
    record = f"site {code}"
    problems = []
    if Site.objects.filter(code=code).exists():
        problems.append(Problem(record, "code", "another site has this code", code))
    probe = Site(code=code, name=name, unit=unit)
    policy = policy_for_site(probe)
    if security_level not in policy.security_levels:
        problems.append(
            Problem(
                record,
                "security_level",
                f"{policy.ref} security_levels: one of {', '.join(policy.security_levels)}",
                security_level,
            )
        )
    if certified_on > timezone.localdate():
        problems.append(
            Problem(record, "certified_on", "cannot be in the future", certified_on.isoformat())
        )
    if certification_expires is not None and certification_expires <= certified_on:
        problems.append(
            Problem(record, "certification_expires", "must be after the certification date")
        )
    categories = {c.code: c for c in Category.objects.all()}
    for category, amount in (capacities or {}).items():
        if category not in categories:
            problems.append(Problem(record, f"capacity.{category}", "unknown category", category))
        elif amount < 0:
            problems.append(
                Problem(record, f"capacity.{category}", "cannot be negative", str(amount))
            )
    if problems:
        raise CatalogueError(problems)
    site = Site.objects.create(
        code=code,
        name=name,
        unit=unit,
        security_level=security_level,
        certified_on=certified_on,
        certification_expires=certification_expires,
        address=address,
    )
    SiteCapacity.objects.bulk_create(
        [
            SiteCapacity(site=site, category=categories[c], max_items=n)
            for c, n in (capacities or {}).items()
        ]
    )
    SiteCustodian.objects.bulk_create(
        [SiteCustodian(site=site, user=u, since=timezone.localdate()) for u in custodians]
    )
    record_change(
        actor=actor,
        change=Change(
            "site.created",
            "site",
            code,
            {
                "name": name,
                "unit": unit.code,
                "security_level": security_level,
                "certified_on": certified_on,
                "certification_expires": certification_expires,
                "capacities": capacities or {},
                "custodians": [u.username for u in custodians],
            },
        ),
    )
    return site


def storage_problems(site: Site, adding: Counter[str], record: str) -> list[Problem]:
    """Why `site` may not take `adding` (category → number of items): security below what the
    policy requires for a category, certification lapsed, or capacity exceeded."""
    policy = policy_for_site(site)
    problems = []
    today = timezone.localdate()
    if site.certification_expires is not None and site.certification_expires <= today:
        problems.append(
            Problem(
                record,
                "site",
                f"{site.code}'s certification lapsed on {site.certification_expires}",
            )
        )
    capacity = dict(
        SiteCapacity.objects.filter(site=site).values_list("category__code", "max_items")
    )
    present = dict(
        Item.objects.filter(site=site, place="site", model__category__code__in=list(adding))
        .values("model__category__code")
        .annotate(n=Count("pk"))
        .values_list("model__category__code", "n")
    )
    for category, count in sorted(adding.items()):
        rule = policy.categories.get(category)
        if rule is None:
            problems.append(Problem(record, "category", f"{policy.ref} does not cover {category}"))
            continue
        needed = rule.storage.min_security if rule.storage else None
        if needed and not security_meets(policy.security_levels, site.security_level, needed):
            problems.append(
                Problem(
                    record,
                    "site",
                    f"{policy.ref} categories.{category}.storage.min_security: {category} needs a site "
                    f"certified {needed} or better; {site.code} is {site.security_level}",
                )
            )
        limit = capacity.get(category)
        if limit is not None and present.get(category, 0) + count > limit:
            problems.append(
                Problem(
                    record,
                    "site",
                    f"{site.code} holds {present.get(category, 0)} {category} of a capacity "
                    f"of {limit}; {count} more would exceed it",
                )
            )
    return problems


@dataclass(frozen=True)
class NewItem:
    model_code: str
    serial: str
    registration: str = ""
    condition: str = "serviceable"
    record: str = ""

    def label(self) -> str:
        return self.record or f"item {self.model_code} {self.serial}"


@transaction.atomic
def receive_items(
    *,
    actor: Actor,
    site: Site,
    reference: str,
    items: Sequence[NewItem],
    expected: Sequence[tuple[str, str]] | None = None,
) -> Shipment:
    """Receive serialized items into a site against a shipment reference. What was expected
    but did not arrive, and what arrived unannounced, are recorded as discrepancies."""
    record = f"shipment {reference}"
    problems = []
    if not reference.strip():
        problems.append(Problem(record, "reference", "is required"))
    if Shipment.objects.filter(site=site, reference=reference).exists():
        problems.append(
            Problem(record, "reference", f"was already received at {site.code}", reference)
        )
    models = {m.code: m for m in EquipmentModel.objects.select_related("category")}
    seen: set[tuple[str, str]] = set()
    adding: Counter[str] = Counter()
    for new in items:
        model = models.get(new.model_code)
        if model is None:
            problems.append(Problem(new.label(), "model", "unknown model", new.model_code))
            continue
        if model.category.tracking != "serialized":
            problems.append(
                Problem(
                    new.label(), "model", f"{model.category.code} is counted by lot, not by serial"
                )
            )
        if not new.serial.strip():
            problems.append(Problem(new.label(), "serial", "is required"))
        if (new.model_code, new.serial) in seen:
            problems.append(
                Problem(new.label(), "serial", "appears twice in this shipment", new.serial)
            )
        if new.condition not in {"serviceable", "unserviceable", "awaiting_inspection"}:
            problems.append(
                Problem(
                    new.label(),
                    "condition",
                    "must be serviceable, unserviceable or awaiting_inspection",
                    new.condition,
                )
            )
        seen.add((new.model_code, new.serial))
        adding[model.category.code] += 1
    problems.extend(_taken_serials(items, models))
    problems.extend(storage_problems(site, adding, record))
    problems.extend(receiver_problems(actor, site, record))
    if problems:
        raise CustodyError(problems)
    created = Item.objects.bulk_create(
        [
            Item(
                model=models[new.model_code],
                serial=new.serial,
                registration=new.registration,
                place="site",
                site=site,
                home_site=site,
                condition=new.condition,
            )
            for new in items
        ],
        batch_size=2000,
    )
    seqs = record_changes(
        actor=actor,
        changes=(
            Change(
                "custody.received",
                "item",
                item.pk,
                {
                    "serial": item.serial,
                    "model": item.model.code,
                    "prev": None,
                    "to_site": site.code,
                    "shipment": reference,
                    "condition": item.condition,
                    **({"registration": item.registration} if item.registration else {}),
                },
            )
            for item in created
        ),
    )
    for item, seq in zip(created, seqs, strict=True):
        item.last_seq = seq
    _set_received_seqs(created)
    discrepancies = []
    if expected is not None:
        wanted = set(expected)
        for model_code, serial in sorted(wanted - seen):
            discrepancies.append({"kind": "not_received", "model": model_code, "serial": serial})
        for model_code, serial in sorted(seen - wanted):
            discrepancies.append({"kind": "not_expected", "model": model_code, "serial": serial})
    shipment = Shipment.objects.create(
        reference=reference,
        site=site,
        received_by=actor.label,
        expected_lines=len(expected) if expected is not None else len(items),
        received_lines=len(items),
        discrepancies=discrepancies,
    )
    record_change(
        actor=actor,
        change=Change(
            "shipment.received",
            "site",
            site.code,
            {
                "reference": reference,
                "received": len(items),
                "expected": shipment.expected_lines,
                "discrepancies": discrepancies,
            },
        ),
    )
    return shipment


def _set_received_seqs(created: Sequence[Item]) -> None:
    """Point each new item's last_seq at its custody.received entry, looked up in the database
    by the journal's subject index (bulk_update's CASE of 2,000 branches a statement took over
    a minute for 100,000 items)."""
    received = JournalEntry.objects.filter(
        subject_type="item",
        subject_id=Cast(OuterRef("pk"), output_field=CharField()),
        kind="custody.received",
    ).values("seq")[:1]
    for start in range(0, len(created), 2000):
        ids = [item.pk for item in created[start : start + 2000]]
        Item.objects.filter(pk__in=ids).update(last_seq=Subquery(received))


def _taken_serials(items: Sequence[NewItem], models: dict[str, EquipmentModel]) -> list[Problem]:
    problems = []
    by_model: dict[int, dict[str, NewItem]] = {}
    for new in items:
        if new.model_code in models:
            by_model.setdefault(models[new.model_code].pk, {})[new.serial] = new
    for model_id, serials in by_model.items():
        names = list(serials)
        for start in range(0, len(names), 2000):
            for serial in Item.objects.filter(
                model_id=model_id, serial__in=names[start : start + 2000]
            ).values_list("serial", flat=True):
                problems.append(
                    Problem(serials[serial].label(), "serial", "is already registered", serial)
                )
    registrations = [n.registration for n in items if n.registration]
    if len(set(registrations)) != len(registrations):
        problems.append(Problem("shipment", "registration", "a registration appears twice"))
    for reg in Item.objects.filter(registration__in=registrations).values_list(
        "registration", flat=True
    ):
        problems.append(
            Problem(f"registration {reg}", "registration", "is already registered", reg)
        )
    return problems
