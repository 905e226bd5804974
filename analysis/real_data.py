"""The forecast and anomaly pipelines on real microdata (train-on-synthetic vs train-on-real).

The real source is read through :mod:`calibration.adapters` (a TOML mapping into the
transactions schema; for the household ledger, ``calibration/mappings/household_ledger.toml``).
The ledger is one household, so the forecast unit is the category-week of that household:

- test: the last ``test_weeks`` complete weeks of the real data;
- TRTR (train real, test real): a two-stage forecaster fitted on the real data's earlier weeks;
- TSTR (train synthetic, test real): the forecasters fitted on synthetic users (``monilab
  train``'s artifacts), applied unchanged to the same test weeks.

``ratio = WAPE(TSTR) / WAPE(TRTR)`` on the category-week cells (1 = parity, above 1 = the
synthetic-trained model is worse on real data). Amounts reach KRW by the mapping's declared
currency factor, which converts units and not price levels; the lag features are absolute
amounts, so a second TSTR run (``level_matched``) rescales the real series by one factor fitted
on its *training* weeks (synthetic median weekly user total / real mean weekly total) before
forecasting, and rescales back. WAPE itself is scale-free.

Only categories the real source uses in its training weeks are forecast (the others would be
all-zero cells that flatter every model). What the source lacks is listed in ``missing``: for
the ledger, merchants (so the merchant novelty, burst and duplicate features of the anomaly
models are constant), anomaly labels (so anomaly results are descriptive: alert counts and
agreement, no precision), time of day on part of the rows, and every user attribute.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import brier_score_loss, roc_auc_score

from analysis import anomaly, forecast, metrics
from analysis.features import CONSUMPTION
from monilab.contracts.errors import MonilabError

RealLedger = tuple[pd.DataFrame, dict[str, Any]]
"""Real transactions in the ``transactions`` contract and a description of their source."""

DEFAULT_TEST_WEEKS = 26
"""Real weeks held out (half a year: one household gives few cells per week)."""
MIN_CATEGORY_ROWS = 5
"""Spendings a category needs in the real training weeks to be forecast."""


def _used_categories(train: pd.DataFrame, tx: pd.DataFrame) -> list[str]:
    """Consumption categories with at least :data:`MIN_CATEGORY_ROWS` spendings before the test."""
    before = tx[
        (tx["ts"] < train["week"].max() + pd.Timedelta(days=7)) & (tx["direction"] == "out")
    ]
    counts = before["category"].value_counts()
    return [c for c in CONSUMPTION if counts.get(c, 0) >= MIN_CATEGORY_ROWS]


def _score(model: forecast.TwoStageForecaster, test: pd.DataFrame, scale: float = 1.0) -> dict:
    """Cell and weekly-total errors, occurrence AUC/Brier of one forecaster on real weeks."""
    y = test["amount"].to_numpy(float)
    scaled = test.copy()
    lag_columns = [c for c in forecast.FEATURES if c.startswith(("lag", "mean", "total_"))]
    scaled[lag_columns] = scaled[lag_columns] * scale
    point = model.predict(scaled) / scale
    p, _ = model.components(scaled)
    expected = pd.Series(model.predict_mean(scaled) / scale, index=test.index)
    totals = test.groupby("week")["amount"].sum()
    out = {
        "cells": metrics.errors(y, point),
        "weekly_total": metrics.errors(totals, expected.groupby(test["week"]).sum()),
        "occurrence_brier": float(brier_score_loss(y > 0, p)),
    }
    if len(np.unique(y > 0)) > 1:
        out["occurrence_auc"] = float(roc_auc_score(y > 0, p))
    return out


def forecast_check(
    real_tx: pd.DataFrame,
    synthetic_models: dict[str, Any],
    synthetic_train: pd.DataFrame,
    *,
    test_weeks: int = DEFAULT_TEST_WEEKS,
    n_estimators: int = 200,
    random_state: int = 0,
) -> dict[str, Any]:
    """TSTR against TRTR on the same real test weeks (see the module docstring).

    Args:
        real_tx: Real transactions in the schema (one or more users).
        synthetic_models: ``{"lightgbm": ..., "xgboost": ...}`` two-stage forecasters
            fitted on synthetic users.
        synthetic_train: The synthetic training rows (:func:`forecast.weekly_rows`), for the
            level-matching factor.
        test_weeks: Real weeks held out.
        n_estimators: Boosting rounds of the TRTR models.
        random_state: Seed of the TRTR models.
    """
    rows = forecast.weekly_rows(real_tx)
    try:
        train, test = forecast.time_split(rows, test_weeks)
    except ValueError as exc:
        raise MonilabError(f"real data: {exc}") from None
    if train.empty or test.empty:
        raise MonilabError("real data: fewer than 3 months of history before the test weeks")
    used = _used_categories(train, real_tx)
    train = train[train["category"].isin(used)].reset_index(drop=True)
    test = test[test["category"].isin(used)].reset_index(drop=True)
    if (train["amount"] > 0).sum() < 20:
        raise MonilabError("real data: too few spending weeks to train on")
    real_weekly = train.groupby(["user_id", "week"])["amount"].sum().mean()
    synthetic_weekly = synthetic_train.groupby(["user_id", "week"])["amount"].sum().median()
    level = float(synthetic_weekly / real_weekly) if real_weekly > 0 else 1.0
    out: dict[str, Any] = {
        "train_weeks": int(train["week"].nunique()),
        "test_weeks": int(test["week"].nunique()),
        "test_first_week": str(test["week"].min().date()),
        "categories": used,
        "categories_not_forecast": [c for c in CONSUMPTION if c not in used],
        "cells": len(test),
        "level_factor": level,
    }
    y = test["amount"].to_numpy(float)
    for name, column in forecast.BASELINES.items():
        out[name] = {"cells": metrics.errors(y, test[column].fillna(0.0).to_numpy())}
    for backend in ("lightgbm", "xgboost"):
        trtr = forecast.TwoStageForecaster(
            backend, n_estimators=n_estimators, random_state=random_state
        ).fit(train, train["amount"])
        out[f"trtr_{backend}"] = _score(trtr, test)
        if backend in synthetic_models:
            out[f"tstr_{backend}"] = _score(synthetic_models[backend], test)
            out[f"tstr_{backend}_level_matched"] = _score(synthetic_models[backend], test, level)
    best_trtr = min(
        (k for k in out if k.startswith("trtr_")), key=lambda k: out[k]["cells"]["wape"]
    )
    tstr = [k for k in out if k.startswith("tstr_") and not k.endswith("level_matched")]
    if tstr:
        best_tstr = min(tstr, key=lambda k: out[k]["cells"]["wape"])
        best_matched = min(
            (f"{k}_level_matched" for k in tstr), key=lambda k: out[k]["cells"]["wape"]
        )
        trtr_wape = out[best_trtr]["cells"]["wape"]
        out["tstr_trtr"] = {
            "definition": "WAPE(best TSTR) / WAPE(best TRTR) on real category-week cells",
            "trtr": best_trtr,
            "tstr": best_tstr,
            "ratio": out[best_tstr]["cells"]["wape"] / trtr_wape,
            "ratio_level_matched": out[best_matched]["cells"]["wape"] / trtr_wape,
        }
    return out


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
    test_weeks: int = DEFAULT_TEST_WEEKS,
    n_estimators: int = 200,
    random_state: int = 0,
) -> dict[str, Any]:
    """The ``real`` section of ``metrics.json``: source, forecast TSTR/TRTR, anomalies.

    Args:
        real: The real transactions and what their source says
            (:func:`calibration.adapters.real_transactions`).
    """
    real_tx, info = real
    return {
        **info,
        "forecast": forecast_check(
            real_tx,
            synthetic_models,
            synthetic_train,
            test_weeks=test_weeks,
            n_estimators=n_estimators,
            random_state=random_state,
        ),
        "anomaly": anomaly_check(real_tx, synthetic_scorer, random_state),
    }
