"""``monilab generate`` / ``describe``: reproducible bytes, manifest, CLI errors."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL

from monilab.cli.main import main
from monilab.contracts.datasets import read_dataset
from monilab.contracts.tables import conform
from sim.agents.generate import generate_dataset
from sim.agents.personas import default_persona_path

TINY = {"users": 300, "days": 20, "start": "2024-01-20", "seed": 11, "shard_size": 100}


def _digests(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*.parquet"))
    }


def test_same_seed_same_bytes_whatever_the_workers(tmp_path):
    one = generate_dataset(tmp_path / "one", **TINY, workers=1, progress=False)
    two = generate_dataset(tmp_path / "two", **TINY, workers=2, progress=False)
    assert _digests(tmp_path / "one") == _digests(tmp_path / "two")
    assert len(_digests(tmp_path / "one")) == 3 + 3 + 3 + 1  # users, labels, transactions, daily
    assert one["run"]["workers"] == 1 and two["run"]["workers"] == 2
    assert {k: v for k, v in one.items() if k != "run"} == {
        k: v for k, v in two.items() if k != "run"
    }
    other = generate_dataset(tmp_path / "other", **{**TINY, "seed": 12}, progress=False)
    assert _digests(tmp_path / "other") != _digests(tmp_path / "one")
    assert other["counts"]["users"] == 300


def test_manifest_and_tables(dataset_dir):
    ds = read_dataset(dataset_dir)
    manifest = json.loads((dataset_dir / "manifest.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256(default_persona_path().read_bytes()).hexdigest()
    assert manifest["persona_file_sha256"] == digest
    assert manifest["seed"] == SMALL["seed"] and manifest["shards"] == 3
    assert manifest["counts"]["transactions"] == ds.rows("transactions")
    assert set(manifest["run"]) >= {"workers", "seconds", "rows_per_second"}
    assert (dataset_dir / "personas.toml").is_file()
    for table in ("users", "transactions", "population_daily"):
        conform(table, ds.table(table))
    users = ds.frame("users")
    assert users.user_id.tolist() == list(range(1, 301))
    tx = ds.frame("transactions")
    assert tx.txn_id.is_unique
    assert tx.groupby(tx.txn_id // 10**12).user_id.agg(["min", "max"]).values.tolist() == [
        [1, 100],
        [101, 200],
        [201, 300],
    ]
    daily = ds.frame("population_daily")
    assert len(daily) == 3 * SMALL["days"]
    assert daily.transactions.sum() == len(tx)


def test_describe_prints_readable_tables(dataset_dir, capsys):
    assert main(["describe", str(dataset_dir)]) == 0
    out = capsys.readouterr().out
    for heading in ("Users per persona", "Rows per category", "per user-month", "Anomalies"):
        assert heading in out
    assert "yolo_student" in out and "coffee" in out and "small_burst" in out


def _bad(args: list[str], capsys) -> str:
    try:
        status = main(args)
    except SystemExit as exc:  # argparse usage errors exit from the parser
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_bad_cli_input_is_one_line_exit_2(tmp_path, capsys, dataset_dir):
    base = ["generate", "--days", "5", "--seed", "1", "--out", str(tmp_path / "x")]
    assert "--users" in _bad([*base, "--users", "0"], capsys)
    assert "YYYY-MM-DD" in _bad([*base, "--users", "5", "--start", "2024-02-30"], capsys)
    assert "rate" in _bad([*base, "--users", "5", "--anomaly-rate", "2"], capsys)
    missing = _bad([*base, "--users", "5", "--personas", str(tmp_path / "no.toml")], capsys)
    assert "cannot read persona file" in missing
    bad = tmp_path / "bad.toml"
    text = default_persona_path().read_text(encoding="utf-8")
    bad.write_text(text.replace("monthly_median = 850000", "monthly_median = 0"), "utf-8")
    err = _bad([*base, "--users", "5", "--personas", str(bad)], capsys)
    assert "persona 'yolo_student': field 'income.monthly_median': must be > 0" in err
    not_empty = [
        "generate",
        "--users",
        "5",
        "--days",
        "2",
        "--seed",
        "1",
        "--out",
        str(dataset_dir),
    ]
    assert "not empty" in _bad(not_empty, capsys)
    assert "not a dataset" in _bad(["describe", str(tmp_path)], capsys)


def test_cli_subprocess_exit_code(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "monilab",
            "generate",
            "--users",
            "-3",
            "--days",
            "5",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("workers", [1])
def test_cli_generate_writes_a_dataset(tmp_path, capsys, workers):
    out = tmp_path / "cli"
    args = [
        "generate",
        "--users",
        "40",
        "--days",
        "7",
        "--seed",
        "5",
        "--start",
        "2024-05-01",
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--no-progress",
    ]
    assert main(args) == 0
    assert "wrote 40 users" in capsys.readouterr().out
    assert read_dataset(out).rows("users") == 40
