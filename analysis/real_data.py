"""The forecast and anomaly pipelines on real microdata (train-on-synthetic vs train-on-real).

The real source is read through :mod:`calibration.adapters` (a TOML mapping into the
transactions schema; for the household ledger, ``calibration/mappings/household_ledger.toml``)
and reaches this module as a frame. The ledger is one household, so the forecast unit is the
category-week of that household, evaluated by rolling origin:

- :data:`ORIGINS` consecutive test windows of :data:`HORIZON` weeks, the last ending at the
  last complete week; before each, a validation window of :data:`VALIDATION_WEEKS` weeks and,
  before that, the weeks the models are fitted on;
- TRTR (train real, test real): both two-stage backends fitted on the fit weeks, the one with
  the lower cell WAPE on the validation window kept (the test weeks are never read to choose),
  refitted on fit + validation weeks and scored on the test window;
- TSTR (train synthetic, test real): the forecasters fitted on synthetic users (``monilab
  train``'s artifacts), the backend chosen on the same validation window, applied unchanged;
  ``tstr_level_matched`` rescales the real series by one factor fitted on the fit weeks
  (synthetic median weekly user total / real mean weekly total) and rescales back (the
  mapping's currency factor converts units, not price levels; WAPE itself is scale-free);
- the baselines of :mod:`analysis.forecast_baselines` (zero, last week, means, medians,
  seasonal naive, Croston, TSB) on the same cells.

WAPE is pooled over every test week of every origin, with a 95 % moving-block bootstrap over
weeks (one household: weeks are the only units to resample); the spread over origins is
reported beside it. ``tstr_trtr.ratio = WAPE(TSTR) / WAPE(TRTR)`` (1 = parity) comes with its
paired interval and with ``zero_over_trtr`` (how far TRTR is from forecasting nothing).

Only categories the real source uses before each validation window are forecast (the others
would be all-zero cells that flatter every model). What the source lacks is listed in
``missing``: for the ledger, merchants (so the merchant novelty, burst and duplicate features
of the anomaly models are constant), anomaly labels (so anomaly results are descriptive: alert
counts and agreement, no precision), time of day on part of the rows, and every user attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from analysis import anomaly, forecast
from analysis import forecast_baselines as fb
from analysis.features import CONSUMPTION
from monilab.contracts.errors import MonilabError

RealLedger = tuple[pd.DataFrame, dict[str, Any]]
"""Real transactions in the ``transactions`` contract and a description of their source."""

ORIGINS = 4
"""Forecast origins (consecutive test windows)."""
HORIZON = 13
"""Weeks of each test window (a quarter)."""
VALIDATION_WEEKS = 13
"""Weeks before each test window on which the TRTR and TSTR backends are chosen."""
MIN_FIT_WEEKS = 13
"""Weeks the earliest origin needs before its validation window."""
BLOCK_WEEKS = 4
"""Block length of the moving-block bootstrap over weeks."""
MIN_CATEGORY_ROWS = 5
"""Spendings a category needs before the validation window to be forecast."""
BACKENDS = ("lightgbm", "xgboost")
MODELS = ("trtr", "tstr", "tstr_level_matched")
WHAT_IT_SHOWS = (
    "can show: whether, on this one person's category-weeks, a model beats forecasting zero "
    "and the best simple baseline by more than the week-to-week noise (the intervals), and "
    "whether a model trained on synthetic users does as well on them as one trained on the "
    "person's own past",
    "cannot show: how the models do on other people (one household is one draw, not a "
    "population), differences smaller than the interval widths, anything about merchants, "
    "anomaly precision (no labels) or user attributes; the ratio also moves with the "
    "synthetic training set",
)


@dataclass(frozen=True)
class Window:
    """One forecast origin: fit on weeks before ``validation``, choose on
    [``validation``, ``test``), score on [``test``, ``end``)."""

    validation: pd.Timestamp
    test: pd.Timestamp
    end: pd.Timestamp


def origin_windows(
    weeks: np.ndarray,
    origins: int = ORIGINS,
    horizon: int = HORIZON,
    validation: int = VALIDATION_WEEKS,
) -> list[Window]:
    """The rolling origins, earliest first: consecutive test windows of ``horizon`` weeks, the
    last ending at the last of ``weeks``, each after ``validation`` weeks (MonilabError when
    fewer than :data:`MIN_FIT_WEEKS` weeks remain to fit the earliest)."""
    weeks = np.sort(np.unique(np.asarray(weeks)))
    need = MIN_FIT_WEEKS + validation + origins * horizon
    if len(weeks) < need:
        raise MonilabError(
            f"real data: {len(weeks)} weeks, {need} needed for {origins} origins of "
            f"{horizon} weeks after {validation} validation weeks"
        )
    out = []
    for k in range(origins, 0, -1):
        test = len(weeks) - k * horizon
        end = (
            weeks[test + horizon]
            if test + horizon < len(weeks)
            else weeks[-1] + np.timedelta64(7, "D")
        )
        out.append(
            Window(
                pd.Timestamp(weeks[test - validation]), pd.Timestamp(weeks[test]), pd.Timestamp(end)
            )
        )
    return out


def _used_categories(tx: pd.DataFrame, before: pd.Timestamp) -> list[str]:
    """Consumption categories with :data:`MIN_CATEGORY_ROWS` spendings or more before ``before``."""
    counts = tx[(tx["ts"] < before) & (tx["direction"] == "out")]["category"].value_counts()
    return [c for c in CONSUMPTION if counts.get(c, 0) >= MIN_CATEGORY_ROWS]


def _predict(
    model: forecast.TwoStageForecaster, rows: pd.DataFrame, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Cell medians and means of a forecaster, the amount features multiplied by ``scale``
    and the forecasts divided by it."""
    if scale != 1.0:
        rows = rows.copy()
        lag_columns = [c for c in forecast.FEATURES if c.startswith(("lag", "mean", "total_"))]
        rows[lag_columns] = rows[lag_columns] * scale
    p, mu = model.components(rows)
    return model.median_of(p, mu) / scale, model.mean_of(p, mu) / scale


