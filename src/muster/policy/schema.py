"""The policy document ("law as data"): its shape, its cross-checks, and how a YAML file is read.

A PolicyDocument is immutable once validated; `model_dump(mode="json")` and `model_validate`
round-trip it exactly, so the stored JSON is the policy. Pure Python: no Django here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from muster.core.errors import PolicyError, Problem

STATUSES: tuple[str, ...] = ("applicant", "vetting", "active", "suspended", "discharged")
AUTHORISER_ROLES: tuple[str, ...] = (
    "hq_staff",
    "regional_admin",
    "commander",
    "vetting_officer",
    "armorer",
)
CLASS_PLACEHOLDER = "$class"
DATE_RULE = "must be a date like 2026-01-01"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _to_date(value: object) -> date:
    """Accept a date or an ISO `YYYY-MM-DD` string (as YAML and stored JSON give it), nothing else."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{DATE_RULE} (there is no such day)") from None
    raise ValueError(DATE_RULE)


Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)]
Version = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$", max_length=40)]
ClassRef = Annotated[str, Field(pattern=r"^(\$class|[A-Za-z0-9][A-Za-z0-9_]*)$", max_length=40)]
PolicyDate = Annotated[date, BeforeValidator(_to_date)]
Months = Annotated[int, Field(ge=1, le=600)]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
Status = Literal["applicant", "vetting", "active", "suspended", "discharged"]
Role = Literal["hq_staff", "regional_admin", "commander", "vetting_officer", "armorer"]


class _Strict(BaseModel):
    """Every section refuses unknown keys and loose types (no "12" for 12, no "yes" for true)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, serialize_by_alias=True)


class QualificationTypePolicy(_Strict):
    """A kind of qualification the policy may require, e.g. firearms training per weapon class."""

    name: str
    classes: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_]*$")]] = []
    default_validity_months: Months | None = None
    description: str = ""


class Requirement(_Strict):
    """One qualification that must be held, or `any_of` several alternatives (one is enough).

    `class` omitted means any class; `$class` means the class of the target (e.g. rifle).
    """

    qualification: Code | None = None
    klass: ClassRef | None = Field(default=None, alias="class")
    within_months: Months | None = None
    any_of: list[Requirement] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> Requirement:
        if self.any_of is None:
            if self.qualification is None:
                raise ValueError(
                    "a requirement names a qualification, or lists any_of alternatives"
                )
            return self
        if self.qualification or self.klass or self.within_months is not None:
            raise ValueError("an any_of requirement puts qualification/class/within_months inside")
        if not self.any_of:
            raise ValueError("any_of needs at least one alternative")
        if any(alt.any_of is not None for alt in self.any_of):
            raise ValueError("any_of alternatives may not nest another any_of")
        return self

    def alternatives(self) -> list[Requirement]:
        """The qualifications that would each satisfy this requirement."""
        return self.any_of if self.any_of is not None else [self]


class Quota(_Strict):
    """At most this many items of the category issued at once in one region."""

    per_region: Count


class StoragePolicy(_Strict):
    """Where the category may be stored: a site certified at this security level or higher."""

    min_security: Code


class CategoryPolicy(_Strict):
    """Who may hold an equipment category, and how it is kept, issued and authorised."""

    name: str = ""
    description: str = ""
    sensitive: bool = False
    two_person_rule: bool = False
    min_age: Annotated[int, Field(ge=0, le=120)] | None = None
    eligible_statuses: list[Status] = ["active"]
    classes: list[Code] = []
    requires: list[Requirement] = []
    class_requires: dict[str, list[Requirement]] = {}
    quota: Quota | None = None
    storage: StoragePolicy | None = None
    authorisers: list[Role] = []
    max_issue_hours: Positive | None = None
    assignment_allowed: bool = True


class LegalLimit(_Strict):
    """A legal bound on an attribute of every model of a legal class (e.g. magazine capacity)."""

    model_class: Code
    attribute: Code
    max: int | None = None
    min: int | None = None
    note: str = ""

    @model_validator(mode="after")
    def _bounded(self) -> LegalLimit:
        if self.max is None and self.min is None:
            raise ValueError("a legal limit needs max, min or both")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError("min may not exceed max")
        return self


class EmergencyIssuePolicy(_Strict):
    """Whether items may be issued before every check passes, by whom, and how soon to reconcile."""

    allowed: bool = False
    authorisers: list[Role] = []
    reconcile_within_hours: Positive | None = None
    categories: list[Code] = []

    @model_validator(mode="after")
    def _complete(self) -> EmergencyIssuePolicy:
        if self.allowed and (not self.authorisers or self.reconcile_within_hours is None):
            raise ValueError("allowed emergency issue needs authorisers and reconcile_within_hours")
        return self


class CountPolicy(_Strict):
    """How stock is counted: blind or not, by whom, and how often per category (days)."""

    blind: bool = True
    counter_may_be_custodian: bool = False
    interval_days: dict[str, Positive] = {}


class PriorityWeights(_Strict):
    """Integer weights of the experience score (R3); see docs/policy.md for the formula."""

    points_per_year_prior_service: Count = 10
    max_years_prior_service: Count = 10
    points_per_month_combat: Count = 5
    max_months_combat: Count = 36
    points_per_qualification: Count = 5
    counted_qualifications: list[Code] = []
    points_per_year_in_unit: Count = 3
    max_years_in_unit: Count = 5


class DutiesPolicy(_Strict):
    """Rostering limits (R9): the rest a volunteer gets between two shifts, the longest shift,
    the most hours a week, who may stand a duty, and how early check-in opens."""

    min_rest_hours: Annotated[int, Field(ge=0, le=72)] = 8
    max_shift_hours: Annotated[int, Field(ge=1, le=72)] = 12
    max_hours_per_week: Annotated[int, Field(ge=1, le=168)] | None = None
    eligible_statuses: list[Status] = ["active"]
    check_in_opens_minutes: Annotated[int, Field(ge=0, le=1440)] = 60


class PolicyDocument(_Strict):
    """One version of one jurisdiction's policy; cross-checked so every reference resolves."""

    jurisdiction: Slug
    version: Version
    title: str
    status: Literal["in_force", "draft"] = "in_force"
    effective_from: PolicyDate
    description: str = ""
    security_levels: Annotated[list[Code], Field(min_length=1)]
    qualification_types: dict[Code, QualificationTypePolicy]
    categories: Annotated[dict[Code, CategoryPolicy], Field(min_length=1)]
    legal_limits: list[LegalLimit] = []
    emergency_issue: EmergencyIssuePolicy = EmergencyIssuePolicy()
    counts: CountPolicy = CountPolicy()
    priority: PriorityWeights = PriorityWeights()
    duties: DutiesPolicy = DutiesPolicy()

    @property
    def ref(self) -> str:
        """`jurisdiction@version`, the name every decision records."""
        return f"{self.jurisdiction}@{self.version}"

    @model_validator(mode="after")
    def _cross_check(self) -> PolicyDocument:
        found = list(_cross_problems(self))
        if found:
            raise CrossCheckFailed(found)
        return self


