"""Tests for analysis.forecast_baselines: hand-checked baselines and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import forecast_baselines as fb

SERIES = np.array([[0.0, 4.0, 0.0, 0.0, 2.0]])


def test_lags_and_medians_use_earlier_weeks_only() -> None:
    np.testing.assert_allclose(fb.lagged(SERIES, 1), [[np.nan, 0, 4, 0, 0]])
    np.testing.assert_allclose(fb.past_median(SERIES, 2), [[np.nan, 0, 2, 2, 0]])
    np.testing.assert_allclose(fb.past_median(SERIES, 4), [[np.nan, 0, 2, 0, 0]])
    assert np.isnan(fb.lagged(SERIES, fb.SEASON)).all()  # seasonal naive: n/a
    long = np.arange(60, dtype=float)[None, :]
    np.testing.assert_allclose(fb.lagged(long, fb.SEASON)[0, 52:], np.arange(8))


def test_croston_by_hand() -> None:
    # first demand 4 after 2 weeks: size 4, interval 2 → 2; then 2 after 3 weeks:
    # size 4 + 0.1 (2 - 4) = 3.8, interval 2 + 0.1 (3 - 2) = 2.1
    out = fb.croston(np.array([[0.0, 4, 0, 0, 2, 0]]))
    np.testing.assert_allclose(out, [[np.nan, np.nan, 2, 2, 2, 3.8 / 2.1]])


def test_tsb_by_hand() -> None:
    # first demand 4 in week 2 of 2: size 4, probability 1/2; probability decays by 10 %
    # of its gap to 0 each empty week and moves towards 1 at a demand
    out = fb.tsb(np.array([[0.0, 4, 0, 0, 2, 0]]))
    p = [0.5, 0.45, 0.405, 0.405 + 0.1 * 0.595]
    np.testing.assert_allclose(out, [[np.nan, np.nan, p[0] * 4, p[1] * 4, p[2] * 4, p[3] * 3.8]])


def _rows() -> pd.DataFrame:
    weeks = pd.date_range("2024-01-01", periods=5, freq="7D")
    frames = []
    for user, amounts in ((1, [10.0, 0, 30, 20, 0]), (2, [5.0, 5, 5, 5, 5])):
        frames.append(pd.DataFrame({"user_id": user, "week": weeks, "amount": amounts}))
    rows = pd.concat(frames, ignore_index=True)
    rows["category"] = "food"
    return rows


def test_add_baseline_columns_per_series_and_totals() -> None:
    rows = _rows()
    out = fb.add_baseline_columns(rows, rows["user_id"])
    one = out[out["user_id"] == 1]
    np.testing.assert_allclose(one["median4"], [np.nan, 10, 5, 10, 15])
    np.testing.assert_allclose(one["total_median4"], [np.nan, 10, 5, 10, 15])
    two = out[out["user_id"] == 2]
    np.testing.assert_allclose(two["median13"].iloc[1:], 5)
    np.testing.assert_allclose(two["tsb"].iloc[1:], [5, 5, 5, 5])  # always spends 5
    np.testing.assert_allclose(two["croston"].iloc[1:], 5)


def test_cell_forecasts_zero_fill_and_seasonal_na() -> None:
    rows = fb.add_baseline_columns(_rows(), _rows()["user_id"])
    rows["lag1"], rows["mean4"] = rows["amount"].shift(1), np.nan
    out = fb.cell_forecasts(rows)
    assert (out["zero"] == 0).all()
    assert out["seasonal_naive"] is None
    assert out["last_week"] is not None and out["last_week"][0] == 0  # no history → 0
    assert (out["mean_4_weeks"] == 0).all()


def test_wape_intervals_cover_the_estimate_and_repeat_for_a_seed() -> None:
    rng = np.random.default_rng(3)
    users = np.repeat(np.arange(200), 5)
    y = rng.gamma(2.0, 10.0, len(users))
    forecasts = {"good": y + rng.normal(0, 2, len(y)), "bad": y * 0.0}
    scores, draws = fb.wape_with_intervals(y, forecasts, users, n_boot=300, seed=1)
    for name in forecasts:
        lo, hi = scores[name]["wape_ci"]
        assert lo <= scores[name]["wape"] <= hi
    assert scores["bad"]["wape"] == pytest.approx(1.0)
    again, _ = fb.wape_with_intervals(y, forecasts, users, n_boot=300, seed=1)
    assert again == scores
    other, _ = fb.wape_with_intervals(y, forecasts, users, n_boot=300, seed=2)
    assert other["good"]["wape_ci"] != scores["good"]["wape_ci"]
    assert draws.shape == (300, 2)
    blocks, _ = fb.wape_with_intervals(y, forecasts, users, n_boot=300, seed=1, block=4)
    lo, hi = blocks["good"]["wape_ci"]
    assert lo <= blocks["good"]["wape"] <= hi


def test_moving_blocks_draw_consecutive_units() -> None:
    counts = fb._draws(10, 50, seed=0, block=4)
    assert (counts.sum(axis=1) == 10).all()
    one = fb._draws(10, 1, seed=0, block=10)  # one block: plain resampling
    assert one.sum() == 10


def test_compare_with_best_names_the_best_baseline_and_says_when_not_beaten() -> None:
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(300), 4)
    y = rng.gamma(2.0, 10.0, len(users))
    forecasts = {
        "model": y + rng.normal(0, 8, len(y)),
        "zero": 0 * y,
        "close": y + rng.normal(0, 3, len(y)),
        "far": y + rng.normal(0, 20, len(y)),
    }
    scores, draws = fb.wape_with_intervals(y, forecasts, users, n_boot=300, seed=0)
    head = fb.compare_with_best(scores, draws, ["model"], ["zero", "close", "far"])
    assert head["best_baseline"] == "close"
    assert head["ratio"] > 1 and not head["beats_best_baseline"]
    assert "is worse than it" in head["text"]
    assert head["ratio_ci"][0] <= head["ratio"] <= head["ratio_ci"][1]
    head = fb.compare_with_best(scores, draws, ["model"], ["zero", "far"])
    assert head["best_baseline"] == "far" and head["beats_best_baseline"]
    assert fb.verdict([0.9, 1.1]).startswith("does not beat it")


def test_population_comparison_headline_on_cells_and_totals() -> None:
    rows = fb.add_baseline_columns(_rows(), _rows()["user_id"])
    rows["lag1"] = rows.groupby("user_id")["amount"].shift(1)
    rows["mean4"] = rows["median4"]
    test = rows[rows["week"] >= rows["week"].unique()[2]].reset_index(drop=True)
    perfect = test["amount"].to_numpy()
    out = fb.population_comparison(test, {"m": perfect}, {"m": perfect}, n_boot=50)
    assert out["m"]["cells"]["wape"] == 0 and out["m"]["weekly_total"]["wape"] == 0
    assert out["seasonal_naive"] == {"available": False, "reason": "n/a: under 52 weeks of history"}
    assert out["zero"]["cells"]["wape"] == pytest.approx(1.0)
    assert "median_4_weekly_totals" in out and "cells" not in out["median_4_weekly_totals"]
    for measure in ("cells", "weekly_total"):
        head = out["headline"][measure]
        assert head["model"] == "m" and head["best_baseline"] != "seasonal_naive"
        best = min(
            (k for k, v in out.items() if measure in v and k not in ("m", "headline")),
            key=lambda k: out[k][measure]["wape"],
        )
        assert head["baseline_wape"] == out[best][measure]["wape"]
