"""Simple forecasts every model is measured against, and WAPE with bootstrap intervals.

The baselines follow the M4/M5 forecasting competitions: zero, last week, the mean of the
past 4 weeks, seasonal naive (the same week a year earlier, when the history reaches that
far), the medians of the past 4, 8, 13 and 26 weeks, and two intermittent-demand methods,
Croston (demand size over demand interval, both smoothed) and TSB (Teunter-Syntetos-Babai:
demand size times a smoothed probability of demand, updated every week, so a category that
stops is forecast to fade). Weekly totals also get the medians of the user's past weekly
totals. Every forecast of a week uses strictly earlier weeks of the same series.

:func:`add_baseline_columns` adds them to the rows of :func:`analysis.forecast.weekly_rows`;
:func:`wape_with_intervals` scores forecasts with bootstrap 95 % intervals, resampling
users (a population) or moving blocks of weeks (one household);
:func:`compare_with_best` is the headline: the model against the best baseline, named.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

MEDIAN_WINDOWS = (4, 8, 13, 26)
"""Past weeks of the median baselines."""
SEASON = 52
"""Weeks back of the seasonal naive forecast (the same week last year)."""
ALPHA = 0.1
"""Smoothing of the demand size (Croston, TSB) and of the interval (Croston)."""
BETA = 0.1
"""Smoothing of the demand probability (TSB)."""
CELL_BASELINES: dict[str, str | None] = {
    "zero": None,
    "last_week": "lag1",
    "mean_4_weeks": "mean4",
    "seasonal_naive": f"lag{SEASON}",
    **{f"median_{n}_weeks": f"median{n}" for n in MEDIAN_WINDOWS},
    "croston": "croston",
    "tsb": "tsb",
}
"""Baseline name → the column of its forecast (None: zero). Weekly totals sum the cells."""
TOTAL_BASELINES = {f"median_{n}_weekly_totals": f"total_median{n}" for n in (4, 8, 13)}
"""Weekly-total baselines: the median of the user's past weekly totals."""
BASELINE_COLUMNS: tuple[str, ...] = (
    *(c for c in CELL_BASELINES.values() if c and c not in ("lag1", "mean4")),
    *TOTAL_BASELINES.values(),
)
"""Columns :func:`add_baseline_columns` adds (lag1 and mean4 are the model's features)."""
CONFIDENCE = 0.95
N_BOOT = 1000


