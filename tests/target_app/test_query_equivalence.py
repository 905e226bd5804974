"""The SQL behind lists and analysis gives what a plain Python reading of the rows gives.

A seeded dataset (two users, 15 months, every category, both directions) is posted through
the API; the answers of ``GET /api/v1/spendings`` (with each filter) and
``GET /api/v1/analysis`` are compared with a straightforward Python computation over the
rows that were sent. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

import pytest
from moni_helpers import sign_up

from monilab.contracts.vocabulary import CATEGORIES

SEED = 20240301


def _dataset(rng: random.Random, count: int) -> list[dict[str, Any]]:
    start = dt.datetime(2023, 1, 1)
    rows = []
    for i in range(count):
        at = start + dt.timedelta(minutes=rng.randrange(0, 450 * 24 * 60))
        rows.append(
            {
                "spent_at": at.isoformat() + "+09:00",
                "amount": rng.randrange(100, 300_000),
                "category": rng.choice(CATEGORIES),
                "direction": "in" if rng.random() < 0.15 else "out",
                "client_txn_id": f"eq-{i}",
            }
        )
    return rows


@pytest.fixture
def dataset(client, bob) -> tuple[Any, list[dict[str, Any]]]:
    """A user with 420 seeded spendings (and bob with others, which must never show)."""
    rng = random.Random(SEED)
    user = sign_up(client, "carol", monthly_income=3_000_000)
    rows = _dataset(rng, 420)
    for chunk in range(0, len(rows), 200):
        answer = user.post("/api/v1/spendings/batch", json={"items": rows[chunk : chunk + 200]})
        assert answer.status_code == 201
    assert bob.post("/api/v1/spendings/batch", json={"items": _dataset(rng, 50)}).status_code == 201
    for row in rows:
        row["ts"] = dt.datetime.fromisoformat(row["spent_at"][:-6])
    return user, rows


def _listed(user: Any, query: str) -> tuple[list[str], int]:
    answer = user.get(f"/api/v1/spendings?{query}")
    assert answer.status_code == 200, answer.json
    return [item["client_txn_id"] for item in answer.json["items"]], answer.json["total"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 500},
        {"limit": 37, "offset": 11},
        {"from": dt.date(2023, 6, 1), "to": dt.date(2023, 6, 30), "limit": 500},
        {"from": dt.date(2024, 2, 10), "limit": 500},
        {"to": dt.date(2023, 2, 28), "category": "food", "limit": 500},
        {"direction": "in", "limit": 20, "offset": 5},
        {"category": "coffee", "direction": "out", "from": dt.date(2023, 3, 1), "limit": 500},
    ],
)
def test_list_matches_a_python_filter_of_the_rows(dataset, query):
    user, rows = dataset

    def keep(row: dict[str, Any]) -> bool:
        day = row["ts"].date()
        return (
            ("from" not in query or day >= query["from"])
            and ("to" not in query or day <= query["to"])
            and row["category"] == query.get("category", row["category"])
            and row["direction"] == query.get("direction", row["direction"])
        )

    matching = [row for row in rows if keep(row)]
    # newest first; equal times keep the later insert (higher id) first
    order = sorted(range(len(matching)), key=lambda i: (matching[i]["ts"], i), reverse=True)
    offset = query.get("offset", 0)
    expected = [matching[i]["client_txn_id"] for i in order][offset : offset + query["limit"]]
    text = "&".join(f"{key}={value}" for key, value in query.items())
    assert _listed(user, text) == (expected, len(matching))
    assert matching, "the query should select something"


def _months_before(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


@pytest.mark.parametrize("month", [None, "2023-08", "2023-01", "2022-05"])
def test_analysis_matches_a_python_reading_of_the_rows(dataset, month):
    user, rows = dataset
    answer = user.get("/api/v1/analysis" + (f"?month={month}" if month else ""))
    assert answer.status_code == 200, answer.json
    result = answer.json

    out = [row for row in rows if row["direction"] == "out"]
    latest = max(row["ts"] for row in rows)
    ref = dt.date.fromisoformat(f"{month}-01") if month else latest.date().replace(day=1)
    assert result["month"] == f"{ref.year:04d}-{ref.month:02d}"

    def in_months(row: dict[str, Any], first: dt.date) -> bool:
        key = dt.date(row["ts"].year, row["ts"].month, 1)
        return first <= key <= ref

    per_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in out:
        if in_months(row, _months_before(ref, 11)):
            entry = per_month[f"{row['ts'].year:04d}-{row['ts'].month:02d}"]
            entry[0] += row["amount"]
            entry[1] += 1
    assert {m["month"]: [m["spent"], m["count"]] for m in result["monthly"] if m["count"]} == (
        dict(per_month)
    )
    assert len(result["monthly"]) == 12

    per_category: dict[str, int] = defaultdict(int)
    for row in out:
        if in_months(row, ref):
            per_category[row["category"]] += row["amount"]
    total = sum(per_category.values())
    assert [(c["category"], c["spent"]) for c in result["categories"]] == sorted(
        per_category.items(), key=lambda item: (-item[1], item[0])
    )
    for entry in result["categories"]:
        assert entry["share"] == round(entry["spent"] / total, 4)

    weekdays = [[0, 0] for _ in range(7)]
    hours = [[0, 0] for _ in range(24)]
    for row in out:
        if in_months(row, _months_before(ref, 2)):
            for slot in (weekdays[row["ts"].weekday()], hours[row["ts"].hour]):
                slot[0] += row["amount"]
                slot[1] += 1
    assert [[d["spent"], d["count"]] for d in result["weekdays"]] == weekdays
    assert [d["weekday"] for d in result["weekdays"]] == list(range(7))
    assert [[h["spent"], h["count"]] for h in result["hours"]] == hours
    if month != "2022-05":
        assert any(weekdays) and result["insights"]
