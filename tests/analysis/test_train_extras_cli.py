"""``monilab train`` writes the extras' artifacts and metrics; ``--real`` adds the real check."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pandas as pd
import pytest

from analysis import alerts
from calibration.paths import bundled_mapping, reference_dir
from monilab.cli.main import main

LEDGER = reference_dir() / "household_ledger" / "daily_household_transactions.csv"


@pytest.fixture(scope="module")
def trained(other_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("extras")
    argv = ["train", "--data", str(other_dataset_dir), "--out", str(out), "--trees", "10"]
    argv += ["--hourly-users", "0"]
    if LEDGER.is_file():
        argv += ["--real", str(LEDGER), "--real-mapping", str(bundled_mapping("household_ledger"))]
    assert main(argv) == 0
    return out


def test_extras_are_in_metrics_and_card(trained: Path) -> None:
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["alerts"]["duplicates"] == 0
    assert {"overspend", "calm", "risk_report"} <= set(metrics["alerts"]["notifications"])
    rec = metrics["recommendations"]["at_3"]
    assert set(rec) == {"collaborative_filtering", "cf_with_yolo_policy", "popularity"}
    assert metrics["segments"]["segments"] > 0
    assert 300 <= metrics["behaviour_score"]["mean"] <= 850
    card = (trained / "model_card.html").read_text()
    for title in ("Notifications", "Product recommendations", "Segments", "Behaviour score"):
        assert title in card
    for name in ("alerts", "recommendations", "behaviour_score"):
        assert (trained / f"{name}.joblib").is_file()
    notes = pd.read_parquet(trained / "alerts.parquet")
    assert not notes.duplicated(alerts.KEYS).any()


def test_real_section_with_the_ledger(trained: Path) -> None:
    if not LEDGER.is_file():
        pytest.skip(f"reference data absent: {LEDGER} (see ../shared/reference)")
    real = json.loads((trained / "metrics.json").read_text())["real"]
    assert real["source"] == "household_ledger"
    assert real["forecast"]["tstr_trtr"]["ratio"] > 0
    assert "Real data" in (trained / "model_card.html").read_text()


def test_real_without_data_is_a_clean_error(
    other_dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--data", str(other_dataset_dir), "--out", str(tmp_path / "m")]
    argv += ["--trees", "5", "--hourly-users", "0", "--real", str(tmp_path / "nope.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err


def test_artifacts_load_without_the_lab_state(trained: Path) -> None:
    alerter = joblib.load(trained / "alerts.joblib")
    assert 0 < alerter.threshold <= 1
