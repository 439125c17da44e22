"""A strict check that bytes are JSON in the RFC 8785 canonical form (JCS), written with the
standard library only, independently of the code that writes Muster's journal.

Muster's entries hold no floats, so the values allowed are null, true, false, integers within
±(2**53-1) (the integers an IEEE 754 double holds exactly), strings, arrays and objects. The
canonical form of such a value is:

- no whitespace between tokens;
- object members sorted by their names compared as UTF-16 code units (which differs from code
  point order only between characters above U+FFFF and those in U+E000..U+FFFF);
- integers in plain decimal, no sign on zero;
- strings as UTF-8, with only `"`, `\\` and U+0000..U+001F escaped: \\b \\t \\n \\f \\r by their
  short forms, the others as \\u00XX in lowercase hex. Everything else, U+007F and U+2028 among
  it, is written as itself, as ECMAScript's JSON.stringify does. Lone surrogates are refused.

Python's json module (with ensure_ascii=False) escapes strings exactly that way, and leaves lone
surrogates in for UTF-8 encoding to refuse. What it does differently is parsing leniently:
duplicate names (the last wins), NaN and Infinity, floats and integers of any size. The checks
here refuse each of those, re-serialise the value canonically and compare byte for byte.
"""

from __future__ import annotations

import json
import re
from typing import Any

from muster_verify.errors import VerificationError

MAX_INTEGER = 2**53 - 1

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n"}
_SHORT_ESCAPES |= {"\f": "\\f", "\r": "\\r"}
_ESCAPES = {chr(c): _SHORT_ESCAPES.get(chr(c), f"\\u{c:04x}") for c in range(0x20)}
_ESCAPES |= _SHORT_ESCAPES
_TO_ESCAPE = re.compile(r'["\\\x00-\x1f]')


class NotCanonical(VerificationError):
    """The bytes are not the RFC 8785 canonical JSON of a value without floats; the message
    says what is wrong and where."""


# --- writing ----------------------------------------------------------------------------------


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical JSON of `value` (None, bool, int, str, list, dict with str keys),
    as UTF-8. Raises NotCanonical for a float, an integer beyond ±(2**53-1), a lone surrogate
    or any other type."""
    text = "".join(_serialise(value, []))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise NotCanonical(
            f"a string holds a lone surrogate {text[error.start]!r}, which has no UTF-8 form"
        ) from None


def utf16_key(name: str) -> bytes:
    """The sort key of a member name in RFC 8785: its UTF-16 code units, big-endian, so that
    bytes compare as the units do."""
    return name.encode("utf-16-be", "surrogatepass")


def _serialise(value: Any, out: list[str]) -> list[str]:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_INTEGER <= value <= MAX_INTEGER:
            raise NotCanonical(f"integer {value} is beyond ±(2**53-1)")
        out.append(str(int(value)))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _serialise(item, out)
        out.append("]")
    elif isinstance(value, dict):
        for name in value:
            if not isinstance(name, str):
                raise NotCanonical(f"object member name {name!r} is not a string")
        out.append("{")
        for position, name in enumerate(sorted(value, key=utf16_key)):
            if position:
                out.append(",")
            out.append(_string(name))
            out.append(":")
            _serialise(value[name], out)
        out.append("}")
    elif isinstance(value, float):
        raise NotCanonical(f"{value!r} is a float; Muster never writes floats")
    else:
        raise NotCanonical(f"{type(value).__name__} is not a JSON value")
    return out


def _string(text: str) -> str:
    return '"' + _TO_ESCAPE.sub(lambda match: _ESCAPES[match.group()], text) + '"'


# --- checking ---------------------------------------------------------------------------------


def _refuse_float(text: str) -> Any:
    raise NotCanonical(f"{text} is a float; Muster never writes floats")


def _refuse_constant(text: str) -> Any:
    raise NotCanonical(f"{text} is not a JSON value")


def _parse_int(text: str) -> int:
    # Fifteen digits are always within 2**53-1; only longer ones need the comparison.
    if len(text) > 15 and abs(int(text[:40])) > MAX_INTEGER:
        raise NotCanonical(
            f"integer {text[:40]}{'...' if len(text) > 40 else ''} is beyond ±(2**53-1)"
        )
    return int(text)


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise NotCanonical(
                    f"member name {json.dumps(name, ensure_ascii=False)} appears twice"
                )
            seen.add(name)
    return members


# The fast path: the C parser and encoder, with member names sorted in code point order. That is
# UTF-16 order when no character is above U+FFFF, which is when the UTF-8 holds no four-byte
# sequence (no byte from 0xF0 up). dict() keeps the last of duplicate names, so they come out
# shorter than they went in and fail the comparison; anything refused goes the slow path, which
# says why.
_ASTRAL = re.compile(rb"[\xf0-\xff]")
_FAST_DECODER = json.JSONDecoder(
    parse_float=_refuse_float, parse_int=_parse_int, parse_constant=_refuse_constant
)
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    sort_keys=True,
    check_circular=False,
    allow_nan=False,
)
_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_members,
    parse_float=_refuse_float,
    parse_int=_parse_int,
    parse_constant=_refuse_constant,
)


def parse_canonical(data: bytes) -> Any:
    """The value of `data` if it is the RFC 8785 canonical JSON of a value without floats;
    otherwise raises NotCanonical saying why: not UTF-8, not JSON, a duplicate member name, a
    float, an integer beyond ±(2**53-1), or the first byte where it differs from the canonical
    form of its value."""
    if data.isascii() or not _ASTRAL.search(data):
        try:
            value, end = _FAST_DECODER.raw_decode(data.decode("utf-8"))
        except (ValueError, RecursionError):
            pass  # described below
        else:
            # A lone surrogate comes out in a form valid UTF-8 input cannot hold, so it never
            # compares equal; the slow path names it.
            if (
                end == len(data)
                and _FAST_ENCODER.encode(value).encode("utf-8", "surrogatepass") == data
            ):
                return value
    return _parse_strictly(data)


def check_canonical(data: bytes) -> None:
    """Raise NotCanonical unless `data` is canonical JSON (see `parse_canonical`)."""
    parse_canonical(data)


def _parse_strictly(data: bytes) -> Any:
    """The slow path, which names what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotCanonical(f"not UTF-8 at byte {error.start} ({error.reason})") from None
    if text.startswith("\ufeff"):
        raise NotCanonical("starts with a byte order mark (U+FEFF)")
    try:
        value = _STRICT_DECODER.decode(text)
    except NotCanonical:
        raise
    except json.JSONDecodeError as error:
        raise NotCanonical(f"not JSON: {error.msg} at character {error.pos}") from None
    except RecursionError:
        raise NotCanonical("not JSON this verifier can read: nested too deeply") from None
    except ValueError as error:
        raise NotCanonical(f"not JSON: {error}") from None
    expected = canonical_bytes(value)
    if expected != data:
        raise NotCanonical(_difference(data, expected))
    return value


def _difference(found: bytes, expected: bytes) -> str:
    """Where `found` first departs from the canonical `expected`, with a little of each."""
    at = next(
        (i for i, (a, b) in enumerate(zip(found, expected, strict=False)) if a != b),
        min(len(found), len(expected)),
    )
    start = max(0, at - 12)

    def excerpt(raw: bytes) -> str:
        text = raw[start : at + 16].decode("utf-8", "backslashreplace")
        return repr(text) if text else "the end"

    return f"at byte {at}, found {excerpt(found)} where the canonical form has {excerpt(expected)}"