def history_matrix(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Series as rows of a matrix (left-aligned, NaN after each series' end) and each value's
    position in its series. ``groups`` must be sorted (each series contiguous, in time order)."""
    codes = pd.factorize(groups, sort=False)[0]
    starts = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    position = np.arange(len(codes)) - np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    width = int(position.max()) + 1 if len(codes) else 0
    matrix = np.full((len(starts), width), np.nan)
    matrix[codes, position] = values
    return matrix, position


def lagged(matrix: np.ndarray, k: int) -> np.ndarray:
    """The value ``k`` weeks before each week (NaN when the series is shorter)."""
    out = np.full(matrix.shape, np.nan)
    if k < matrix.shape[1]:
        out[:, k:] = matrix[:, :-k]
    return out


def past_median(matrix: np.ndarray, n: int, chunk: int = 20_000) -> np.ndarray:
    """Median of the (up to) ``n`` weeks before each week; NaN before the first week."""
    padded = np.concatenate([np.full((matrix.shape[0], n), np.nan), matrix], axis=1)
    out = np.empty(matrix.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        for start in range(0, matrix.shape[0], chunk):
            block = padded[start : start + chunk]
            windows = np.lib.stride_tricks.sliding_window_view(block, n, axis=1)
            out[start : start + chunk] = np.nanmedian(windows[:, : matrix.shape[1]], axis=2)
    return out


def croston(matrix: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Croston's forecast of each week from the weeks before it (NaN before any demand).

    At the first demand the size is that demand and the interval the weeks since the series
    began; at each later demand both are smoothed with ``alpha``. Forecast: size / interval.
    """
    rows, width = matrix.shape
    size, interval = np.full(rows, np.nan), np.full(rows, np.nan)
    since = np.zeros(rows)
    out = np.full(matrix.shape, np.nan)
    for t in range(width):
        out[:, t] = size / interval
        y = matrix[:, t]
        since += ~np.isnan(y)
        demand = y > 0
        first = demand & np.isnan(size)
        later = demand & ~first
        size = np.where(first, y, np.where(later, size + alpha * (y - size), size))
        interval = np.where(
            first, since, np.where(later, interval + alpha * (since - interval), interval)
        )
        since[demand] = 0
    return out


def tsb(matrix: np.ndarray, alpha: float = ALPHA, beta: float = BETA) -> np.ndarray:
    """TSB's forecast of each week from the weeks before it (NaN before any demand).

    At the first demand the size is that demand and the probability the share of weeks so
    far with demand; afterwards the size is smoothed at each demand (``alpha``) and the
    probability every week (``beta``). Forecast: probability × size.
    """
    rows, width = matrix.shape
    size, prob = np.full(rows, np.nan), np.full(rows, np.nan)
    seen = np.zeros(rows)
    out = np.full(matrix.shape, np.nan)
    for t in range(width):
        out[:, t] = prob * size
        y = matrix[:, t]
        known = ~np.isnan(y)
        seen += known
        demand = y > 0
        first = demand & np.isnan(size)
        started = known & ~first & ~np.isnan(size)
        prob = np.where(first, 1 / np.maximum(seen, 1), prob)
        prob = np.where(started, prob + beta * (demand - prob), prob)
        size = np.where(first, y, np.where(demand & started, size + alpha * (y - size), size))
    return out


def _series_baselines(matrix: np.ndarray) -> dict[str, np.ndarray]:
    out = {f"median{n}": past_median(matrix, n) for n in MEDIAN_WINDOWS}
    out[f"lag{SEASON}"] = lagged(matrix, SEASON)
    out["croston"] = croston(matrix)
    out["tsb"] = tsb(matrix)
    return out


def add_baseline_columns(rows: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Add :data:`BASELINE_COLUMNS` to weekly rows sorted by ``key`` (one key per user and
    category, weeks contiguous and in order), from earlier weeks only."""
    matrix, position = history_matrix(rows["amount"].to_numpy(float), key.to_numpy())
    codes = pd.factorize(key.to_numpy(), sort=False)[0]
    for column, values in _series_baselines(matrix).items():
        rows[column] = values[codes, position]
    totals = rows.groupby(["user_id", "week"], sort=True)["amount"].sum(min_count=1)
    users = totals.index.get_level_values("user_id").to_numpy()
    total_matrix, total_position = history_matrix(totals.to_numpy(float), users)
    user_codes = pd.factorize(users, sort=False)[0]
    medians = pd.DataFrame(index=totals.index)
    for n in (4, 8, 13):
        medians[f"total_median{n}"] = past_median(total_matrix, n)[user_codes, total_position]
    merged = rows[["user_id", "week"]].merge(
        medians.reset_index(), on=["user_id", "week"], how="left"
    )
    for n in (4, 8, 13):
        rows[f"total_median{n}"] = merged[f"total_median{n}"].to_numpy()
    return rows


def cell_forecasts(test: pd.DataFrame) -> dict[str, np.ndarray | None]:
    """Each cell baseline's forecasts of ``test`` (missing history → 0); None for seasonal
    naive when some test cell has no week a year earlier (n/a)."""
    out: dict[str, np.ndarray | None] = {}
    for name, column in CELL_BASELINES.items():
        if column is None:
            out[name] = np.zeros(len(test))
        elif column not in test.columns or (name == "seasonal_naive" and test[column].isna().any()):
            out[name] = None
        else:
            out[name] = test[column].fillna(0.0).to_numpy(float)
    return out


def _draws(units: int, n_boot: int, seed: int, block: int) -> np.ndarray:
    """How often each unit is drawn in each of ``n_boot`` resamples (n_boot × units): units
    at random with replacement, or moving blocks of ``block`` consecutive units."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_boot, units))
    if block <= 1 or units <= block:
        picks = rng.integers(0, units, size=(n_boot, units))
    else:
        starts = rng.integers(0, units - block + 1, size=(n_boot, -(-units // block)))
        picks = (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :units]
    np.add.at(counts, (np.arange(n_boot)[:, None], picks), 1)
    return counts


def wape_with_intervals(
    actual: np.ndarray,
    forecasts: dict[str, np.ndarray],
    units: np.ndarray,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    block: int = 1,
) -> tuple[dict[str, dict[str, Any]], np.ndarray]:
    """WAPE and MAE of each forecast with a percentile bootstrap interval of the WAPE.

    Resamples ``units`` (user ids, or week numbers in time order with ``block`` > 1 for a
    moving-block bootstrap); returns the scores and the WAPE of every forecast in every
    resample (n_boot × forecasts, columns in ``forecasts`` order) for paired comparisons.
    """
    codes, _ = pd.factorize(units, sort=True)
    n_units = int(codes.max()) + 1 if len(codes) else 0
    y = np.asarray(actual, float)
    denominator = np.bincount(codes, weights=np.abs(y), minlength=n_units)
    errors = np.stack(
        [np.bincount(codes, np.abs(y - f), minlength=n_units) for f in forecasts.values()]
    )
    counts = _draws(n_units, n_boot, seed, block)
    with np.errstate(invalid="ignore", divide="ignore"):
        resampled = (counts @ errors.T) / (counts @ denominator)[:, None]
    tail = (1 - CONFIDENCE) / 2 * 100
    lo, hi = np.nanpercentile(resampled, [tail, 100 - tail], axis=0)
    total = denominator.sum()
    scores = {
        name: {
            "mae": float(errors[i].sum() / max(len(y), 1)),
            "wape": float(errors[i].sum() / total) if total else float("nan"),
            "wape_ci": [float(lo[i]), float(hi[i])],
        }
        for i, name in enumerate(forecasts)
    }
    return scores, resampled


def verdict(ratio_ci: tuple[float, float] | list[float]) -> str:
    """Plain words for a model/baseline WAPE ratio interval."""
    if ratio_ci[1] < 1:
        return "beats it"
    if ratio_ci[0] > 1:
        return "is worse than it"
    return "does not beat it (the interval of the ratio includes 1)"


def compare_with_best(
    scores: dict[str, dict[str, Any]],
    resampled: np.ndarray,
    models: list[str],
    baselines: list[str],
) -> dict[str, Any]:
    """The best of ``models`` against the best of ``baselines`` (lowest WAPE), with both
    intervals and the paired interval of their ratio (same resamples)."""
    names = list(scores)
    model = min(models, key=lambda m: scores[m]["wape"])
    base = min(baselines, key=lambda b: scores[b]["wape"])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = resampled[:, names.index(model)] / resampled[:, names.index(base)]
    tail = (1 - CONFIDENCE) / 2 * 100
    ratio_ci = [float(v) for v in np.nanpercentile(ratios, [tail, 100 - tail])]
    ratio = scores[model]["wape"] / scores[base]["wape"]
    words = verdict(ratio_ci)
    return {
        "model": model,
        "model_wape": scores[model]["wape"],
        "model_wape_ci": scores[model]["wape_ci"],
        "best_baseline": base,
        "baseline_wape": scores[base]["wape"],
        "baseline_wape_ci": scores[base]["wape_ci"],
        "ratio": ratio,
        "ratio_ci": ratio_ci,
        "beats_best_baseline": ratio_ci[1] < 1,
        "text": (
            f"{model} WAPE {scores[model]['wape']:.3f} "
            f"[{scores[model]['wape_ci'][0]:.3f}, {scores[model]['wape_ci'][1]:.3f}] vs the best "
            f"baseline {base} {scores[base]['wape']:.3f} "
            f"[{scores[base]['wape_ci'][0]:.3f}, {scores[base]['wape_ci'][1]:.3f}]: ratio "
            f"{ratio:.3f} [{ratio_ci[0]:.3f}, {ratio_ci[1]:.3f}], the model {words}"
        ),
    }


def _weekly(frame: pd.DataFrame, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per user and week: the sum of each cell forecast in ``values`` and of ``amount``."""
    summed = pd.DataFrame(
        {"user_id": frame["user_id"].to_numpy(), "week": frame["week"].to_numpy()}
    )
    summed["amount"] = frame["amount"].to_numpy(float)
    for name, forecasts in values.items():
        summed[name] = forecasts
    for total in TOTAL_BASELINES.values():
        if total in frame.columns:
            summed[total] = frame[total].to_numpy(float)
    agg = {c: "sum" for c in ("amount", *values)}
    agg.update({c: "first" for c in TOTAL_BASELINES.values() if c in summed.columns})
    return summed.groupby(["user_id", "week"], sort=True).agg(agg).reset_index()


def population_comparison(
    test: pd.DataFrame,
    model_cells: dict[str, np.ndarray],
    model_totals: dict[str, np.ndarray],
    *,
    seed: int = 0,
    n_boot: int = N_BOOT,
) -> dict[str, Any]:
    """Every baseline and model on the test cells of a population, with intervals from
    resampling users, and the headline: the best model against the best baseline on cells
    and on weekly totals.

    Args:
        test: Test rows of :func:`analysis.forecast.weekly_rows` (with the baseline columns).
        model_cells: Model name → its cell point forecasts (MAE-optimal: what WAPE rewards).
        model_totals: Model name → cell forecasts whose sums are its weekly totals (means).
    """
    cells = cell_forecasts(test)
    available = {k: v for k, v in cells.items() if v is not None}
    y, users = test["amount"].to_numpy(float), test["user_id"].to_numpy()
    cell_scores, cell_draws = wape_with_intervals(
        y, {**available, **model_cells}, users, n_boot=n_boot, seed=seed
    )
    weekly = _weekly(test, {**available, **{f"{m}__total": v for m, v in model_totals.items()}})
    total_forecasts = {name: weekly[name].to_numpy() for name in available}
    for name, column in TOTAL_BASELINES.items():
        if column in weekly.columns:
            total_forecasts[name] = weekly[column].fillna(0.0).to_numpy()
    total_forecasts.update({m: weekly[f"{m}__total"].to_numpy() for m in model_totals})
    total_scores, total_draws = wape_with_intervals(
        weekly["amount"].to_numpy(),
        total_forecasts,
        weekly["user_id"].to_numpy(),
        n_boot=n_boot,
        seed=seed,
    )
    out: dict[str, Any] = {}
    for name in cells:
        if cells[name] is None:
            out[name] = {"available": False, "reason": f"n/a: under {SEASON} weeks of history"}
        else:
            out[name] = {"cells": cell_scores[name], "weekly_total": total_scores[name]}
    for name in TOTAL_BASELINES:
        if name in total_scores:
            out[name] = {"weekly_total": total_scores[name]}
    for name in model_cells:
        out[name] = {"cells": cell_scores[name], "weekly_total": total_scores[name]}
    models = list(model_cells)
    out["headline"] = {
        "cells": compare_with_best(cell_scores, cell_draws, models, list(available)),
        "weekly_total": compare_with_best(
            total_scores, total_draws, models, [n for n in total_forecasts if n not in models]
        ),
        "intervals": f"{CONFIDENCE:.0%} percentile bootstrap, {n_boot} resamples of users",
        "selection": "best model and best baseline each picked on the test weeks (same rule)",
    }
    return out