class CrossCheckFailed(ValueError):
    """References in a structurally valid document that do not resolve: (path, rule, value)."""

    def __init__(self, found: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {rule}" for path, rule, _ in found))
        self.found = found


def _cross_problems(doc: PolicyDocument) -> Iterator[tuple[str, str, str]]:
    """Every reference in the document that names something undeclared, as (path, rule, value)."""
    levels = doc.security_levels
    if len(set(levels)) != len(levels):
        yield "security_levels", "each security level may be listed only once", ""
    types = doc.qualification_types
    for code, category in doc.categories.items():
        where = f"categories.{code}"
        yield from _requirement_problems(f"{where}.requires", category.requires, category, types)
        for klass, extra in category.class_requires.items():
            if klass not in category.classes:
                rule = f"unknown class '{klass}' — declare it under {where}.classes"
                yield f"{where}.class_requires.{klass}", rule, klass
            path = f"{where}.class_requires.{klass}"
            yield from _requirement_problems(path, extra, category, types)
        if category.storage and category.storage.min_security not in levels:
            rule = (
                f"unknown security level — declare it under security_levels ({', '.join(levels)})"
            )
            yield f"{where}.storage.min_security", rule, category.storage.min_security
    for name, cats in (
        ("counts.interval_days", list(doc.counts.interval_days)),
        ("emergency_issue.categories", doc.emergency_issue.categories),
    ):
        for cat in cats:
            if cat not in doc.categories:
                yield name, f"unknown category '{cat}' — declare it under categories", cat
    for i, qual in enumerate(doc.priority.counted_qualifications):
        if qual not in types:
            rule = f"unknown qualification type '{qual}' — declare it under qualification_types"
            yield f"priority.counted_qualifications[{i}]", rule, qual


def _requirement_problems(
    path: str,
    requirements: list[Requirement],
    category: CategoryPolicy,
    types: dict[str, QualificationTypePolicy],
) -> Iterator[tuple[str, str, str]]:
    """Each requirement names a declared type and a class that type (and the category) has."""
    for i, requirement in enumerate(requirements):
        for j, alt in enumerate(requirement.alternatives()):
            where = f"{path}[{i}]" + (f".any_of[{j}]" if requirement.any_of is not None else "")
            code = alt.qualification or ""
            declared = types.get(code)
            if declared is None:
                rule = f"unknown qualification type '{code}' — declare it under qualification_types"
                yield f"{where}.qualification", rule, code
                continue
            if alt.klass is None:
                continue
            if not declared.classes:
                yield f"{where}.class", f"{code} has no classes", alt.klass
            elif alt.klass == CLASS_PLACEHOLDER:
                if not category.classes:
                    yield (
                        f"{where}.class",
                        "$class needs the category to declare classes",
                        alt.klass,
                    )
                for klass in category.classes:
                    if klass not in declared.classes:
                        rule = f"{code} has no class '{klass}' for $class ({_listed(declared)})"
                        yield f"{where}.class", rule, klass
            elif alt.klass not in declared.classes:
                yield f"{where}.class", f"{code} has no such class ({_listed(declared)})", alt.klass


def _listed(qual_type: QualificationTypePolicy) -> str:
    return "declared: " + ", ".join(qual_type.classes)


def parse_policy(text: str, *, source: str = "<policy>") -> PolicyDocument:
    """Read and validate a YAML policy; on any fault raise PolicyError listing every problem."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}" if mark else ""
        where = f" ({line}, column {mark.column + 1})" if mark else ""
        raise PolicyError(
            [Problem(source, line, f"not valid YAML: {exc.problem}{where}")]
        ) from None
    except yaml.YAMLError as exc:
        raise PolicyError([Problem(source, "", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        rule = "must be a YAML mapping with jurisdiction, version, categories, … at the top"
        raise PolicyError([Problem(source, "", rule, type(data).__name__)])
    try:
        return PolicyDocument.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(problems_from(exc, source)) from None


def problems_from(exc: ValidationError, source: str) -> list[Problem]:
    """One Problem per validation error, with a dotted path and a plain-English rule."""
    problems: list[Problem] = []
    for err in exc.errors():
        path = _dotted(err["loc"])
        ctx = err.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, CrossCheckFailed):
            problems.extend(Problem(source, p, rule, value) for p, rule, value in cause.found)
            continue
        rule = _rule(err["type"], ctx, err["msg"])
        if "[key]" in err["loc"]:
            rule = f"name {rule}"
        value = "" if err["type"] == "missing" else _shown(err.get("input"))
        problems.append(Problem(source, path, rule, value))
    return problems


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping instead of keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp_text(self, node: yaml.Node) -> str:
        """Keep dates as text so a bad one (2026-13-01) gets the schema's message, not a crash."""
        return str(self.construct_scalar(node))  # type: ignore[arg-type]


_UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_yaml_timestamp_text
)


