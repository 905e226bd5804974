"""The JUnit XML file of a load run, parsed back as a CI test reporter would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from monilab.contracts.errors import MonilabError
from sim.load.junit import write_junit
from sim.load.thresholds import evaluate_thresholds

TOTAL = {"method": "", "name": "Aggregated", "requests": 200, "failures": 2, "rps": 20.0}
TOTAL |= {"avg_ms": 40.0, "p50_ms": 30.0, "p90_ms": 80.0, "p95_ms": 120.0, "p99_ms": 300.0}
LOST = {"declared": True, "ok": False, "sent": 10, "acknowledged": 9, "stored": 9}
LOST |= {"missing": 1, "duplicated": 1, "unexpected": 0, "unacknowledged": 1}
LOST |= {"missing_examples": [["a1", "t1"]], "duplicated_examples": [["a2", "t2"]]}


def _summary(thresholds: list[str], reconciliation: dict[str, Any] | None) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "run_id": "run-42",
        "host": "http://127.0.0.1:8000",
        "target": "moni",
        "wall_time_s": 61.25,
        "total": TOTAL,
        "endpoints": [],
        "personas": {},
    }
    if reconciliation is not None:
        summary["reconciliation"] = reconciliation
    summary["thresholds"] = evaluate_thresholds(thresholds, summary)
    return summary


def _written(tmp_path: Path, summary: dict[str, Any]) -> ET.Element:
    path = tmp_path / "reports" / "load.xml"
    write_junit(path, summary)
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.parse(path).getroot()


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.attrib["name"]: case for case in root.iter("testcase")}


def test_one_suite_with_a_case_per_threshold_and_one_for_reconciliation(tmp_path: Path) -> None:
    ok = {"declared": True, "ok": True, "sent": 3, "acknowledged": 3, "stored": 3}
    ok |= {"missing": 0, "duplicated": 0, "unexpected": 0}
    summary = _summary(["p95<300ms", "failures < 0.5%", "GET /x: p95<1s"], ok)
    root = _written(tmp_path, summary)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.attrib == {
        "name": "monilab load",
        "tests": "4",
        "failures": "2",
        "errors": "0",
        "skipped": "0",
        "time": "61.250",
    }
    assert {k: root.attrib[k] for k in ("tests", "failures", "skipped")} == {
        "tests": "4",
        "failures": "2",
        "skipped": "0",
    }
    properties = {p.attrib["name"]: p.attrib["value"] for p in suite.iter("property")}
    assert properties == {"run_id": "run-42", "host": "http://127.0.0.1:8000", "target": "moni"}
    cases = _cases(root)
    assert list(cases) == ["p95<300ms", "failures < 0.5%", "GET /x: p95<1s", "reconciliation"]
    assert [case.attrib["classname"] for case in cases.values()] == [
        "monilab.load.thresholds",
        "monilab.load.thresholds",
        "monilab.load.thresholds",
        "monilab.load.reconciliation",
    ]
    assert all(case.attrib["time"] == "0.000" for case in cases.values())
    assert list(cases["p95<300ms"]) == [] and list(cases["reconciliation"]) == []


def test_a_failed_threshold_says_value_and_limit(tmp_path: Path) -> None:
    cases = _cases(_written(tmp_path, _summary(["failures < 0.5%"], None)))
    failure = cases["failures < 0.5%"].find("failure")
    assert failure is not None and failure.attrib["type"] == "threshold"
    assert failure.attrib["message"] == "failures = 1%, limit < 0.5%: fail"
    assert "value: 0.01" in (failure.text or "")


def test_no_data_is_a_failure_with_the_reason(tmp_path: Path) -> None:
    cases = _cases(_written(tmp_path, _summary(["persona ghost: p95<1s"], None)))
    failure = cases["persona ghost: p95<1s"].find("failure")
    assert failure is not None and failure.attrib["type"] == "no data"
    assert failure.attrib["message"].startswith("p95: no data (no persona ghost in the run")


def test_lost_writes_fail_the_reconciliation_case_with_counts(tmp_path: Path) -> None:
    root = _written(tmp_path, _summary([], LOST))
    failure = _cases(root)["reconciliation"].find("failure")
    assert failure is not None and failure.attrib["type"] == "reconciliation"
    assert failure.attrib["message"] == (
        "writes lost: sent=10 acknowledged=9 stored=9 missing=1 duplicated=1 unexpected=0"
    )
    assert "missing example: a1 t1" in (failure.text or "")
    assert "duplicated example: a2 t2" in (failure.text or "")
    assert root.find("testsuite").attrib["failures"] == "1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("reconciliation", "message"),
    [
        (None, "reconciliation skipped (--no-reconcile)"),
        (
            {"declared": False, "ok": None, "note": "reconciliation: not declared by the target"},
            "reconciliation: not declared by the target",
        ),
    ],
)
def test_a_reconciliation_not_made_is_skipped(
    tmp_path: Path, reconciliation: dict[str, Any] | None, message: str
) -> None:
    root = _written(tmp_path, _summary(["p95<300"], reconciliation))
    skipped = _cases(root)["reconciliation"].find("skipped")
    assert skipped is not None and skipped.attrib["message"] == message
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.attrib["tests"], suite.attrib["failures"], suite.attrib["skipped"]) == (
        "2",
        "0",
        "1",
    )


def test_text_is_escaped_and_control_characters_dropped(tmp_path: Path) -> None:
    summary = _summary(['GET /a&b "<x>": p95<1s'], None)
    summary["run_id"] = "run\x07-1"
    root = _written(tmp_path, summary)
    assert 'GET /a&b "<x>": p95<1s' in _cases(root)
    assert next(root.iter("property")).attrib["value"] == "run-1"


def test_a_summary_without_thresholds_or_wall_time_is_still_a_valid_file(tmp_path: Path) -> None:
    root = _written(tmp_path, {"run_id": "r"})
    suite = root.find("testsuite")
    assert suite is not None and suite.attrib["time"] == "0.000"
    assert list(_cases(root)) == ["reconciliation"]


def test_an_unwritable_path_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(MonilabError, match=r"^cannot write the JUnit file .*file/load\.xml"):
        write_junit(blocker / "load.xml", {"run_id": "r"})
