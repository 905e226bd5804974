"""The facts battery end to end: bands file, verdicts, datasets, `monilab describe --facts`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.facts import FACTS, load_bands, run_facts
from calibration.facts.bands import BANDS_FILE, BASES
from calibration.facts.runner import NOT_APPLICABLE
from calibration.facts.sources import load_dataset_facts
from calibration.paths import bundled_mapping
from monilab.cli.main import main
from monilab.contracts.datasets import write_dataset
from monilab.contracts.errors import MonilabError

START = pd.Timestamp("2024-01-01")
CATEGORIES = ("food", "coffee", "transport", "living", "shopping")


# ---------------------------------------------------------------- the bands file


def test_every_fact_has_exactly_one_band_with_a_source() -> None:
    bands = load_bands()
    assert list(bands.bands) == list(FACTS)
    for band in bands.bands.values():
        assert band.low <= band.high
        assert band.cite.strip() and band.source.strip() and band.meaning.strip()
        assert set(band.basis.split("+")) <= BASES


def test_consumption_mix_adds_up_to_the_published_total_and_names_its_source() -> None:
    bands = load_bands()
    assert sum(bands.mix.target.values()) == pytest.approx(2890)
    assert "가계동향조사" in bands.mix.source and "통계청" in bands.mix.source
    assert set(bands.mix.groups.values()) == set(bands.mix.target)


def test_a_broken_bands_file_is_a_one_line_error(tmp_path) -> None:
    bad = tmp_path / "bands.toml"
    text = BANDS_FILE.read_text(encoding="utf-8").replace("low = 1.5\n", "low = 9.5\n", 1)
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(MonilabError, match=r"daily_count_dispersion\] low 9.5 > high"):
        load_bands(bad)


# ---------------------------------------------------------------- a constructed dataset


def constructed_tables(*, income: bool = True) -> dict[str, pd.DataFrame]:
    """Three users, January-June 2024: a payment every day (categories in turn), salary."""
    users = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "persona": "constructed",
            "spending_type": "stable",
            "age": [30, 40, 50],
            "gender": ["f", "m", "f"],
            "occupation": None,
            "region": "서울특별시",
            "monthly_income": 3_000_000,
            "signup_at": START,
        }
    )
    frames = []
    for user in (1, 2, 3):
        times = pd.date_range(START + pd.Timedelta(hours=12), "2024-06-30 12:00", freq="D")
        category = [CATEGORIES[i % len(CATEGORIES)] for i in range(len(times))]
        frames.append(pd.DataFrame({"user_id": user, "ts": times, "category": category}))
        if income:
            paydays = [START + pd.DateOffset(months=m, days=24, hours=9) for m in range(6)]
            frames.append(pd.DataFrame({"user_id": user, "ts": paydays, "category": "income"}))
    rows = pd.concat(frames, ignore_index=True).sort_values(["ts", "user_id"], ignore_index=True)
    is_income = rows["category"] == "income"
    transactions = rows.assign(
        txn_id=np.arange(1, len(rows) + 1),
        ts=rows["ts"].astype("datetime64[us]"),
        method=np.where(is_income, "transfer", "card"),
        amount=np.where(is_income, 3_000_000, 20_000),
        merchant=np.where(is_income, "급여", "가게"),
        direction=np.where(is_income, "in", "out"),
        is_anomaly=False,
        anomaly_kind=None,
    )
    return {"users": users, "transactions": transactions}


def write(path: Path, tables: dict[str, pd.DataFrame]) -> str:
    write_dataset(path, tables, seed=1, sources=["test"])
    return str(path)


def wide_bands(path: Path) -> str:
    """The bundled bands with every band opened to (-1e9, 1e9)."""
    text = BANDS_FILE.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^low = .*$", "low = -1e9", text)
    text = re.sub(r"(?m)^high = .*$", "high = 1e9", text)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_describe_facts_prints_every_fact_and_exits_0(tmp_path, capsys) -> None:
    directory = write(tmp_path / "ds", constructed_tables())
    assert main(["describe", directory, "--facts"]) == 0
    out = capsys.readouterr().out
    for name in FACTS:
        assert name in out
    assert "n/a (optional)" in out and "no events table" in out


def test_check_names_every_fact_outside_its_band(tmp_path, capsys) -> None:
    directory = write(tmp_path / "ds", constructed_tables())
    assert main(["describe", directory, "--check"]) == 1
    err = capsys.readouterr().err
    # Clockwork daily payments: no dispersion, no quiet spell, no burst.
    for name in ("daily_count_dispersion", "gap_cv", "longest_inactive_spell"):
        assert re.search(rf"^  {name}: .* is below the band", err, re.MULTILINE)
    failing = [line for line in err.splitlines() if line.startswith("  ")]
    assert len(failing) == int(re.search(r"check failed: (\d+) facts", err).group(1))


def test_check_passes_when_every_required_fact_is_in_band(tmp_path, capsys) -> None:
    directory = write(tmp_path / "ds", constructed_tables())
    bands = wide_bands(tmp_path / "wide.toml")
    assert main(["describe", directory, "--check", "--bands", bands]) == 0
    assert "check passed" in capsys.readouterr().out


def test_a_required_fact_that_is_not_applicable_fails_the_check(tmp_path, capsys) -> None:
    directory = write(tmp_path / "ds", constructed_tables(income=False))
    bands = wide_bands(tmp_path / "wide.toml")
    assert main(["describe", directory, "--check", "--bands", bands]) == 1
    err = capsys.readouterr().err
    assert "payday_share: n/a and required (no income rows" in err
    assert "merchants_per_user_month" not in err  # optional n/a does not fail


@pytest.mark.parametrize(
    "argv",
    [
        ["describe", "{tmp}/missing", "--facts"],
        ["describe", "{tmp}", "--check"],
        ["describe", "--facts"],
        ["describe", "{tmp}/x.csv", "--mapping", "{tmp}/missing.toml"],
    ],
)
def test_user_mistakes_are_one_line_errors(tmp_path, capsys, argv) -> None:
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("monilab describe: error:") and "\n" not in err


# ---------------------------------------------------------------- app usage sources


def test_an_app_export_takes_its_sessions_from_the_events_table(tmp_path) -> None:
    tables = constructed_tables()
    starts = [START + pd.Timedelta(days=d, hours=20) for d in range(150)]
    events = pd.DataFrame(
        {
            "ts": [t + pd.Timedelta(seconds=s) for t in starts for s in (0, 30, 60)],
            "run_id": "r1",
            "user_id": 1,
            "agent_id": "s1-u1",
            "source": "locust",
            "method": ["POST", "GET", "POST"] * len(starts),
            "route": ["/api/v1/auth/login", "/api/v1/spendings", "/api/v1/auth/logout"]
            * len(starts),
            "status": 200,
            "latency_ms": 3.0,
            "bytes": 100,
        }
    )
    directory = write(tmp_path / "ds", {**tables, "events": events})
    data = load_dataset_facts(directory)
    assert data.sessions is not None and data.sessions.origin.startswith("events table")
    results = {r.name: r for r in run_facts(data)}
    assert results["pages_per_session"].value == pytest.approx(1.0)
    assert results["login_night_share"].value == 0.0


def test_a_generated_dataset_takes_its_sessions_from_sampled_agent_decisions(tmp_path) -> None:
    from sim.agents import generate_dataset

    out = tmp_path / "gen"
    generate_dataset(out, users=30, days=60, start=dt.date(2024, 1, 1), seed=5, progress=False)
    data = load_dataset_facts(out, sample=12)
    assert data.sessions is not None, data.sessions_missing
    assert "12 sampled agents" in data.sessions.origin
    assert data.sessions.frame["user_id"].nunique() <= 12
    results = {r.name: r for r in run_facts(data)}
    assert results["pages_per_session"].verdict != NOT_APPLICABLE


# ---------------------------------------------------------------- real microdata


def test_household_ledger_facts_match_the_values_in_realism_md(ledger_path, capsys) -> None:
    results = {
        r.name: r for r in run_facts(ledger_path, mapping=bundled_mapping("household_ledger"))
    }
    measured = {
        "daily_count_dispersion": 2.52,
        "gap_cv": 2.65,
        "longest_inactive_spell": 6.86,
        "monthly_spend_cv": 0.80,
        "categories_per_user": 9.14,
        "category_rank_slope": -1.83,
        "payday_share": 0.305,
        "income_regularity": 0.65,
        "spend_to_income": 0.32,
        "outflow_to_income": 1.13,
    }
    for name, value in measured.items():
        assert results[name].value == pytest.approx(value, abs=0.01), name
    assert results["seasonality"].verdict == NOT_APPLICABLE  # one person is no population
    assert results["merchants_per_user_month"].reason == "the source has no merchant names"
    argv = ["describe", str(ledger_path), "--check", "--mapping"]
    assert main([*argv, str(bundled_mapping("household_ledger"))]) == 1
    assert "consumption_mix_distance" in capsys.readouterr().err
