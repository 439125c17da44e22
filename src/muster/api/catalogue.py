"""The catalogue and storage sites (R4, R8): equipment categories and models (a model is
checked against the legal limits of every policy in force), and sites with their certified
security level, capacity per category and custodians.

Each handler checks the caller's roles (403) and scope (404), turns names into records and
calls one service (muster.armory.services.catalogue), which holds the rules and runs in one
transaction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from muster.access.scope import require, sites_in, units_in
from muster.accounts.selectors import users_by_username
from muster.api.common import actor, scope, unit_by_code
from muster.api.schemas import responses
from muster.armory.models import Category, EquipmentModel, Site
from muster.armory.services.catalogue import create_site, register_model

router = Router(tags=["catalogue"])


class CategoryOut(Schema):
    code: str
    name: str
    tracking: str


class ModelOut(Schema):
    id: int
    code: str
    name: str
    category: str = Field(alias="category.code")
    manufacturer: str
    legal_class: str
    weapon_class: str
    attributes: dict[str, Any]


class ModelIn(Schema):
    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=40)
    manufacturer: str = Field("", max_length=200)
    legal_class: str = Field("", max_length=40, description="e.g. civilian_rifle")
    weapon_class: str = Field("", max_length=40, description="the policy class, e.g. rifle")
    attributes: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="e.g. calibre, magazine_capacity"
    )


class SiteOut(Schema):
    id: int
    code: str
    name: str
    unit: str = Field(alias="unit.code")
    security_level: str
    certified_on: dt.date
    certification_expires: dt.date | None
    address: str
    capacities: dict[str, int]
    custodians: list[str]

    @staticmethod
    def resolve_capacities(obj: Any) -> dict[str, int]:
        return {c.category.code: c.max_items for c in obj.capacities.all()}

    @staticmethod
    def resolve_custodians(obj: Any) -> list[str]:
        return sorted(c.user.username for c in obj.custodians.all())


class SiteIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=40, description="unit code")
    security_level: str = Field(max_length=40, description="one of the policy's security_levels")
    certified_on: dt.date
    certification_expires: dt.date | None = None
    address: str = Field("", max_length=300)
    capacities: dict[str, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict, description="most items of a category it may hold: firearm → 50"
    )
    custodians: list[str] = Field(default_factory=list, max_length=50, description="usernames")


@router.get(
    "/categories",
    response=responses(200, list[CategoryOut]),
    summary="Equipment categories",
    tags=["catalogue"],
)
@paginate(LimitOffsetPagination)
def list_categories(
    request: HttpRequest,
    tracking: str | None = Query(None, max_length=16, description="serialized or quantity"),
) -> QuerySet[Category]:
    """The equipment categories; their codes are the ones the policy uses."""
    categories = Category.objects.all()
    if tracking:
        categories = categories.filter(tracking=tracking)
    return categories.order_by("code")


@router.get(
    "/models",
    response=responses(200, list[ModelOut]),
    summary="Equipment models",
    tags=["catalogue"],
)
@paginate(LimitOffsetPagination)
def list_models(
    request: HttpRequest,
    category: str | None = Query(None, max_length=40),
    q: str | None = Query(None, max_length=100, description="code, name or manufacturer"),
) -> QuerySet[EquipmentModel]:
    """The models in the catalogue, with their legal class and attributes."""
    models = EquipmentModel.objects.select_related("category")
    if category:
        models = models.filter(category__code=category)
    if q:
        models = models.filter(
            Q(code__icontains=q) | Q(name__icontains=q) | Q(manufacturer__icontains=q)
        )
    return models.order_by("code")


@router.post(
    "/models", response=responses(201, ModelOut), summary="Register a model", tags=["catalogue"]
)
def register(request: HttpRequest, payload: ModelIn) -> Status[EquipmentModel]:
    """Add a model to the catalogue; the legal limits of every policy in force are checked (a
    civilian-class rifle with a 30-round magazine is refused, citing the rule)."""
    require(scope(request), "policy.change", f"model {payload.code}")
    model = register_model(
        actor=actor(request),
        code=payload.code,
        name=payload.name,
        category=payload.category,
        manufacturer=payload.manufacturer,
        legal_class=payload.legal_class,
        weapon_class=payload.weapon_class,
        attributes=dict(payload.attributes),
    )
    return Status(201, EquipmentModel.objects.select_related("category").get(pk=model.pk))


def _sites(request: HttpRequest) -> QuerySet[Site]:
    return (
        sites_in(scope(request))
        .select_related("unit")
        .prefetch_related("capacities__category", "custodians__user")
    )


@router.get(
    "/sites", response=responses(200, list[SiteOut]), summary="Storage sites", tags=["sites"]
)
@paginate(LimitOffsetPagination)
def list_sites(
    request: HttpRequest,
    unit: str | None = Query(None, max_length=40, description="unit code (and its subtree)"),
    security_level: str | None = Query(None, max_length=40),
) -> QuerySet[Site]:
    """The storage sites the caller sees, with capacity per category and custodians."""
    sites = _sites(request)
    if unit:
        found = units_in(scope(request)).filter(code=unit).first()
        sites = sites.filter(unit__path__startswith=found.path) if found else sites.none()
    if security_level:
        sites = sites.filter(security_level=security_level)
    return sites.order_by("code")


@router.post(
    "/sites", response=responses(201, SiteOut), summary="Create a storage site", tags=["sites"]
)
def create(request: HttpRequest, payload: SiteIn) -> Status[Site]:
    """A storage site of a unit in the caller's scope, with its certified security level,
    capacity per category and custodians."""
    require(scope(request), "sites.change", f"site {payload.code}")
    unit = unit_by_code(scope(request), payload.unit)
    site = create_site(
        actor=actor(request),
        code=payload.code,
        name=payload.name,
        unit=unit,
        security_level=payload.security_level,
        certified_on=payload.certified_on,
        certification_expires=payload.certification_expires,
        address=payload.address,
        capacities=dict(payload.capacities),
        custodians=users_by_username(payload.custodians),
    )
    return Status(201, _sites(request).get(pk=site.pk))
