"""``monilab.contracts.options``: one declaration, one validator, one redo line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import (
    check_options,
    option,
    option_like,
    parse_base_url,
    parse_date,
    parse_duration,
    render_duration,
    to_argv,
)


@dataclass(frozen=True)
class Example:
    out: Path = option(required=True, help="where")
    users: int = option(4, low=1, high=10, help="how many")
    shape: str = option("ramp", choices=("ramp", "step"))
    tags: list[str] = option([], repeat=True, choices=("a", "b"))
    fast: bool = option(False)
    check: bool = option(True, negate="--no-check")
    wait: float = option(60.0, parse=parse_duration, render=render_duration)
    internal: int = option(3, cli=False)


@dataclass(frozen=True)
class Derived:
    users: int = option_like(Example, "users", 7)


def test_bounds_choices_and_required_give_one_line_errors() -> None:
    with pytest.raises(MonilabError, match=r"^--out is required$"):
        check_options(Example())
    with pytest.raises(MonilabError, match=r"^--users must be at most 10, got 11$"):
        check_options(Example(out=Path("o"), users=11))
    with pytest.raises(MonilabError, match=r"^--shape 'zig': expected one of ramp, step$"):
        check_options(Example(out=Path("o"), shape="zig"))
    with pytest.raises(MonilabError, match=r"^--tags 'c': expected one of a, b$"):
        check_options(Example(out=Path("o"), tags=["a", "c"]))


def test_to_argv_writes_only_what_differs_from_the_defaults() -> None:
    options = Example(out=Path("o"), users=5, tags=["a", "b"], fast=True, check=False, wait=90.0)
    assert to_argv(options) == [
        "--out", "o", "--users", "5", "--tags", "a", "--tags", "b", "--fast", "--no-check",
        "--wait", "90s",
    ]  # fmt: skip
    assert to_argv(Example(out=Path("o"), internal=9)) == ["--out", "o"]


def test_option_like_keeps_the_bounds_with_its_own_default() -> None:
    assert Derived().users == 7
    with pytest.raises(MonilabError, match="at most 10"):
        check_options(Derived(users=50))


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("5m", 300.0), ("1h30m", 5400.0)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(render_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0", "-5m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(MonilabError, match="duration"):
        parse_duration(text)


def test_urls_and_dates() -> None:
    assert parse_base_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    with pytest.raises(MonilabError, match="expected a URL"):
        parse_base_url("127.0.0.1:8000")
    assert parse_date("2024-02-29") == "2024-02-29"
    with pytest.raises(MonilabError, match="YYYY-MM-DD"):
        parse_date("2024-02-30")
