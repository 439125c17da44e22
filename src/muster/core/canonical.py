"""Canonical JSON (RFC 8785, JCS): the one byte form of every journal entry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import rfc8785


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


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of `value`: sorted keys, no insignificant whitespace, UTF-8."""
    return rfc8785.dumps(plain(value))


def canonical_text(value: Any) -> str:
    return canonical_bytes(value).decode("utf-8")
