"""A dataset in the lab's own schema as reference: adapter, declared-missing fields, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calibration.adapters import load_dataset_reference
from calibration.adapters.mapping import USER_FIELDS
from calibration.frames import HAS_TIME
from monilab.cli.main import main
from monilab.contracts.datasets import read_dataset, write_dataset
from monilab.contracts.errors import MonilabError
from sim.agents.generate import generate_dataset
from sim.agents.personas import default_persona_path

COFFEE = "*.categories.coffee.median"


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny generated population (60 users × 60 days)."""
    out = tmp_path_factory.mktemp("data") / "population"
    generate_dataset(out, users=60, days=60, start="2024-01-01", seed=5, progress=False)
    return out


def test_dataset_reference_has_the_dataset_rows(population: Path) -> None:
    reference = load_dataset_reference(population)
    dataset = read_dataset(population)
    expected = dataset.frame("transactions")
    assert reference.transactions[HAS_TIME].all()
    pd.testing.assert_frame_equal(reference.transactions.drop(columns=[HAS_TIME]), expected)
    pd.testing.assert_frame_equal(reference.users, dataset.frame("users"))
    assert reference.schema_table().num_rows == len(expected)
    assert (reference.currency, reference.currency_scale) == ("KRW", 1.0)
    assert not reference.amount_scale_assumed
    assert reference.declared_missing == frozenset()
    assert reference.source_counts == {"*": len(expected)} and reference.excluded == {}


def test_all_null_fields_are_declared_missing(population: Path, tmp_path: Path) -> None:
    transactions = read_dataset(population).frame("transactions")
    transactions["merchant"] = None
    transactions["is_anomaly"] = False
    transactions["anomaly_kind"] = None
    write_dataset(tmp_path / "no_users", {"transactions": transactions})
    reference = load_dataset_reference(tmp_path / "no_users")
    # No users table: every user field is missing; anomaly_kind is known (no anomalies).
    assert reference.users is None
    assert reference.declared_missing == frozenset({"merchant", *USER_FIELDS})


def test_an_app_export_declares_its_unknown_labels_missing(
    population: Path, tmp_path: Path
) -> None:
    dataset = read_dataset(population)
    users = dataset.frame("users").assign(spending_type=None, persona="unknown")
    transactions = dataset.frame("transactions").assign(is_anomaly=None, anomaly_kind=None)
    write_dataset(tmp_path / "export", {"users": users, "transactions": transactions})
    reference = load_dataset_reference(tmp_path / "export")
    assert reference.declared_missing == {"is_anomaly", "anomaly_kind", "spending_type"}
    assert len(reference.users) == len(users)


def test_transactions_of_unknown_users_are_refused(population: Path, tmp_path: Path) -> None:
    dataset = read_dataset(population)
    users = dataset.frame("users").iloc[1:]
    tables = {"users": users, "transactions": dataset.frame("transactions")}
    write_dataset(tmp_path / "partial", tables)
    with pytest.raises(MonilabError, match="not in users"):
        load_dataset_reference(tmp_path / "partial")


def test_cli_calibrates_against_a_dataset_directory(
    population: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    argv = ["calibrate", "--personas", str(default_persona_path())]
    argv += ["--reference", str(population), "--budget", "2", "--sampler", "tpe"]
    argv += ["--users", "20", "--days", "21", "--params", COFFEE, "--out", str(out)]
    assert main(argv) == 0
    assert "held-out part (split by user) loss" in capsys.readouterr().out
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["inputs"]["reference_kind"] == "dataset"
    assert summary["inputs"]["mapping"] is None
    assert summary["inputs"]["declared_missing"] == []
    assert summary["split"]["by"] == "user" and summary["calls"]["search"] == 2
    assert (out / "report.html").is_file() and (out / "default.calibrated.toml").is_file()


def _reference(case: str, population: Path, tmp_path: Path) -> Path:
    """A reference directory for an error case (the population itself for option errors)."""
    directory = tmp_path / case
    if case == "plain":
        directory.mkdir()
        (directory / "notes.csv").write_text("a,b\n1,2\n")
    elif case == "users_only":
        write_dataset(directory, {"users": read_dataset(population).frame("users")})
    elif case == "lost_part":
        tables = {"transactions": read_dataset(population).frame("transactions")}
        write_dataset(directory, tables)
        (directory / "transactions" / "part-00000.parquet").unlink()
    else:
        return population
    return directory


@pytest.mark.parametrize(
    ("case", "extra", "message"),
    [
        ("plain", [], "is not a dataset (no manifest.json)"),
        ("users_only", [], "has no transactions table"),
        ("lost_part", [], "cannot read transactions"),
        ("dataset", ["--mapping", "m.toml"], "drop --mapping"),
        ("dataset", ["--reference-users", "u.csv"], "drop --reference-users"),
    ],
)
def test_cli_dataset_errors_are_one_line(
    population: Path, tmp_path: Path, capsys, case: str, extra: list[str], message: str
) -> None:
    reference = _reference(case, population, tmp_path)
    argv = ["calibrate", "--personas", str(default_persona_path()), "--budget", "2"]
    argv += ["--reference", str(reference), *extra, "--out", str(tmp_path / "o")]
    argv += ["--users", "20", "--days", "3"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("monilab calibrate: error:") and "\n" not in err
    assert message in err
    assert not (tmp_path / "o" / "calibration.json").exists()
