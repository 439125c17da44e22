"""A catalogue file: the categories and models of equipment, as YAML, loaded in one transaction.

Loading goes through the catalogue services (define_categories, register_model), so every model
is checked against the legal limits of every policy in force. Entries already present and
identical are left as they are, so loading the same file again changes nothing; an entry that
differs from what is registered is refused (the catalogue never rewrites a model silently).
Every problem names its path in the file, e.g. `models[3].attributes.magazine_capacity`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from django.db import transaction
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from muster.armory.models import Category, EquipmentModel
from muster.armory.services.catalogue import define_categories, register_model
from muster.core.actors import Actor
from muster.core.errors import CatalogueError, DomainError, Problem
from muster.policy.schema import problems_from

_CATEGORY_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_MODEL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
MODEL_FIELDS = ("name", "category", "manufacturer", "legal_class", "weapon_class", "attributes")


def _category_code(value: str) -> str:
    if not _CATEGORY_CODE.match(value):
        raise ValueError("must be a lowercase code like counter_drone")
    return value


def _model_code(value: str) -> str:
    if not _MODEL_CODE.match(value):
        raise ValueError("must be letters, digits and . _ / - (no spaces), like VPR-223")
    return value


def _attribute(value: Any) -> Any:
    # Journal payloads are canonical JSON, which carries no floats: 5.56 is written '5.56'.
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise ValueError(f"a decimal must be quoted as text (e.g. '{value}')")
    raise ValueError("must be text, a whole number, or true/false")


CategoryCode = Annotated[str, Field(max_length=40), AfterValidator(_category_code)]
ModelCode = Annotated[str, Field(max_length=60), AfterValidator(_model_code)]
Text = Annotated[str, Field(max_length=200)]
Attribute = Annotated[Any, AfterValidator(_attribute)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CategoryEntry(_Strict):
    code: CategoryCode
    name: Text
    tracking: Literal["serialized", "quantity"]


class ModelEntry(_Strict):
    code: ModelCode
    name: Text
    category: CategoryCode
    manufacturer: Text = ""
    legal_class: Annotated[str, Field(max_length=40)] = ""
    weapon_class: Annotated[str, Field(max_length=40)] = ""
    attributes: dict[str, Attribute] = {}


class CatalogueDocument(_Strict):
    categories: list[CategoryEntry] = []
    models: list[ModelEntry] = []


@dataclass(frozen=True)
class CatalogueLoad:
    """What loading a catalogue file did."""

    categories_defined: int
    categories_unchanged: int
    models_registered: int
    models_unchanged: int

    def summary(self) -> str:
        return (
            f"categories: {self.categories_defined} defined, {self.categories_unchanged} unchanged; "
            f"models: {self.models_registered} registered, {self.models_unchanged} unchanged"
        )


def parse_catalogue(text: str, *, source: str) -> CatalogueDocument:
    """Read and validate a catalogue file's shape; every fault is reported with its path."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark else ""
        raise CatalogueError([Problem(source, where, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise CatalogueError([Problem(source, "", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        rule = "must be a YAML mapping with `categories:` and `models:` lists"
        raise CatalogueError([Problem(source, "", rule, type(data).__name__)])
    problems = _repeated(source, "categories", data.get("categories"))
    problems += _repeated(source, "models", data.get("models"))
    try:
        document = CatalogueDocument.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc, source) + problems
    if problems:
        raise CatalogueError(problems)
    return document


@transaction.atomic
def load_catalogue(*, actor: Actor, text: str, source: str) -> CatalogueLoad:
    """Define the file's new categories and register its new models, all or nothing."""
    document = parse_catalogue(text, source=source)
    problems: list[Problem] = []
    existing = {c.code: c for c in Category.objects.all()}
    new_categories = []
    for index, category in enumerate(document.categories):
        current = existing.get(category.code)
        if current is None:
            new_categories.append((index, category))
            continue
        for name in ("name", "tracking"):
            if getattr(current, name) != getattr(category, name):
                problems.append(
                    _differs(source, f"categories[{index}].{name}", "category", category.code)
                )
    try:
        define_categories(
            actor=actor, categories=[(e.code, e.name, e.tracking) for _, e in new_categories]
        )
    except DomainError as error:
        problems.extend(
            _located(source, error, {f"category {e.code}": i for i, e in new_categories})
        )
    registered = {
        m.code: m
        for m in EquipmentModel.objects.select_related("category").filter(
            code__in=[m.code for m in document.models]
        )
    }
    new_models = 0
    for index, entry in enumerate(document.models):
        path = f"models[{index}]"
        current_model = registered.get(entry.code)
        if current_model is not None:
            problems.extend(
                _differs(source, f"{path}.{name}", "model", entry.code)
                for name in MODEL_FIELDS
                if _registered_value(current_model, name) != getattr(entry, name)
            )
            continue
        try:
            with transaction.atomic():  # a refused model takes back only its own writes
                register_model(
                    actor=actor,
                    code=entry.code,
                    name=entry.name,
                    category=entry.category,
                    manufacturer=entry.manufacturer,
                    legal_class=entry.legal_class,
                    weapon_class=entry.weapon_class,
                    attributes=dict(entry.attributes),
                )
            new_models += 1
        except DomainError as error:
            problems.extend(_model_problems(source, path, entry, error))
    if problems:
        raise CatalogueError(problems)
    return CatalogueLoad(
        categories_defined=len(new_categories),
        categories_unchanged=len(document.categories) - len(new_categories),
        models_registered=new_models,
        models_unchanged=len(document.models) - new_models,
    )


def _registered_value(model: EquipmentModel, name: str) -> Any:
    return model.category.code if name == "category" else getattr(model, name)


def _differs(source: str, path: str, kind: str, code: str) -> Problem:
    return Problem(
        source,
        path,
        f"{kind} {code} is already in the catalogue with a different value; a registered "
        f"{kind} is never changed by loading a file (give the new one a new code)",
    )


def _located(source: str, error: DomainError, paths: dict[str, int]) -> list[Problem]:
    """A category service's problems, each placed at its entry in the file."""
    return [
        Problem(
            source,
            f"categories[{paths[p.record]}].{p.field}" if p.record in paths else p.field,
            p.rule,
            p.value,
        )
        for p in error.problems
    ]


def _model_problems(source: str, path: str, entry: ModelEntry, error: DomainError) -> list[Problem]:
    """register_model names fields of the model or, for a legal limit, the attribute checked."""
    located = []
    for problem in error.problems:
        if problem.field in ModelEntry.model_fields:
            where = f"{path}.{problem.field}"
        else:
            where = f"{path}.attributes.{problem.field}"
        located.append(Problem(source, where, f"model {entry.code}: {problem.rule}", problem.value))
    return located


def _repeated(source: str, section: str, entries: object) -> list[Problem]:
    """Codes given twice in a section (read before validation, so every fault shows at once)."""
    if not isinstance(entries, list):
        return []
    first: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(entries):
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str):
            continue
        if code in first:
            rule = f"appears again (first at {section}[{first[code]}])"
            problems.append(Problem(source, f"{section}[{index}].code", rule, code))
        first.setdefault(code, index)
    return problems


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping instead of keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