def _wape(y: np.ndarray, guess: np.ndarray) -> float:
    total = np.abs(y).sum()
    return float(np.abs(y - guess).sum() / total) if total else float("nan")


def choose_backend(
    candidates: dict[str, forecast.TwoStageForecaster], validation: pd.DataFrame
) -> tuple[str, dict[str, float]]:
    """The backend with the lowest cell WAPE on the validation rows (only they are read)."""
    y = validation["amount"].to_numpy(float)
    scores = {b: _wape(y, m.predict(validation)) for b, m in candidates.items()}
    return min(scores, key=lambda b: scores[b]), scores


def _fit(
    rows: pd.DataFrame, backend: str, n_estimators: int, random_state: int
) -> forecast.TwoStageForecaster:
    model = forecast.TwoStageForecaster(
        backend, n_estimators=n_estimators, random_state=random_state
    )
    return model.fit(rows, rows["amount"])


def evaluate_origin(
    rows: pd.DataFrame,
    real_tx: pd.DataFrame,
    window: Window,
    synthetic_models: dict[str, Any],
    synthetic_weekly: float,
    *,
    n_estimators: int,
    random_state: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One origin: the test cells with every method's cell forecast (``<method>``) and weekly
    forecast (``<method>__total``, model means), and what was chosen and why."""
    used = _used_categories(real_tx, window.validation)
    rows = rows[rows["category"].isin(used)]
    fit = rows[rows["week"] < window.validation].reset_index(drop=True)
    val = rows[(rows["week"] >= window.validation) & (rows["week"] < window.test)].reset_index(
        drop=True
    )
    test = rows[(rows["week"] >= window.test) & (rows["week"] < window.end)].reset_index(drop=True)
    if (fit["amount"] > 0).sum() < 20:
        raise MonilabError("real data: too few spending weeks to train on")
    trtr_backend, trtr_scores = choose_backend(
        {b: _fit(fit, b, n_estimators, random_state) for b in BACKENDS}, val
    )
    refit = _fit(pd.concat([fit, val], ignore_index=True), trtr_backend, n_estimators, random_state)
    out = test[["user_id", "week", "category", "amount"]].copy()
    out["trtr"], out["trtr__total"] = _predict(refit, test)
    info: dict[str, Any] = {
        "fit_weeks": int(fit["week"].nunique()),
        "validation_first_week": str(window.validation.date()),
        "test_first_week": str(window.test.date()),
        "test_weeks": int(test["week"].nunique()),
        "categories": used,
        "trtr_backend": trtr_backend,
        "trtr_validation_wape": trtr_scores,
    }
    synthetic = {b: synthetic_models[b] for b in BACKENDS if b in synthetic_models}
    if synthetic:
        real_weekly = fit.groupby(["user_id", "week"])["amount"].sum().mean()
        level = float(synthetic_weekly / real_weekly) if real_weekly > 0 else 1.0
        tstr_backend, tstr_scores = choose_backend(synthetic, val)
        out["tstr"], out["tstr__total"] = _predict(synthetic[tstr_backend], test)
        lm = _predict(synthetic[tstr_backend], test, level)
        out["tstr_level_matched"], out["tstr_level_matched__total"] = lm
        info.update(tstr_backend=tstr_backend, tstr_validation_wape=tstr_scores, level_factor=level)
    for name, guess in fb.cell_forecasts(test).items():
        if guess is not None:
            out[name] = guess
    for column in fb.TOTAL_BASELINES.values():
        out[column] = test[column].to_numpy(float)
    return out, info


def _weekly_frame(cells: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Per user and week: actual total and each method's weekly total (models: the sum of
    their means; cell baselines: the sum of their cells; total medians: as they are)."""
    agg: dict[str, tuple[str, str]] = {"amount": ("amount", "sum")}
    for m in methods:
        if m in fb.TOTAL_BASELINES:
            agg[m] = (fb.TOTAL_BASELINES[m], "first")
        else:
            agg[m] = (f"{m}__total" if m in MODELS else m, "sum")
    return cells.groupby(["user_id", "week"], sort=True).agg(**agg).reset_index().fillna(0.0)


def _by_origin(
    frames: list[pd.DataFrame], methods: list[str], measure: str
) -> dict[str, list[float]]:
    """Each method's WAPE on each origin's test window."""
    out: dict[str, list[float]] = {m: [] for m in methods}
    for frame in frames:
        table = frame if measure == "cells" else _weekly_frame(frame, methods)
        y = table["amount"].to_numpy(float)
        for m in methods:
            out[m].append(_wape(y, table[m].to_numpy(float)))
    return out


def _ratio(draws: np.ndarray, names: list[str], top: str, bottom: str) -> dict[str, Any]:
    ratios = draws[:, names.index(top)] / draws[:, names.index(bottom)]
    lo, hi = np.nanpercentile(ratios, [2.5, 97.5])
    return {"ci": [float(lo), float(hi)], "verdict": fb.verdict([lo, hi])}


def pooled_scores(
    frames: list[pd.DataFrame], *, n_boot: int = fb.N_BOOT, seed: int = 0
) -> dict[str, Any]:
    """Every method's WAPE over all origins' test weeks (cells and weekly totals) with
    moving-block bootstrap intervals over weeks, its spread over origins, and the headline."""
    cells = pd.concat(frames, ignore_index=True)
    baselines = [b for b in fb.CELL_BASELINES if all(b in f.columns for f in frames)]
    models = [m for m in MODELS if m in cells.columns]
    week = cells["week"].to_numpy()
    y = cells["amount"].to_numpy(float)
    methods: dict[str, Any] = {}
    draws: dict[str, tuple[dict[str, Any], np.ndarray, list[str]]] = {}
    for measure in ("cells", "weekly_total"):
        names = [*models, *baselines]
        if measure == "cells":
            table, actual, units = cells, y, week
        else:
            names += list(fb.TOTAL_BASELINES)
            table = _weekly_frame(cells, names)
            actual, units = table["amount"].to_numpy(float), table["week"].to_numpy()
        forecasts = {m: table[m].to_numpy(float) for m in names}
        scores, resampled = fb.wape_with_intervals(
            actual, forecasts, units, n_boot=n_boot, seed=seed, block=BLOCK_WEEKS
        )
        spread = _by_origin(frames, names, measure)
        for m in names:
            entry = {**scores[m], "by_origin": spread[m]}
            entry["origin_range"] = [min(spread[m]), max(spread[m])]
            methods.setdefault(m, {})[measure] = entry
        draws[measure] = (scores, resampled, names)
    headline: dict[str, Any] = {}
    for measure, (scores, resampled, names) in draws.items():
        bases = [n for n in names if n not in MODELS]
        headline[measure] = {
            m: fb.compare_with_best(scores, resampled, [m], bases)
            for m in models
            if m != "tstr_level_matched"
        }
    scores, resampled, names = draws["cells"]
    ratios: dict[str, Any] = {
        "definition": "WAPE(TSTR) / WAPE(TRTR) on real category-week cells, pooled over origins",
        "trtr": "trtr",
        "tstr": "tstr",
        "zero_over_trtr": scores["zero"]["wape"] / scores["trtr"]["wape"],
        "zero_over_trtr_ci": _ratio(resampled, names, "zero", "trtr")["ci"],
    }
    if "tstr" in models:
        ratios["ratio"] = scores["tstr"]["wape"] / scores["trtr"]["wape"]
        ratios["ratio_ci"] = _ratio(resampled, names, "tstr", "trtr")["ci"]
        matched = scores["tstr_level_matched"]["wape"]
        ratios["ratio_level_matched"] = matched / scores["trtr"]["wape"]
    return {"methods": methods, "headline": headline, "tstr_trtr": ratios}


def forecast_check(
    real_tx: pd.DataFrame,
    synthetic_models: dict[str, Any],
    synthetic_train: pd.DataFrame,
    *,
    origins: int = ORIGINS,
    horizon: int = HORIZON,
    validation_weeks: int = VALIDATION_WEEKS,
    n_estimators: int = 200,
    random_state: int = 0,
    n_boot: int = fb.N_BOOT,
) -> dict[str, Any]:
    """TSTR, TRTR and the baselines on the same real test weeks, by rolling origin (see the
    module docstring).

    Args:
        real_tx: Real transactions in the schema (one or more users).
        synthetic_models: ``{"lightgbm": ..., "xgboost": ...}`` two-stage forecasters
            fitted on synthetic users (empty: TRTR and baselines only).
        synthetic_train: The synthetic training rows (:func:`forecast.weekly_rows`), for the
            level-matching factor.
        origins, horizon, validation_weeks: The rolling origins (:func:`origin_windows`).
        n_estimators, random_state: Boosting rounds and seed of the TRTR models.
        n_boot: Bootstrap resamples (seeded by ``random_state``).
    """
    rows = forecast.weekly_rows(real_tx)
    windows = origin_windows(rows["week"].unique(), origins, horizon, validation_weeks)
    synthetic_weekly = float(synthetic_train.groupby(["user_id", "week"])["amount"].sum().median())
    frames, infos = [], []
    for window in windows:
        frame, info = evaluate_origin(
            rows,
            real_tx,
            window,
            synthetic_models,
            synthetic_weekly,
            n_estimators=n_estimators,
            random_state=random_state,
        )
        frames.append(frame)
        infos.append(info)
    pooled = pooled_scores(frames, n_boot=n_boot, seed=random_state)
    last = infos[-1]
    return {
        "design": (
            f"{len(windows)} rolling origins, {horizon}-week test windows, backends chosen on "
            f"the {validation_weeks} weeks before each; WAPE pooled over the test weeks with "
            f"a 95 % moving-block bootstrap ({BLOCK_WEEKS}-week blocks)"
        ),
        "origins": infos,
        "test_first_week": infos[0]["test_first_week"],
        "test_weeks": sum(i["test_weeks"] for i in infos),
        "cells": sum(len(f) for f in frames),
        "categories": last["categories"],
        "categories_not_forecast": [c for c in CONSUMPTION if c not in last["categories"]],
        **pooled,
        "what_one_household_shows": list(WHAT_IT_SHOWS),
    }


def anomaly_check(
    real_tx: pd.DataFrame, synthetic_scorer: anomaly.AnomalyScorer | None, random_state: int = 0
) -> dict[str, Any]:
    """The anomaly pipeline on real data: IQR alerts, a scorer fitted on the real rows, and
    how far the synthetic-trained scorer agrees with it (no labels: descriptive only)."""
    own = anomaly.AnomalyScorer(n_estimators=100, random_state=random_state)
    own.fit(anomaly.transaction_features(real_tx))
    scored = anomaly.score_transactions(real_tx, own)
    cells = anomaly.cell_scores(real_tx, own, scored)
    budget = int(cells["is_alert"].sum())
    notes = anomaly.notifications(cells)
    top = anomaly.monthly_top_risky(scored)
    out: dict[str, Any] = {
        "cells": len(cells),
        "judged_cells": int(cells["upper_fence"].notna().sum()),
        "iqr_alerts": budget,
        "notifications": anomaly.kind_counts(notes["kind"]),
        "risky_report_months": int(top["month"].nunique()),
        "labels": "none: the source has no anomaly labels, so no precision or recall",
    }
    ranked = cells.sort_values("ensemble", ascending=False)
    alerted = cells["is_alert"].to_numpy(bool)
    if budget:
        top_cells = ranked.head(budget)
        out["ensemble_top_budget_in_iqr_alerts"] = float(top_cells["is_alert"].mean())
    if synthetic_scorer is not None:
        other = anomaly.cell_scores(real_tx, synthetic_scorer)
        merged = cells[[*anomaly.CELL_KEYS, "ensemble"]].merge(
            other[[*anomaly.CELL_KEYS, "ensemble"]], on=anomaly.CELL_KEYS, suffixes=("", "_syn")
        )
        rho = spearmanr(merged["ensemble"], merged["ensemble_syn"]).statistic
        out["synthetic_scorer_spearman"] = float(rho)
        if budget:
            top_syn = other.sort_values("ensemble", ascending=False).head(budget)
            out["synthetic_top_budget_in_iqr_alerts"] = float(top_syn["is_alert"].mean())
    out["iqr_alert_rate"] = float(alerted.mean()) if len(alerted) else 0.0
    return out


def real_check(
    real: RealLedger,
    synthetic_models: dict[str, Any],
    synthetic_train: pd.DataFrame,
    synthetic_scorer: anomaly.AnomalyScorer | None = None,
    *,
    n_estimators: int = 200,
    random_state: int = 0,
    **origins: int,
) -> dict[str, Any]:
    """The ``real`` section of ``metrics.json``: source, forecast TSTR/TRTR, anomalies.

    Args:
        real: The real transactions and what their source says
            (:func:`calibration.adapters.real_transactions`).
        origins: ``origins``, ``horizon``, ``validation_weeks``, ``n_boot`` of
            :func:`forecast_check`.
    """
    real_tx, info = real
    return {
        **info,
        "forecast": forecast_check(
            real_tx,
            synthetic_models,
            synthetic_train,
            n_estimators=n_estimators,
            random_state=random_state,
            **origins,
        ),
        "anomaly": anomaly_check(real_tx, synthetic_scorer, random_state),
    }
