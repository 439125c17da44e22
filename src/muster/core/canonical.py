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
    return _convert(value, [True])


def _convert(value: Any, simple: list[bool]) -> Any:
    """`plain`, noting in simple[0] whether the standard library's writer gives RFC 8785 bytes
    for the result: every key ASCII (code-point order is then UTF-16 order) and every integer
    exact in a double. Strings agree already: both escape only '"', '\\' and controls, alike."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if not -_SAFE_INT <= value <= _SAFE_INT:
            simple[0] = False
        return value
    if kind is dict:
        converted = {}
        for key, item in value.items():
            key = str(key)
            if not key.isascii():
                simple[0] = False
            converted[key] = _convert(item, simple)
        return converted
    if kind is list or kind is tuple:
        return [_convert(item, simple) for item in value]
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical payloads; use integers or strings")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a journal payload")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(_convert(item, simple) for item in value)
    if isinstance(value, dict):
        return _convert(dict(value), simple)
    if isinstance(value, list | tuple):
        return [_convert(item, simple) for item in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return _convert(int(value), simple)
    return value


def canonical_text(value: Any) -> str:
    """RFC 8785 text of `value`: sorted keys, no insignificant whitespace.
    The common case goes through the standard library (several times faster); anything else
    through the reference implementation. tests/unit/test_canonical.py holds both to the same
    bytes."""
    simple = [True]
    converted = _convert(value, simple)
    if simple[0]:
        return json.dumps(converted, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return rfc8785.dumps(converted).decode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of `value`, UTF-8."""
    return canonical_text(value).encode("utf-8")
