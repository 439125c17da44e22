"""Canonical JSON (RFC 8785, JCS): the one byte form of every journal entry."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import rfc8785

# I-JSON's exact integer range: beyond it, JCS serialises through IEEE doubles.
_SAFE_INT = 2**53 - 1


def plain(value: Any) -> Any:
    """Turn dates, decimals, tuples and sets into JSON values; refuse floats (JCS cannot
    round-trip them byte for byte across languages, so quantities travel as integers)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a journal payload")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical payloads; use integers or strings")
    return value


def _simple(value: Any) -> bool:
    """True when the standard library's JSON writer produces RFC 8785 output for `value`:
    every key is ASCII (so code-point order is UTF-16 order), every number a safe integer.
    Strings agree already: both escape only '"', '\\' and controls, in the same short forms."""
    if isinstance(value, dict):
        return all(k.isascii() and _simple(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_simple(v) for v in value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return -_SAFE_INT <= value <= _SAFE_INT
    return False


def canonical_text(value: Any) -> str:
    """RFC 8785 text of `value`: sorted keys, no insignificant whitespace.
    The common case goes through the standard library (about 3× faster); anything else, and
    any doubt, through the reference implementation. tests/unit/test_canonical.py holds both
    to the same bytes."""
    converted = plain(value)
    if _simple(converted):
        return json.dumps(converted, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return rfc8785.dumps(converted).decode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of `value`, UTF-8."""
    return canonical_text(value).encode("utf-8")
