"""Shard-by-shard passes over a dataset's transactions, so training memory stays bounded.

A generated dataset holds its transactions in part files of 5,000 users each (every user in
exactly one part), so every per-user statistic can be computed part by part and the results
concatenated. Two passes, each over the parts in up to two worker processes:

1. :func:`features_pass`: user features, the forecast's weekly rows (time split by the whole
   dataset's first test week, budgets from the training weeks), a sample of transaction
   features for the anomaly models, and the raw rows of the sampled users;
2. :func:`anomaly_pass`: every outgoing transaction scored, IQR cells with each method's
   score and label, notifications and the monthly risky top-10 appended to Parquet files;
   the forecasters' predictions of the part's test rows.

Parts are expected in user order (as ``monilab generate`` writes them): results are
concatenated in part order, which is then the whole table's order.

Heavy learners are fitted between the passes on the sampled users only (see
:mod:`analysis.training`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor

from analysis import anomaly, anomaly_eval, forecast
from analysis.features import OUTGOING, check_transactions, spendings, user_features
from analysis.forecast_baselines import BASELINE_COLUMNS
from monilab.contracts.datasets import read_dataset
from monilab.contracts.errors import MonilabError

log = logging.getLogger(__name__)

TEXT = ("method", "merchant", "category", "direction", "anomaly_kind")
"""Transaction text columns read as dictionaries (pandas Categoricals)."""
MAX_ANOMALY_FIT_ROWS = 200_000
"""Transactions the anomaly models are fitted on (a seeded sample, split over the parts)."""
TEST_COLUMNS = (
    "user_id",
    "week",
    "category",
    "amount",
    "history_days",
    *forecast.FEATURES,
    *BASELINE_COLUMNS,
)
"""Columns of the forecast's test rows kept for evaluation (features and baselines)."""


@dataclass
class Scan:
    """What training needs to know about a dataset before reading it part by part."""

    directory: Path
    parts: list[Path]
    users: pd.DataFrame
    tx_users: np.ndarray
    first_ts: pd.Timestamp
    last_ts: pd.Timestamp
    rows: int
    columns: list[str] = field(default_factory=list)


def scan(directory: str | Path) -> Scan:
    """The users table, the transaction parts, their users and time span (MonilabError when
    the directory is not a usable dataset)."""
    path = Path(directory)
    if not path.is_dir():
        raise MonilabError(f"{path}: no such dataset directory")
    dataset = read_dataset(path)
    users = dataset.frame("users")
    parts = dataset.parts("transactions") if "transactions" in dataset.tables else []
    ids, first, last, rows = [], [], [], 0
    columns: list[str] = []
    for part in parts:
        table = pq.read_table(part, columns=["user_id", "ts"])
        if table.num_rows == 0:
            continue
        columns = columns or pq.read_schema(part).names
        ids.append(np.unique(table["user_id"].to_numpy()))
        span = pc.min_max(table["ts"])
        first.append(span["min"].as_py())
        last.append(span["max"].as_py())
        rows += table.num_rows
    if not rows or users.empty:
        raise MonilabError(f"{path}: the dataset has no users or no transactions")
    return Scan(
        path,
        parts,
        users,
        np.unique(np.concatenate(ids)),
        pd.Timestamp(min(first)),
        pd.Timestamp(max(last)),
        rows,
        columns,
    )


def read_part(path: Path, users: np.ndarray | None = None) -> pd.DataFrame:
    """One part's transactions (text as Categoricals), only ``users`` when given."""
    names = pq.read_schema(path).names
    filters = None
    if users is not None:
        filters = [("user_id", "in", pa.array(np.asarray(users, dtype=np.int64)))]
    table = pq.read_table(path, read_dictionary=[c for c in TEXT if c in names], filters=filters)
    frame = table.to_pandas()
    return check_transactions(frame) if len(frame) else frame


