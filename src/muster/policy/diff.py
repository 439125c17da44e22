"""Structural diff of two policy documents (as JSON dicts), for `muster policy diff A B`.

Paths use the same dotted form as validation problems and decision reasons, e.g.
`categories.firearm.requires[1].within_months`, so a change can be traced to the rule it moves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["added", "removed", "changed"]
_MISSING = object()


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One difference: a value added, removed or changed at a path (old/new None when absent)."""

    path: str
    kind: Kind
    old: object
    new: object

    def __str__(self) -> str:
        if self.kind == "added":
            return f"+ {self.path}: {_shown(self.new)}"
        if self.kind == "removed":
            return f"- {self.path}: {_shown(self.old)}"
        return f"~ {self.path}: {_shown(self.old)} → {_shown(self.new)}"


def diff_documents(a: Mapping[str, object], b: Mapping[str, object]) -> list[DiffLine]:
    """Every difference from a to b, in document order; empty iff the documents are equal."""
    lines: list[DiffLine] = []
    _diff("", a, b, lines)
    return lines


def _diff(path: str, old: object, new: object, out: list[DiffLine]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in [*old, *(k for k in new if k not in old)]:
            child = f"{path}.{key}" if path else str(key)
            _pair(child, old.get(key, _MISSING), new.get(key, _MISSING), out)
    elif isinstance(old, list) and isinstance(new, list) and not (_flat(old) and _flat(new)):
        for i in range(max(len(old), len(new))):
            _pair(
                f"{path}[{i}]",
                old[i] if i < len(old) else _MISSING,
                new[i] if i < len(new) else _MISSING,
                out,
            )
    elif old != new or type(old) is not type(new):
        out.append(DiffLine(path, "changed", old, new))


def _pair(path: str, old: object, new: object, out: list[DiffLine]) -> None:
    if old is _MISSING:
        out.append(DiffLine(path, "added", None, new))
    elif new is _MISSING:
        out.append(DiffLine(path, "removed", old, None))
    else:
        _diff(path, old, new, out)


def _flat(values: list[object]) -> bool:
    """A list of plain values (e.g. statuses) is compared whole: it reads better than by index."""
    return all(not isinstance(v, Mapping | list) for v in values)


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
