"""``monilab compare`` through the CLI: exit statuses, the page and JSON, one-line mistakes."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from monilab.cli.main import build_parser, main
from monilab.cli.options import options_from
from monilab.lab.appprocess import AppProcess
from monilab.lab.commands import command
from monilab.lab.commands.compare import METRICS, CompareOptions
from sim.load import compare as load_compare
from sim.reconcile.ledger import latency_bucket

ENDPOINTS = {"GET /api/v1/spendings [list]": 40.0, "POST /api/v1/spendings": 60.0}


def record(directory: Path, medians: dict[str, float] = ENDPOINTS, *, seed: int = 0, **kw):
    """A small recorded run: 40 windows of one persona on each endpoint (``legacy``: latency
    lines without method and time, as recorded before they carried them)."""
    rng = np.random.default_rng(seed)
    lines, endpoints = [], []
    for endpoint, median in medians.items():
        method, name = endpoint.split(" ", 1)
        total: dict[int, int] = {}
        for window in range(40):
            hist: dict[int, int] = {}
            for ms in median * rng.lognormal(0.0, 0.3, 30):
                bucket = latency_bucket(ms)
                hist[bucket] = hist.get(bucket, 0) + 1
                total[bucket] = total.get(bucket, 0) + 1
            line = {"type": "latency", "persona": "saver", "name": name, "failures": 0}
            if not kw.get("legacy"):
                line |= {"method": method, "t": 1_700_000_000.5 + 2 * window}
            lines.append(line | {"hist": {str(k): v for k, v in hist.items()}})
        endpoints.append({"method": method, "name": name, "requests": 1200, "failures": 0})
        endpoints[-1] |= {"rps": 15.0, "p50_ms": float(sorted(total)[len(total) // 2])}
    (directory / "ledger").mkdir(parents=True)
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (directory / "ledger" / "ledger-1.jsonl").write_text(text, encoding="utf-8")
    summary = {"run_id": directory.name, "total": {"requests": 2400, "rps": 30.0}}
    summary |= {"endpoints": endpoints, "personas": {"saver": {"requests": 2400, "failures": 0}}}
    (directory / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return directory


def _one_line_error(capsys, *argv: str) -> str:
    assert main(["compare", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_identical_runs_pass_the_gate_and_write_the_page(tmp_path, capsys):
    a, b = record(tmp_path / "a", seed=1), record(tmp_path / "b", seed=1)
    assert main(["compare", str(a), str(b), "--fail-on-regression", "10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("monilab compare: b against a: same (within noise) 15")
    page = b / "compare-vs-a.html"
    assert 'data-testid="endpoint:POST /api/v1/spendings:p95_ms"' in page.read_text("utf-8")
    numbers = json.loads(page.with_suffix(".json").read_text("utf-8"))
    assert numbers["gate"]["failures"] == [] and numbers["tolerance_pct"] == 10


def test_a_slower_endpoint_fails_the_gate(tmp_path, capsys):
    slower = ENDPOINTS | {"POST /api/v1/spendings": 90.0}
    a, b = record(tmp_path / "a", seed=1), record(tmp_path / "b", slower, seed=2)
    out_page = tmp_path / "report" / "cmp.html"
    argv = [str(a), str(b), "--fail-on-regression", "10", "--out", str(out_page)]
    assert main(["compare", *argv]) == 1
    captured = capsys.readouterr()
    assert "regression beyond 10%: POST /api/v1/spendings p95" in captured.err
    assert "regression   POST /api/v1/spendings p50" in captured.out
    assert "GET /api/v1/spendings [list]" not in captured.err
    html = out_page.read_text("utf-8")
    assert '<span class="failed">regression</span>' in html
    assert out_page.with_suffix(".json").is_file()
    assert main(["compare", str(a), str(b), "--out", str(out_page)]) == 0  # no gate: report only
    assert main(["compare", *argv, "--metric", "rps", "--metric", "failure_rate"]) == 0


def test_runs_without_time_windows_cannot_pass_a_gate(tmp_path, capsys):
    a, b = record(tmp_path / "a", legacy=True), record(tmp_path / "b")
    assert main(["compare", str(a), str(b)]) == 0
    assert main(["compare", str(a), str(b), "--fail-on-regression", "10"]) == 1
    err = capsys.readouterr().err
    assert "nothing could be checked" in err and "no intervals" in err


def test_a_lab_run_is_compared_through_its_load_folder(tmp_path, capsys):
    record(tmp_path / "lab-a" / "load", seed=1)
    record(tmp_path / "lab-b" / "load", seed=1)
    assert main(["compare", str(tmp_path / "lab-a"), str(tmp_path / "lab-b")]) == 0
    assert (tmp_path / "lab-b" / "compare-vs-lab-a.html").is_file()


def test_mistakes_are_one_line(tmp_path, capsys):
    run = record(tmp_path / "run")
    (tmp_path / "empty").mkdir()
    assert "no such run directory" in _one_line_error(capsys, str(tmp_path / "nope"), str(run))
    assert "not a load run" in _one_line_error(capsys, str(run), str(tmp_path / "empty"))
    negative = _one_line_error(capsys, str(run), str(run), "--fail-on-regression", "-5")
    assert "--fail-on-regression must be at least 0" in negative
    assert "expected one of" in _one_line_error(capsys, str(run), str(run), "--metric", "p42")
    with pytest.raises(SystemExit) as usage:  # RUN_B is required: argparse's usage error
        main(["compare", str(run)])
    assert usage.value.code == 2
    assert "required: RUN_B" in capsys.readouterr().err


def test_options_survive_the_command_line():
    options = CompareOptions(
        run_a=Path("a"),
        run_b=Path("b"),
        fail_on_regression=7.5,
        metric=["p95", "failure_rate"],
        out=Path("x.html"),
        seed=3,
    )
    argv = shlex.split(command("compare").command_line(options))[1:]
    assert options_from(CompareOptions, build_parser().parse_args(argv)) == options


def test_the_metric_choices_match_the_comparison():
    assert sorted(METRICS.values()) == sorted(load_compare.METRICS)


def _load(host: str, out: Path) -> None:
    cmd = [
        sys.executable, "-m", "monilab", "load", "--host", host, "--out", str(out),
        "--users", "4", "--run-time", "12s", "--shape", "ramp", "--spawn-rate", "20",
        "--processes", "2",  # workers ship their ledger every 2 s: the bootstrap's windows
        "--agents", "12", "--days", "2", "--time-scale", "60000", "--no-reconcile",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.integration
def test_two_real_runs_compare_within_noise(tmp_path, capsys):
    with AppProcess(tmp_path / "app-data", workers=2) as app:
        _load(app.url, tmp_path / "a")
        _load(app.url, tmp_path / "b")
    argv = ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-on-regression", "1000"]
    assert main(argv) == 0, capsys.readouterr().err
    numbers = json.loads((tmp_path / "b" / "compare-vs-a.json").read_text("utf-8"))
    assert numbers["run_a"]["blocks"] >= 4 and numbers["run_b"]["blocks"] >= 4
    endpoints = [row for row in numbers["rows"] if row["kind"] == "endpoint"]
    assert any(row["metrics"]["p50_ms"]["low"] is not None for row in endpoints)
    assert {row["kind"] for row in numbers["rows"]} == {"endpoint", "persona"}
