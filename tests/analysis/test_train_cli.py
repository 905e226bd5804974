"""Tests for ``monilab train`` and ``monilab evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.features import OUTGOING, check_transactions, spendings
from analysis.training import TrainingResult, train
from monilab.cli.main import main
from monilab.contracts.datasets import read_dataset, write_dataset
from monilab.contracts.vocabulary import SPENDING_TYPES
from target_app.services.spending_type import load_type_model


@pytest.fixture(scope="module")
def models(other_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    code = main(
        [
            "train",
            "--data",
            str(other_dataset_dir),
            "--out",
            str(out),
            "--trees",
            "10",
            "--hourly-users",
            "20",
        ]
    )
    assert code == 0
    return out


def test_train_writes_metrics_card_and_artifacts(models: Path) -> None:
    metrics = json.loads((models / "metrics.json").read_text())
    held_out = metrics["types"]["held_out"]
    for name in ("random_forest", "xgboost", "lightgbm", "kmeans"):
        assert 0 <= held_out[name]["macro_f1"] <= 1
    for method in ("iqr", "isolation_forest", "kmeans", "ensemble"):
        assert 0 <= metrics["anomaly"][method]["pr_auc"] <= 1
    fc = metrics["forecast"]
    assert fc["train_last_week"] < fc["test_first_week"]
    for key in (
        "zero",
        "last_week",
        "mean_4_weeks",
        "median_13_weeks",
        "tsb",
        "two_stage_lightgbm",
    ):
        assert fc[key]["cells"]["wape"] >= 0
    assert fc["seasonal_naive"]["available"] is False  # under a year of history
    for measure in ("cells", "weekly_total"):
        head = fc["headline"][measure]
        assert head["baseline_wape"] <= fc["zero"][measure]["wape"]
        assert head["model_wape_ci"][0] <= head["model_wape"] <= head["model_wape_ci"][1]
    card = (models / "model_card.html").read_text()
    assert "Spending type" in card
    for name in ("random_forest", "xgboost", "lightgbm", "kmeans"):
        f1 = f"{held_out[name]['macro_f1']:.4f}"
        assert f'<tr><td>{name}</td><td class="num">{f1}</td>' in card
    for png in ("confusion.png", "pr_curves.png", "forecast.png"):
        assert (models / png).stat().st_size > 1000
        assert f'<img src="{png}"' in card


def test_train_returns_metrics_and_figure_data_and_writes_no_html(
    other_dataset_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m"
    result = train(other_dataset_dir, out, n_estimators=5, hourly_users=0, n_jobs=1)
    assert isinstance(result, TrainingResult)
    assert json.loads((out / "metrics.json").read_text()) == json.loads(
        json.dumps(result.metrics, default=str)
    )
    assert set(result.pr_curves) == {"iqr", "isolation_forest", "kmeans", "ensemble"}
    for precision, recall in result.pr_curves.values():
        assert len(precision) == len(recall) > 1
    weeks = result.weekly.weeks
    assert str(weeks[0].astype("datetime64[D]")) == result.metrics["forecast"]["test_first_week"]
    assert {len(v) for v in result.weekly.series.values()} == {len(weeks)}
    assert "actual" in result.weekly.series
    assert not list(out.glob("*.html")) and not list(out.glob("*.png"))


def test_app_artifact_matches_the_app_interface(models: Path, other_dataset_dir: Path) -> None:
    model = load_type_model(models / "spending_type.joblib")
    tx = read_dataset(other_dataset_dir).frame("transactions")
    one = tx[tx["user_id"] == tx["user_id"].iloc[0]].drop(columns=["is_anomaly", "anomaly_kind"])
    assert model.predict_user(one.sort_values("ts", ascending=False)) in SPENDING_TYPES
    assert isinstance(model.min_spendings, int)


def test_evaluate_on_another_dataset(models: Path, dataset_dir: Path, tmp_path: Path) -> None:
    some = tmp_path / "some"

    data = read_dataset(dataset_dir)
    users = data.frame("users")
    keep = users["user_id"] <= 60
    tx = data.frame("transactions")
    write_dataset(some, {"users": users[keep], "transactions": tx[tx["user_id"] <= 60]})
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--models", str(models), "--data", str(some), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert 0 <= result["types"]["random_forest"]["macro_f1"] <= 1
    assert "forecast" in result
    # the saved rules-plus-models combination scores every kind on the other dataset too
    assert (models / "anomaly_stacked.joblib").is_file()
    per_kind = result["anomaly"]["held_out"]
    assert per_kind["transactions"] > 0 and "stacked" in per_kind["methods"]
    assert result["anomaly"]["headline"]["verdict"]


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--data", "/nonexistent/data", "--out", "OUT"],
        ["evaluate", "--models", "/nonexistent/models", "--data", "DATA"],
        ["train", "--data", "DATA", "--out", "OUT", "--trees", "0"],
    ],
)
def test_bad_input_exits_2(
    argv: list[str], tmp_path: Path, dataset_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.replace("OUT", str(tmp_path / "m")).replace("DATA", str(dataset_dir)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("monilab ") and "\n" not in err


def test_train_fits_on_a_user_sample(other_dataset_dir: Path, tmp_path: Path) -> None:
    """With fewer users allowed than the data has, learners fit on a seeded sample while
    every user is still featured and every transaction scored."""
    out = tmp_path / "m"
    argv = ["train", "--data", str(other_dataset_dir), "--out", str(out), "--trees", "10"]
    assert main([*argv, "--hourly-users", "0", "--max-train-users", "40", "--jobs", "1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    sample = metrics["fit_sample"]
    assert sample["users"] == 40 and sample["type_users"] == 40
    assert metrics["users"] == 80
    tx = read_dataset(other_dataset_dir).frame("transactions")
    outgoing = spendings(check_transactions(tx), OUTGOING)
    assert metrics["anomaly"]["scored_transactions"] == len(outgoing)
    held_out = metrics["types"]["held_out"]["random_forest"]["n"]
    assert held_out == 20
    assert "hourly" not in metrics