def weeks_of(scan: Scan, test_weeks: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first test week and the last complete week of the whole dataset.

    The weekly grid runs from the earliest user's first week to the week of the last
    transaction, and a last week the data does not cover entirely is dropped, exactly as
    :func:`analysis.forecast.weekly_rows` does on the whole table.
    """
    first = scan.first_ts.normalize() - pd.Timedelta(days=scan.first_ts.day_of_week)
    last = scan.last_ts.normalize() - pd.Timedelta(days=scan.last_ts.day_of_week)
    end = scan.last_ts.normalize() + pd.Timedelta(days=1)
    if last + pd.Timedelta(days=7) > end:
        last -= pd.Timedelta(days=7)
    weeks = pd.date_range(first, last, freq="7D").to_numpy() if last >= first else np.array([])
    return forecast.first_test_week(weeks, test_weeks), last


@dataclass
class PassOne:
    """What :func:`features_pass` keeps: small per-user results and the sampled users' rows."""

    features: pd.DataFrame
    budget: pd.Series
    test_rows: pd.DataFrame
    test_lengths: list[int]
    fit_rows: pd.DataFrame
    fit_tx: pd.DataFrame
    txn_sample: pd.DataFrame
    hourly_tx: pd.DataFrame


def _features_part(
    index: int,
    path: Path,
    n_parts: int,
    last_ts: pd.Timestamp,
    first_test: pd.Timestamp,
    fit_users: np.ndarray,
    hourly_users: np.ndarray,
    random_state: int,
) -> dict[str, Any]:
    tx = read_part(path)
    if tx.empty:
        return {}
    out: dict[str, Any] = {"features": user_features(tx)}
    rows = forecast.weekly_rows(tx, last_ts=last_ts)
    train, test = forecast.time_split(rows, first_test=first_test)
    out["budget"] = forecast.weekly_budget(train)
    out["test_rows"] = test[list(TEST_COLUMNS)]
    fit = tx["user_id"].isin(fit_users).to_numpy()
    out["fit_rows"] = train[train["user_id"].isin(fit_users).to_numpy()]
    out["fit_tx"] = tx[fit]
    txn = anomaly.transaction_features(tx[fit]) if fit.any() else pd.DataFrame()
    if len(txn):
        cap = math.ceil(MAX_ANOMALY_FIT_ROWS / n_parts)
        out["txn_sample"] = txn.sample(min(len(txn), cap), random_state=random_state + index)
    out["hourly_tx"] = tx[tx["user_id"].isin(hourly_users).to_numpy()]
    return out


def _concat(parts: list[dict[str, Any]], key: str) -> pd.DataFrame:
    frames = [p[key] for p in parts if key in p and len(p[key])]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=key not in ("features", "budget"))


def _parallel(n_jobs: int, n_tasks: int) -> Parallel:
    """Loky workers for several parts; in-process for one part (small data, tests)."""
    return Parallel(n_jobs=min(n_jobs, n_tasks) if n_tasks > 1 else 1, return_as="generator")


def _without_restart_warnings(results: Iterable[Any]) -> Iterator[Any]:
    """The results, without loky's warning when it restarts a worker.

    loky replaces a worker whose memory grew by 300 MB since it started (its leak
    protection); with parts of thousands of users that is expected, and the replacement is
    what keeps the memory bounded, so the warning is only noise on the user's terminal.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "A worker stopped while some jobs", UserWarning)
        yield from results


def release_workers() -> None:
    """Stop the idle worker processes (each keeps the memory of its last part)."""
    get_reusable_executor().shutdown(wait=True)


def release_freed_memory() -> None:
    """Hand freed heap pages back to the system (glibc's ``malloc_trim``).

    The parts' results arrive as blocks of tens of megabytes, below glibc's mmap threshold,
    so they live on the heap; once concatenated and dropped, their pages stay resident (on
    100,000 users, about 2 GB of evaluation columns counted twice). Elsewhere a no-op."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def features_pass(
    scan: Scan,
    *,
    test_weeks: int,
    fit_users: np.ndarray,
    hourly_users: np.ndarray,
    random_state: int,
    n_jobs: int = 2,
) -> PassOne:
    """Pass 1 over the parts (see the module docstring).

    The anomaly sample takes ``ceil(MAX_ANOMALY_FIT_ROWS / parts)`` rows of the sampled
    users' transaction features from each part (part ``i`` seeded ``random_state + i``).
    """
    first_test, _ = weeks_of(scan, test_weeks)
    log.info("pass 1 over %d part(s): features, weekly rows, samples", len(scan.parts))
    args = (scan.last_ts, first_test, fit_users, hourly_users, random_state)
    results = _parallel(n_jobs, len(scan.parts))(
        delayed(_features_part)(i, p, len(scan.parts), *args) for i, p in enumerate(scan.parts)
    )
    parts = list(_without_restart_warnings(results))
    release_workers()
    features = _concat(parts, "features").sort_index()
    budget = pd.concat([p["budget"] for p in parts if "budget" in p]).sort_index()
    one = PassOne(
        features=features,
        budget=budget,
        test_rows=_concat(parts, "test_rows"),
        test_lengths=[len(p.get("test_rows", ())) for p in parts],
        fit_rows=_concat(parts, "fit_rows"),
        fit_tx=_concat(parts, "fit_tx"),
        txn_sample=_concat(parts, "txn_sample"),
        hourly_tx=_concat(parts, "hourly_tx"),
    )
    del parts, results
    release_freed_memory()
    return one