_PATTERN_RULES = {
    r"^[a-z][a-z0-9_]*$": "must be a lowercase code like fire_safety",
    r"^[a-z][a-z0-9_-]*$": "must be a lowercase name like national or region-east",
    r"^[0-9A-Za-z][0-9A-Za-z._-]*$": "must be a version like 2026.1",
    r"^(\$class|[A-Za-z0-9][A-Za-z0-9_]*)$": "must be a class name like rifle, or $class",
    r"^[A-Za-z0-9][A-Za-z0-9_]*$": "must be a class name like rifle or B",
}
_TYPE_RULES = {
    "missing": "is required",
    "extra_forbidden": "extra field not allowed",
    "string_type": "must be text (quote it, e.g. '2026.1')",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping of fields",
    "date_type": DATE_RULE,
}


def _rule(kind: str, ctx: dict[str, Any], msg: str) -> str:
    if kind in _TYPE_RULES:
        return _TYPE_RULES[kind]
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} entry"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return _PATTERN_RULES.get(str(ctx.get("pattern")), msg)
    if kind == "value_error":
        return str(ctx.get("error", msg))
    return msg


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":
            out += f".{part}" if out else part
    return out


def _shown(value: object) -> str:
    if isinstance(value, str | int | float | bool | date):
        text = str(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return ""
