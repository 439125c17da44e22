"""The journal's canonical JSON is RFC 8785, byte for byte, whichever path writes it."""

from __future__ import annotations

import datetime as dt

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from muster.core.canonical import canonical_text

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_text_equals_the_reference_implementation(value):
    try:
        expected = rfc8785.dumps(value).decode("utf-8")
    except rfc8785.IntegerDomainError:
        with pytest.raises(rfc8785.IntegerDomainError):
            canonical_text(value)
        return
    assert canonical_text(value) == expected


def test_known_answer():
    value = {"b": [1, "\u20ac", '\n\t"\\'], "a": None, "é": True, "\U0001f600": 0, "\ue000": 1}
    assert canonical_text(value) == rfc8785.dumps(value).decode("utf-8")
    assert canonical_text({"z": 1, "a": 2}) == '{"a":2,"z":1}'


def test_dates_and_times_are_iso_and_floats_are_refused():
    moment = dt.datetime(2026, 11, 22, 3, 4, 5, 6, tzinfo=dt.UTC)
    assert canonical_text({"on": dt.date(2026, 2, 28), "at": moment}) == (
        '{"at":"2026-11-22T03:04:05.000006Z","on":"2026-02-28"}'
    )
    with pytest.raises(TypeError, match="floats"):
        canonical_text({"x": 1.5})
