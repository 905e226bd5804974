"""Aggregate-targets parsing and validation, and the bundled Seoul coffee target set."""

from __future__ import annotations

from pathlib import Path

import pytest

from calibration.targets import (
    default_targets,
    load_targets,
    parse_filter,
    parse_targets,
    split_targets,
)
from monilab.contracts.errors import MonilabError

GOOD = """statistic,filter,key,value,weight
count_share_by_category,,coffee,0.25,2
count_share_by_category,,food,0.75,2
amount_share_by_hour,method=card; category=coffee,06-11,0.4,
amount_share_by_hour,method=card; category=coffee,11-24,0.6,
amount_share_by_age,gender=f,20-29,1.0,
mean_ticket,category=coffee,,7728,
monthly_spend_per_user,age=20-39,p90,900000,
"""


def test_parses_rows_with_defaults_and_canonical_filters() -> None:
    targets = parse_targets(GOOD, name="t.csv")
    assert len(targets) == 7
    assert targets["weight"].tolist()[:3] == [2.0, 2.0, 1.0]
    assert targets.loc[2, "filter"] == "category=coffee;method=card"
    assert targets["line"].tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert (targets["source"] == "").all()


def test_bundled_seoul_coffee_targets() -> None:
    targets = default_targets()
    assert len(targets) == 28
    assert targets["source"].str.contains("Seoul Open Data Plaza").all()
    assert targets["source"].str.contains("커피-음료").all()
    ticket = targets.loc[targets["statistic"] == "mean_ticket"]
    assert ticket["value"].tolist() == [7728.0] and ticket["filter"].tolist() == ["category=coffee"]
    assert set(targets["filter"]) == {"category=coffee"}


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("share_by_mood,,happy,0.5", "line 2: unknown statistic 'share_by_mood'"),
        ("count_share_by_category,colour=red,coffee,1", "line 2: unknown filter field 'colour'"),
        ("count_share_by_category,category=tea,coffee,1", "line 2: filter category='tea'"),
        ("count_share_by_category,age=40-30,coffee,1", "line 2: age band '40-30'"),
        ("count_share_by_hour,,11-06,1", "line 2: hour band '11-06' needs"),
        ("count_share_by_hour,,7am,1", "line 2: hour band '7am' is not of the form"),
        ("count_share_by_hour,,00-25,1", "line 2: hour band '00-25'"),
        ("count_share_by_weekday,,monday,1", "line 2: weekday key 'monday'"),
        ("count_share_by_category,,tea,1", "line 2: category key 'tea'"),
        ("mean_ticket,,mean,7000", "line 2: mean_ticket takes an empty key"),
        ("txn_per_user_month,,p100,3", "line 2: key 'p100'"),
        ("mean_ticket,,,lots", "line 2: value 'lots' is not a number"),
        ("count_share_by_category,,coffee,1.5", "line 2: share value 1.5"),
        ("count_share_by_category,,coffee", "line 2: 3 cells"),
    ],
)
def test_bad_line_is_named(line: str, fragment: str) -> None:
    with pytest.raises(MonilabError) as info:
        parse_targets(f"statistic,filter,key,value\n{line}\n", name="t.csv")
    assert str(info.value).startswith("t.csv line")
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        (
            ["count_share_by_hour,,06-12,0.5", "count_share_by_hour,,11-14,0.5"],
            "line 2: hour bands '06-12' and '11-14' overlap",
        ),
        (
            ["amount_share_by_age,,20-29,0.5", "amount_share_by_age,,29-39,0.5"],
            "age bands '20-29' and '29-39' overlap",
        ),
        (["count_share_by_category,,coffee,0.5", "count_share_by_category,,food,0.2"], "sum to"),
        (["mean_ticket,,,1", "mean_ticket,,,2"], "line 3: mean_ticket [] key '' is listed twice"),
    ],
)
def test_bad_group_is_named(rows: list[str], fragment: str) -> None:
    text = "statistic,filter,key,value\n" + "\n".join(rows) + "\n"
    with pytest.raises(MonilabError) as info:
        parse_targets(text, name="t.csv")
    assert fragment in str(info.value)


def test_header_problems() -> None:
    with pytest.raises(MonilabError, match="line 1: missing column 'value'"):
        parse_targets("statistic,filter,key\n")
    with pytest.raises(MonilabError, match="line 1: unknown column 'note'"):
        parse_targets("statistic,filter,key,value,note\n")
    with pytest.raises(MonilabError, match="no targets"):
        parse_targets("statistic,filter,key,value\n")


def test_load_targets_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MonilabError, match="cannot read targets"):
        load_targets(tmp_path / "nope.csv")


def test_filter_round_trip() -> None:
    parsed = parse_filter("age=20-29;gender=f;category=coffee")
    assert parsed.age == (20, 29) and parsed.needs_users
    assert str(parsed) == "category=coffee;gender=f;age=20-29"
    assert str(parse_filter("")) == "" and not parse_filter(None).needs_users


def test_split_targets_by_statistic() -> None:
    fit, validate = split_targets(default_targets(), ("count_share_by_hour",))
    assert set(validate["statistic"]) == {"count_share_by_hour"}
    assert "count_share_by_hour" not in set(fit["statistic"])
    assert len(fit) + len(validate) == len(default_targets())
    with pytest.raises(MonilabError, match="no targets for statistic"):
        split_targets(default_targets(), ("median_ticket",))
    everything = tuple(default_targets()["statistic"].unique())
    with pytest.raises(MonilabError, match="no targets to fit"):
        split_targets(default_targets(), everything)
