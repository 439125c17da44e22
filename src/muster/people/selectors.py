"""Reads over the registry."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from muster.core.errors import NotFound
from muster.people.choices import UnitKind
from muster.people.models import Person, Unit


def unit_by_code(code: str) -> Unit:
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise NotFound.single(f"unit {code}", "code", "no unit has this code")
    return unit


def person_by_national_id(national_id: str) -> Person:
    from muster.people.rules import normalise_national_id

    person = (
        Person.objects.select_related("unit")
        .filter(national_id=normalise_national_id(national_id))
        .first()
    )
    if person is None:
        raise NotFound.single(
            f"person {national_id}", "national_id", "no volunteer has this identifier"
        )
    return person


def units_in_subtree(unit: Unit) -> QuerySet[Unit]:
    """The unit and every unit below it."""
    return Unit.objects.filter(path__startswith=unit.path)


def people_in_subtree(unit: Unit) -> QuerySet[Person]:
    return Person.objects.filter(unit__path__startswith=unit.path)


def region_of(unit: Unit) -> Unit:
    """The region a unit belongs to (the unit itself when it is a region)."""
    ids = [int(part) for part in unit.path.strip("/").split("/")]
    regions = {u.pk: u for u in Unit.objects.filter(pk__in=ids, kind=UnitKind.REGION)}
    for unit_id in ids:
        if unit_id in regions:
            return regions[unit_id]
    raise NotFound.single(f"unit {unit.code}", "parent", "is not inside any region")


def jurisdiction_of(unit: Unit) -> str:
    """The nearest jurisdiction set on the unit or an ancestor."""
    ids = [int(part) for part in unit.path.strip("/").split("/")]
    by_id = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "jurisdiction"))
    for unit_id in reversed(ids):
        if by_id.get(unit_id):
            return str(by_id[unit_id])
    raise NotFound.single(
        f"unit {unit.code}", "jurisdiction", "neither the unit nor any parent names a jurisdiction"
    )


def ancestor_ids(unit: Unit) -> list[int]:
    """The ids on the unit's path, from the root down to the unit itself."""
    return [int(part) for part in unit.path.strip("/").split("/")]


def region_and_jurisdiction(unit: Unit) -> tuple[Unit, str]:
    """The unit's region and the nearest jurisdiction on it or an ancestor, in one query."""
    ids = ancestor_ids(unit)
    return region_and_jurisdiction_in(unit, list(Unit.objects.filter(pk__in=ids)))


def region_and_jurisdiction_in(unit: Unit, chain: Sequence[Unit]) -> tuple[Unit, str]:
    """region_and_jurisdiction from the unit's ancestors (`chain`, any order, itself included)."""
    by_id = {u.pk: u for u in chain}
    ids = ancestor_ids(unit)
    region = next((by_id[i] for i in ids if by_id[i].kind == UnitKind.REGION), None)
    jurisdiction = next((by_id[i].jurisdiction for i in reversed(ids) if by_id[i].jurisdiction), "")
    if region is None or not jurisdiction:
        field = "parent" if region is None else "jurisdiction"
        raise NotFound.single(
            f"unit {unit.code}", field, "is not inside a region with a jurisdiction"
        )
    return region, jurisdiction


def regions() -> QuerySet[Unit]:
    return Unit.objects.filter(kind=UnitKind.REGION).order_by("code")


def existing_national_ids(ids: Sequence[str]) -> set[str]:
    """Which of `ids` are registered already (queried in chunks to stay under SQL limits)."""
    found: set[str] = set()
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        found.update(
            Person.objects.filter(national_id__in=chunk).values_list("national_id", flat=True)
        )
    return found
