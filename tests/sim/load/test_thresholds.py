"""Thresholds of a load run: the grammar, its one-line errors and the verdicts on a summary."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import option
from monilab.lab.runconfig import _check_value
from sim.load.options import LoadOptions
from sim.load.thresholds import (
    Threshold,
    check_threshold,
    describe_result,
    evaluate_thresholds,
    parse_threshold,
)


def _row(method: str, name: str, requests: int, failures: int, scale: float) -> dict[str, Any]:
    """A summary row whose latencies are ``scale`` times 10/20/30/40/50/100/200 ms."""
    return {
        "method": method,
        "name": name,
        "requests": requests,
        "failures": failures,
        "rps": requests / 100,
        "avg_ms": 15.0 * scale,
        "p50_ms": 10.0 * scale,
        "p90_ms": 20.0 * scale,
        "p95_ms": 30.0 * scale,
        "p99_ms": 40.0 * scale,
        "max_ms": 100.0 * scale,
    }


SUMMARY: dict[str, Any] = {
    "run_id": "r1",
    "host": "http://127.0.0.1:8000",
    "wall_time_s": 100.0,
    "total": _row("", "Aggregated", 1000, 5, 1.0),
    "endpoints": [
        _row("POST", "/api/v1/spendings", 600, 3, 2.0),
        _row("GET", "/api/v1/spendings [list]", 400, 2, 0.5),
        _row("GET", "/idle", 0, 0, 0.0),
    ],
    "personas": {
        "yolo_student": {
            "requests": 250,
            "failures": 1,
            "p50_ms": 12.0,
            "p90_ms": 22.0,
            "p95_ms": 32.0,
            "p99_ms": 42.0,
            "avg_ms": 16.0,
            "max_ms": 120.0,
        },
        "old_persona": {"requests": 10, "failures": 0, "p95_ms": 5.0},
    },
    "failures": [],
    "reconciliation": {
        "declared": True,
        "ok": False,
        "sent": 100,
        "acknowledged": 98,
        "stored": 99,
        "missing": 1,
        "duplicated": 1,
        "unexpected": 1,
    },
}


def _one(text: str, summary: dict[str, Any] = SUMMARY) -> dict[str, Any]:
    return evaluate_thresholds([text], summary)[0]


# --------------------------------------------------------------------------- grammar


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p95<300ms", Threshold("p95<300ms", "run", "", "p95", "<", 300.0)),
        ("  p99 <= 1.5 s ", Threshold("p99 <= 1.5 s", "run", "", "p99", "<=", 1500.0)),
        ("avg>.5", Threshold("avg>.5", "run", "", "avg", ">", 0.5)),
        ("P(90) >= 20 MS", Threshold("P(90) >= 20 MS", "run", "", "p90", ">=", 20.0)),
        ("failures<0.5%", Threshold("failures<0.5%", "run", "", "failures", "<", 0.005)),
        ("failures < 0.005", Threshold("failures < 0.005", "run", "", "failures", "<", 0.005)),
        ("rps!=200", Threshold("rps!=200", "run", "", "rps", "!=", 200.0)),
        ("requests==10", Threshold("requests==10", "run", "", "requests", "==", 10.0)),
        ("lost_writes==0", Threshold("lost_writes==0", "run", "", "lost_writes", "==", 0.0)),
        (
            "post  /api/v1/spendings :max<1s",
            Threshold(
                "post  /api/v1/spendings :max<1s",
                "endpoint",
                "POST /api/v1/spendings",
                "max",
                "<",
                1000.0,
            ),
        ),
        (
            "Persona yolo_student: p50<1s",
            Threshold("Persona yolo_student: p50<1s", "persona", "yolo_student", "p50", "<", 1e3),
        ),
    ],
)
def test_thresholds_are_parsed_in_base_units(text: str, expected: Threshold) -> None:
    assert parse_threshold(text) == expected
    assert check_threshold(text) == text


def test_an_endpoint_name_may_hold_spaces_and_colons() -> None:
    threshold = parse_threshold("GET /a:b [list]: p95<1")
    assert (threshold.scope, threshold.target) == ("endpoint", "GET /a:b [list]")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p95<3xx", "unit 'xx' does not fit p95: a latency in ms (default) or s"),
        ("p96<3", "unknown metric 'p96'; known: p50, p90, p95, p99, avg, max, failures"),
        ("p95=300", "unknown operator '='; use one of < <= > >= == !="),
        ("p95=<300", "unknown operator '=<'"),
        ("p95 300ms", "expected [SCOPE:] METRIC OP VALUE, e.g. p95<300ms"),
        ("   ", "empty; expected [SCOPE:] METRIC OP VALUE"),
        ("p95<", "no value after the operator; p95 takes a latency"),
        ("p95<-3", "'-3' is not a number >= 0"),
        ("failures<5", "a failure rate is at most 1 (100%) (did you mean 5%?)"),
        ("failures<101%", "a failure rate is at most 1 (100%); write a fraction like 0.005"),
        ("failures<1ms", "unit 'ms' does not fit failures"),
        ("rps>200/s", "unit '/s' does not fit rps: requests per second, without a unit"),
        ("requests>1k", "unit 'k' does not fit requests: a plain count"),
        ("lost_writes<1%", "unit '%' does not fit lost_writes"),
        ("spendings: p95<3", "scope 'spendings' is neither 'METHOD NAME'"),
        ("persona: p95<3", "scope 'persona' is neither 'METHOD NAME'"),
        (": p95<3", "scope '' is neither"),
        ("persona a: lost_writes==0", "lost_writes is counted for the whole run only"),
        ("GET /x: lost_writes==0", "lost_writes is counted for the whole run only"),
    ],
)
def test_a_bad_threshold_is_one_line_saying_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MonilabError) as caught:
        check_threshold(text)
    shown = str(caught.value)
    assert shown.startswith(f"threshold {text!r}: ") and message in shown
    assert "\n" not in shown


def test_the_load_option_and_a_run_config_reject_a_bad_threshold_in_one_line() -> None:
    fld = next(f for f in LoadOptions.__dataclass_fields__.values() if f.name == "thresholds")
    assert fld.metadata["option"].parse is check_threshold
    config_field = option([], parse=check_threshold)  # as a [load] thresholds key would be
    ok = ["p95<300ms", "lost_writes==0"]
    assert _check_value("run.toml", "load.thresholds", ok, config_field, list[str]) == ok
    with pytest.raises(MonilabError, match=r"^run.toml: load.thresholds: threshold 'p9<1'"):
        _check_value("run.toml", "load.thresholds", [*ok, "p9<1"], config_field, list[str])


# --------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("p50<11", 10.0),
        ("p90<21", 20.0),
        ("p95<31", 30.0),
        ("p99<41", 40.0),
        ("avg<16", 15.0),
        ("max<0.101s", 100.0),
        ("failures<0.6%", 0.005),
        ("rps>9.9", 10.0),
        ("requests>=1000", 1000.0),
    ],
)
def test_every_metric_of_the_whole_run(text: str, value: float) -> None:
    result = _one(text)
    assert result["value"] == pytest.approx(value)
    assert (result["ok"], result["verdict"], result["scope"], result["target"]) == (
        True,
        "pass",
        "run",
        "",
    )


@pytest.mark.parametrize(
    ("op", "passes"),
    [("<", [False, False, True]), ("<=", [False, True, True]), (">", [True, False, False]),
     (">=", [True, True, False]), ("==", [False, True, False]), ("!=", [True, False, True])],
)  # fmt: skip
def test_every_operator_against_a_limit_below_at_and_above_the_value(
    op: str, passes: list[bool]
) -> None:
    verdicts = [_one(f"p95{op}{limit}")["ok"] for limit in (29, 30, 31)]
    assert verdicts == passes


def test_limits_are_reported_in_the_metrics_base_unit() -> None:
    seconds, percent = evaluate_thresholds(["p95<0.02s", "failures<=0.4%"], SUMMARY)
    assert (seconds["limit"], seconds["unit"], seconds["verdict"]) == (20.0, "ms", "fail")
    assert (percent["limit"], percent["unit"], percent["value"]) == (0.004, "fraction", 0.005)
    assert not percent["ok"] and percent["verdict"] == "fail"


def test_an_endpoint_threshold_reads_that_endpoints_row() -> None:
    post = _one("POST /api/v1/spendings: p95<100ms")
    assert (post["scope"], post["target"], post["value"], post["ok"]) == (
        "endpoint",
        "POST /api/v1/spendings",
        60.0,
        True,
    )
    listing = _one("get /api/v1/spendings  [list]: failures<=0.5%")
    assert listing["value"] == pytest.approx(0.005) and listing["ok"]
    assert _one("POST /api/v1/spendings: rps>5")["value"] == 6.0


def test_a_persona_threshold_reads_that_personas_numbers() -> None:
    assert _one("persona yolo_student: p99<50")["value"] == 42.0
    assert _one("persona yolo_student: requests>100")["ok"]
    assert _one("persona yolo_student: failures<1%")["value"] == pytest.approx(0.004)
    rps = _one("persona yolo_student: rps>=2.5")
    assert rps["value"] == pytest.approx(2.5) and rps["ok"]  # 250 requests over 100 s


def test_lost_writes_counts_missing_duplicated_and_unexpected() -> None:
    result = _one("lost_writes==0")
    assert (result["value"], result["ok"], result["verdict"]) == (3.0, False, "fail")
    assert _one("lost_writes<=3")["ok"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("GET /nowhere: p95<1s", "no endpoint GET /nowhere in the run"),
        ("DELETE /api/v1/spendings: requests>=0", "no endpoint DELETE /api/v1/spendings"),
        (
            "persona nobody: p95<1s",
            "no persona nobody in the run; known: yolo_student, old_persona",
        ),
        ("GET /idle: p95<1s", "no requests"),
        ("GET /idle: failures<1%", "no requests"),
        ("persona old_persona: p90<1s", "no p90 latency"),
    ],
)
def test_what_cannot_be_checked_is_no_data_and_never_passes(text: str, reason: str) -> None:
    result = _one(text)
    assert (result["value"], result["ok"], result["verdict"]) == (None, False, "no data")
    assert reason in result["reason"]


def test_an_endpoint_without_requests_still_counts_them() -> None:
    assert _one("GET /idle: requests==0")["verdict"] == "pass"


@pytest.mark.parametrize(
    ("reconciliation", "reason"),
    [
        (None, "reconciliation skipped (--no-reconcile)"),
        ({"declared": False, "ok": None, "note": "x"}, "reconciliation not declared by the target"),
    ],
)
def test_lost_writes_without_a_reconciliation_is_no_data(
    reconciliation: dict[str, Any] | None, reason: str
) -> None:
    summary = copy.deepcopy(SUMMARY)
    summary.pop("reconciliation")
    if reconciliation is not None:
        summary["reconciliation"] = reconciliation
    result = _one("lost_writes==0", summary)
    assert (result["verdict"], result["ok"], result["reason"]) == ("no data", False, reason)


def test_a_persona_rps_needs_the_wall_time() -> None:
    summary = {**SUMMARY, "wall_time_s": None}
    assert _one("persona yolo_student: rps>0", summary)["verdict"] == "no data"


def test_every_threshold_is_parsed_before_any_is_checked() -> None:
    with pytest.raises(MonilabError, match="threshold 'p95<'"):
        evaluate_thresholds(["p95<300", "p95<"], SUMMARY)


def test_a_result_has_the_documented_keys_and_reads_as_one_line() -> None:
    result = _one("p95<20ms")
    assert list(result) == [
        "expr", "scope", "target", "metric", "op", "limit", "unit", "value", "ok", "verdict",
        "reason",
    ]  # fmt: skip
    assert describe_result(result) == "p95 = 30 ms, limit < 20 ms: fail"
    assert describe_result(_one("failures<1%")) == "failures = 0.5%, limit < 1%: pass"
    assert describe_result(_one("persona x: p95<1s")).startswith(
        "p95: no data (no persona x in the run; known: yolo_student"
    )
