"""The family of errors a service raises when it refuses bad input.

Every error names the record, the field and the rule it broke, so that a CLI, a form or an API
can show it as it is. A refusal *by policy* is not an error: it is a Decision (see policy.rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where it is and which rule it breaks."""

    record: str
    field: str
    rule: str
    value: str = ""

    def __str__(self) -> str:
        shown = f" (value {self.value!r})" if self.value != "" else ""
        where = f"{self.record}, {self.field}" if self.field else self.record
        return f"{where}: {self.rule}{shown}"


@dataclass
class DomainError(Exception):
    """A service refused its input; `problems` lists every reason, never fewer than one."""

    problems: list[Problem] = field(default_factory=list)
    code: str = "invalid"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    @classmethod
    def single(cls, record: str, field_name: str, rule: str, value: object = "") -> DomainError:
        return cls([Problem(record, field_name, rule, "" if value is None else str(value))])

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)


class NotFound(DomainError):
    """The record named does not exist (or is not visible to the caller)."""


class RegistryError(DomainError):
    """Units, people and memberships."""


class VettingError(DomainError):
    """Qualification records."""


class PolicyError(DomainError):
    """A policy document that does not validate, or a policy that cannot be loaded."""


class ImportRefused(DomainError):
    """An import file with bad rows, when nothing may be written."""


class AuthenticationFailed(DomainError):
    """The acting person could not prove who they are."""


class CustodyError(DomainError):
    """Items, lots, sites and what happens to them."""


class CatalogueError(DomainError):
    """Categories, models and sites."""