EVAL_COLUMNS = ("is_anomaly", "is_alert", *anomaly.METHODS)


USERS_PER_CHUNK = 1_000
"""Users a pass-2 worker scores at a time: every anomaly statistic is per user, so chunks by
user give the whole part's results exactly, with a fraction of its peak memory."""


def user_chunks(user_id: np.ndarray, size: int = USERS_PER_CHUNK) -> list[np.ndarray]:
    """Row positions of consecutive groups of ``size`` users (ascending user ids), each in
    row order."""
    users = np.unique(user_id)
    chunk = np.searchsorted(users[::size], user_id, side="right") - 1
    order = np.argsort(chunk, kind="stable")
    bounds = np.searchsorted(chunk[order], np.arange(1, math.ceil(len(users) / size)))
    return np.split(order, bounds)


def _anomaly_part(
    index: int,
    path: Path,
    scorer: anomaly.AnomalyScorer,
    out: Path | None,
    keep_users: np.ndarray,
    forecasters: dict[str, Any] | None,
    test_rows: pd.DataFrame,
    evaluator: anomaly_eval.TxnEvaluator | None = None,
) -> dict[str, Any]:
    tx = read_part(path)
    if tx.empty:
        return {}
    predictions = None
    if forecasters is not None and len(test_rows):
        predictions = forecast.two_stage_predictions(forecasters, test_rows)
    columns = EVAL_COLUMNS if "is_anomaly" in tx.columns else EVAL_COLUMNS[1:]
    evals: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    kept_scored, kept_positions, kept_cells, notes, risky = [], [], [], [], []
    txn_eval = []
    scored_rows = cells_count = 0
    for positions in user_chunks(tx["user_id"].to_numpy(), USERS_PER_CHUNK):
        chunk = tx.iloc[positions].reset_index(drop=True)
        scored = anomaly.score_transactions(chunk, scorer)
        cells = anomaly.cell_scores(chunk, scorer, scored)
        scored_rows, cells_count = scored_rows + len(scored), cells_count + len(cells)
        for column in columns:
            evals[column].append(cells[column].to_numpy())
        if out is not None:
            notes.append(anomaly.notifications(cells))
            risky.append(anomaly.monthly_top_risky(scored))
        keep = scored["user_id"].isin(keep_users).to_numpy()
        if keep.any():  # scored rows are the chunk's outgoing rows, in row order
            outgoing = positions[spendings(chunk, OUTGOING).index.to_numpy()]
            kept_scored.append(scored[keep])
            kept_positions.append(outgoing[keep])
        kept_cells.append(cells[cells["user_id"].isin(keep_users).to_numpy()])
        if evaluator is not None:  # per-kind evaluation rows of the held-out users
            txn_eval.append(evaluator.frame(chunk))
    result: dict[str, Any] = {"scored_rows": scored_rows, "cells": cells_count}
    result["txn_eval"] = pd.concat(txn_eval, ignore_index=True) if txn_eval else None
    result["predictions"] = predictions
    result["eval"] = {c: np.concatenate(v) for c, v in evals.items()}
    if out is not None:
        notes_frame = pd.concat(notes, ignore_index=True)
        notes_frame.to_parquet(out / f"notifications-{index:05d}.parquet", index=False)
        risky_frame = pd.concat(risky, ignore_index=True)
        risky_frame.to_parquet(out / f"risky-{index:05d}.parquet", index=False)
    if kept_scored:  # back in the part's row order, as scoring the whole part gives them
        order = np.argsort(np.concatenate(kept_positions), kind="stable")
        result["kept_scored"] = pd.concat(kept_scored, ignore_index=True).iloc[order]
        result["kept_scored"] = result["kept_scored"].reset_index(drop=True)
    else:
        result["kept_scored"] = scored.iloc[:0]
    result["kept_cells"] = pd.concat(kept_cells, ignore_index=True)
    return result


