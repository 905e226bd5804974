"""Input specs: parsing rules and the agreement of patterns with parsers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from target_app.errors import BadRequest, ValidationError
from target_app.validation import (
    DATETIME_PATTERN,
    EMAIL_PATTERN,
    Field,
    Spec,
    parse_date,
    parse_datetime,
)

SPEC = Spec(
    (
        Field("count", "integer", required=True, minimum=1, maximum=10),
        Field("kind", choices=("a", "b"), default="a"),
        Field("note", max_length=5, nullable=True),
        Field("flag", "boolean"),
    )
)


def test_json_mode_is_strict():
    assert SPEC.parse({"count": 3}) == {"count": 3, "kind": "a"}
    assert SPEC.parse({"count": 3.0})["count"] == 3
    for bad in ("3", True, 3.5, float("nan"), None, 11, 0):
        with pytest.raises(ValidationError) as info:
            SPEC.parse({"count": bad})
        assert info.value.field == "count"
    with pytest.raises(ValidationError, match="not a known field"):
        SPEC.parse({"count": 1, "other": 1})
    with pytest.raises(BadRequest):
        SPEC.parse([1])


def test_query_and_form_modes_convert_text():
    assert SPEC.parse({"count": "7", "flag": "true"}, mode="query") == {
        "count": 7,
        "kind": "a",
        "flag": True,
    }
    with pytest.raises(ValidationError):
        SPEC.parse({"count": "1,0"}, mode="query")
    with pytest.raises(ValidationError):
        SPEC.parse({"count": "1", "page": "2"}, mode="query")
    form = {"count": " 1,0 ", "kind": "", "note": "", "csrf_token": "t"}
    assert SPEC.parse(form, mode="form") == {"count": 10, "kind": "a"}
    assert SPEC.parse({"note": ""}, mode="form", partial=True) == {"note": None}


def test_partial_parse_skips_required_and_defaults():
    assert SPEC.parse({}, partial=True) == {}
    assert SPEC.parse({"note": None}, partial=True) == {"note": None}


def test_prefix_names_nested_fields():
    with pytest.raises(ValidationError) as info:
        SPEC.parse({"count": 99}, prefix="items[2].")
    assert info.value.field == "items[2].count"


def test_json_schema_matches_the_rules():
    schema = SPEC.json_schema()
    assert schema["required"] == ["count"] and schema["additionalProperties"] is False
    assert schema["properties"]["count"] == {
        "type": "integer",
        "format": "int64",
        "minimum": 1,
        "maximum": 10,
    }
    assert schema["properties"]["kind"]["default"] == "a"
    nullable = Spec((Field("g", choices=("m",), nullable=True),)).json_schema()
    assert nullable["properties"]["g"]["enum"] == ["m", None]


def test_datetime_offsets_become_korean_time():
    kst = dt.datetime(2024, 1, 3, 12, 7)
    for text in (
        "2024-01-03T12:07:00+09:00",
        "2024-01-03T03:07:00Z",
        "2024-01-02T22:07:00-05:00",
        "2024-01-03T12:07",
        "2024-01-03 12:07:00",
    ):
        assert parse_datetime(text) == kst, text
    assert parse_datetime("2024-01-03T12:07:00.5+09:00").microsecond == 500_000


@pytest.mark.parametrize(
    "text",
    ["2024-02-30T00:00", "2023-02-29T00:00", "2100-02-29T00:00", "1899-12-31T00:00",
     "2024-01-01T24:00", "2024-01-01", "2024-01-01T00:00+15:00", "2024-01-01T00:00\n"],
)  # fmt: skip
def test_impossible_datetimes_are_refused(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(DATETIME_PATTERN, fullmatch=True))
def test_every_string_of_the_documented_pattern_parses(text):
    parse_datetime(text)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2198, 12, 31)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_datetimes_round_trip_through_any_offset(value, minutes):
    offset = dt.timezone(dt.timedelta(minutes=minutes))
    text = value.replace(tzinfo=offset).isoformat()
    if not re.fullmatch(DATETIME_PATTERN, text):  # offsets with seconds are not RFC 3339
        return
    expected = value - dt.timedelta(minutes=minutes) + dt.timedelta(hours=9)
    assert parse_datetime(text) == expected


def test_email_pattern_and_dates():
    assert re.fullmatch(EMAIL_PATTERN, "a@b") and not re.fullmatch(EMAIL_PATTERN, "a b@c")
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)
    with pytest.raises(ValueError):
        parse_date("2024-2-1")
