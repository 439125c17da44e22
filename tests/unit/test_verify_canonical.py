"""The auditor's canonical JSON check accepts exactly RFC 8785's bytes: it agrees with the
reference package on every value Muster can write, refuses every other spelling of the same
value, and says what is wrong."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from muster_verify.canonical import NotCanonical, canonical_bytes, parse_canonical
from muster_verify.errors import VerificationError

# Characters where serialisers disagree: controls, DEL, the JavaScript line separators, quote
# and backslash, the last BMP characters (which sort after astral ones in UTF-16 but before
# them by code point) and astral ones.
tricky_characters = st.sampled_from(
    [chr(c) for c in range(0x20)]
    + ['"', "\\", "/", "\x7f", "\x80", "\u2028", "\u2029", "\ufeff", "\ue000", "\uffff"]
    + ["é", "€", "\U0001f600", "\U00010000", "\U0010ffff", "a", "Z", " "]
)
tricky_text = st.text(tricky_characters, max_size=8) | st.text(
    st.characters(blacklist_categories=("Cs",)), max_size=8
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.integers(min_value=-(2**53) - 2, max_value=-(2**53) + 2)
    | st.integers(min_value=2**53 - 2, max_value=2**53 + 2)
    | tricky_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=5)
    ),
    max_leaves=25,
)


def reference(value: object) -> bytes | None:
    """rfc8785's bytes for `value`, or None when it refuses the value."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.IntegerDomainError, rfc8785.CanonicalizationError):
        return None


@settings(max_examples=400)
@given(json_values)
@example({"\ue000": 1, "\U0001f600": 2})
@example("\x7f\u2028\u2029\x00\x1f\b\t\n\f\r")
def test_canonical_bytes_and_the_reference_package_agree(value):
    expected = reference(value)
    if expected is None:
        with pytest.raises(NotCanonical):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected
    assert parse_canonical(expected) == value


@settings(max_examples=400)
@given(
    json_values,
    st.sampled_from(
        [
            {"ensure_ascii": False},
            {"ensure_ascii": True, "separators": (",", ":")},
            {"ensure_ascii": False, "separators": (",", ":"), "sort_keys": True},
            {"ensure_ascii": False, "separators": (",", ":")},
            {"ensure_ascii": False, "indent": 1},
        ]
    ),
)
def test_any_other_spelling_of_a_value_is_refused(value, options):
    """Python's json output is accepted exactly when it happens to be RFC 8785's bytes."""
    spelled = json.dumps(value, **options).encode("utf-8", "surrogatepass")
    expected = reference(value)
    if spelled == expected:
        assert parse_canonical(spelled) == value
    else:
        with pytest.raises(NotCanonical):
            parse_canonical(spelled)


@pytest.mark.parametrize("code", [*range(0x20), 0x22, 0x5C, 0x2F, 0x7F, 0x2028, 0x2029])
def test_strings_escape_only_what_rfc_8785_escapes(code):
    text = chr(code)
    assert canonical_bytes(text) == rfc8785.dumps(text)
    assert parse_canonical(rfc8785.dumps(text)) == text


def test_known_answers():
    assert canonical_bytes("\x00\x1f\b\t\n\f\r\x7f\u2028") == (
        b'"\\u0000\\u001f\\b\\t\\n\\f\\r\x7f\xe2\x80\xa8"'
    )
    # Member names sort by UTF-16 code units: U+1F600 is D83D DE00, before U+E000.
    assert canonical_bytes({"\ue000": 1, "\U0001f600": 2, "a": 0}) == (
        '{"a":0,"\U0001f600":2,"\ue000":1}'.encode()
    )
    assert canonical_bytes([2**53 - 1, -(2**53) + 1, 0, True, None]) == (
        b"[9007199254740991,-9007199254740991,0,true,null]"
    )
    body = b'{"actor":"a","at":"t","data":{"prev":null},"kind":"k","seq":3,"subject":{"id":"1","type":"item"}}'
    assert parse_canonical(body)["subject"] == {"id": "1", "type": "item"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"a":1,"a":1}', 'member name "a" appears twice'),
        (b'{"\xc3\xa9":1,"\xc3\xa9":2}', 'member name "é" appears twice'),
        (b'{"a":1.0}', "1.0 is a float"),
        (b"1e3", "1e3 is a float"),
        (b"-0.0", "-0.0 is a float"),
        (b"NaN", "NaN is not a JSON value"),
        (b"[Infinity]", "Infinity is not a JSON value"),
        (b"9007199254740992", "integer 9007199254740992 is beyond"),
        (b"-9007199254740992", "integer -9007199254740992 is beyond"),
        (b"1" * 5000, "is beyond"),
        (b"-0", "at byte 0, found '-0' where the canonical form has '0'"),
        (
            b'{"b":1,"a":2}',
            """found '{"b":1,"a":2}' where the canonical form has '{"a":2,"b":1}'""",
        ),
        (b'{"a": 1}', "at byte 5"),
        (b'{"a":1}\n', "at byte 7"),
        (b' {"a":1}', "at byte 0"),
        (b'"\\/"', "at byte 1"),
        (b'"\\u001F"', "at byte 6"),
        (b'"\\u00e9"', "at byte 1"),
        (b'"\\ud800"', "lone surrogate"),
        (b'"\xed\xa0\x80"', "not UTF-8 at byte 1"),
        (b'"\xff"', "not UTF-8 at byte 1"),
        (b"\xef\xbb\xbf{}", "starts with a byte order mark"),
        (b"{", "not JSON: Expecting property name"),
        (b"01", "not JSON: Extra data"),
        (b"", "not JSON: Expecting value"),
        ('{"\ue000":1,"\U0001f600":2}'.encode(), "at byte 2"),
    ],
)
def test_non_canonical_bytes_are_refused_saying_why(data, reason):
    with pytest.raises(NotCanonical) as refused:
        parse_canonical(data)
    assert reason in str(refused.value)
    assert isinstance(refused.value, VerificationError)


def test_the_largest_exact_integers_are_accepted():
    assert parse_canonical(b"[9007199254740991,-9007199254740991]") == [2**53 - 1, -(2**53) + 1]


@pytest.mark.parametrize("value", [1.5, float("nan"), {1: "a"}, {"a": object()}, "\udc00"])
def test_values_muster_never_writes_have_no_canonical_bytes(value):
    with pytest.raises(NotCanonical):
        canonical_bytes(value)