@dataclass
class PassTwo:
    """Anomaly results: the evaluation columns of every cell and the kept users' frames."""

    cells: int
    scored_rows: int
    eval: dict[str, np.ndarray]
    notes: dict[str, int]
    kept_scored: pd.DataFrame
    kept_cells: pd.DataFrame
    predictions: dict[str, np.ndarray]
    txn_eval: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per-transaction scores of every method on the evaluation users (with an evaluator)."""


def merge_parquet(parts: list[Path], target: Path) -> None:
    """Append part files into one Parquet file (one row group per part) and delete them."""
    writer = None
    for path in parts:
        table = pq.read_table(path)
        if writer is None:
            writer = pq.ParquetWriter(target, table.schema)
        writer.write_table(table.cast(writer.schema))
        path.unlink()
    if writer is not None:
        writer.close()


def notification_counts(path: Path) -> dict[str, int]:
    """Notifications per kind family in a notifications file (:func:`anomaly.kind_counts`)."""
    if not path.is_file():
        return {}
    kind = pq.read_table(path, columns=["kind"], read_dictionary=["kind"])["kind"]
    return anomaly.kind_counts(kind.to_pandas())


def anomaly_pass(
    scan: Scan,
    scorer: anomaly.AnomalyScorer,
    *,
    out: Path | None,
    keep_users: np.ndarray,
    one: PassOne | None = None,
    forecasters: dict[str, Any] | None = None,
    n_jobs: int = 2,
    evaluator: anomaly_eval.TxnEvaluator | None = None,
) -> PassTwo:
    """Pass 2 over the parts (see the module docstring); writes ``notifications.parquet`` and
    ``risky_top10.parquet`` to ``out`` when given. With ``forecasters`` (the two-stage models)
    each part also predicts its test rows of pass ``one``
    (:func:`analysis.forecast.two_stage_predictions`, concatenated in ``predictions``)."""
    log.info("pass 2 over %d part(s): anomaly scores, cells, notifications", len(scan.parts))
    tmp = None
    if out is not None:
        tmp = out / ".parts"
        tmp.mkdir(parents=True, exist_ok=True)
    lengths = one.test_lengths if one is not None else [0] * len(scan.parts)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    empty = pd.DataFrame()

    def test_part(i: int) -> pd.DataFrame:
        if one is None or forecasters is None:
            return empty
        return one.test_rows.iloc[offsets[i] : offsets[i + 1]]

    results = _parallel(n_jobs, len(scan.parts))(
        delayed(_anomaly_part)(i, p, scorer, tmp, keep_users, forecasters, test_part(i), evaluator)
        for i, p in enumerate(scan.parts)
    )
    predictions: dict[str, list[np.ndarray]] = {}
    evals: dict[str, list[np.ndarray]] = {}
    notes: dict[str, int] = {}
    kept_scored, kept_cells, cells, scored_rows = [], [], 0, 0
    txn_eval: list[pd.DataFrame] = []
    for part in _without_restart_warnings(results):
        if not part:
            continue
        cells += part["cells"]
        scored_rows += part["scored_rows"]
        for column, values in part["eval"].items():
            evals.setdefault(column, []).append(values)
        for key, values in (part["predictions"] or {}).items():
            predictions.setdefault(key, []).append(values)
        kept_scored.append(part["kept_scored"])
        kept_cells.append(part["kept_cells"])
        if part.get("txn_eval") is not None:
            txn_eval.append(part["txn_eval"])
    release_workers()
    if tmp is not None and out is not None:
        for name, target in (("notifications", "notifications"), ("risky", "risky_top10")):
            merge_parquet(sorted(tmp.glob(f"{name}-*.parquet")), out / f"{target}.parquet")
        tmp.rmdir()
        notes = notification_counts(out / "notifications.parquet")
    two = PassTwo(
        cells=cells,
        scored_rows=scored_rows,
        eval={c: np.concatenate(evals.pop(c)) for c in list(evals)},
        notes=notes,
        kept_scored=pd.concat(kept_scored, ignore_index=True),
        kept_cells=pd.concat(kept_cells, ignore_index=True),
        predictions={k: np.concatenate(v) for k, v in predictions.items()},
        txn_eval=pd.concat(txn_eval, ignore_index=True) if txn_eval else pd.DataFrame(),
    )
    del kept_scored, kept_cells, predictions, results
    release_freed_memory()
    return two
