"""A JUnit XML file of a load run (``monilab load --junit FILE``), for CI test reports.

One ``<testsuite name="monilab load">`` inside ``<testsuites>`` (the layout pytest, Jenkins,
GitLab and GitHub test reporters read) with

- one test case per threshold (classname ``monilab.load.thresholds``, named by its text):
  a ``<failure>`` when it failed or could not be checked (``no data``);
- one test case ``reconciliation`` (classname ``monilab.load.reconciliation``): a
  ``<failure>`` with the counts when writes were lost, ``<skipped>`` when the reconciliation
  was skipped (``--no-reconcile``) or not declared by the target.

A run that could not run (``summary["error"]``: no request sent, a worker lost, a
reconciliation that could not read the app back) is one test case ``run`` with an
``<error>``, so a CI job never reads a missing file as a pass.

The suite's ``time`` is the run's wall time; the checks themselves take none. The run id,
host and target are suite properties. Input is the load summary with its ``thresholds``
results (:func:`sim.load.thresholds.evaluate_thresholds`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError
from sim.load.thresholds import describe_result

SUITE = "monilab load"
THRESHOLD_CLASS = "monilab.load.thresholds"
RECONCILIATION_CLASS = "monilab.load.reconciliation"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_COUNTS = ("sent", "acknowledged", "stored", "missing", "duplicated", "unexpected")


def write_junit(path: str | Path, summary: Mapping[str, Any]) -> None:
    """Write the summary's thresholds and reconciliation as a JUnit XML file at ``path``
    (its directory is created); MonilabError when it cannot be written."""
    path = Path(path)
    tree = ET.ElementTree(junit_document(summary))
    ET.indent(tree)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tree.write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise MonilabError(f"cannot write the JUnit file {path}: {exc.strerror or exc}") from None


def junit_document(summary: Mapping[str, Any]) -> ET.Element:
    """The ``<testsuites>`` element of a load summary (see the module docstring)."""
    if summary.get("error"):
        cases = [error_case(str(summary["error"]))]
    else:
        cases = [threshold_case(result) for result in summary.get("thresholds") or []]
        cases.append(reconciliation_case(summary.get("reconciliation")))
    counts = {
        "tests": str(len(cases)),
        "failures": str(sum(case.find("failure") is not None for case in cases)),
        "errors": str(sum(case.find("error") is not None for case in cases)),
        "skipped": str(sum(case.find("skipped") is not None for case in cases)),
        "time": _seconds(summary.get("wall_time_s")),
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    suite.append(_properties(summary))
    suite.extend(cases)
    return root


def error_case(message: str) -> ET.Element:
    """The test case of a run that could not run: an ``<error>`` saying why."""
    case = _case("run", "monilab.load.run")
    ET.SubElement(case, "error", {"message": _text(message), "type": "could not run"})
    return case


def threshold_case(result: Mapping[str, Any]) -> ET.Element:
    """A test case for one threshold result; a failure unless it passed."""
    case = _case(str(result["expr"]), THRESHOLD_CLASS)
    if not result.get("ok"):
        kind = "no data" if result.get("value") is None else "threshold"
        failure = ET.SubElement(case, "failure", {"message": _text(describe_result(result))})
        failure.set("type", kind)
        failure.text = _text(_details(result))
    return case


def reconciliation_case(reconciliation: Mapping[str, Any] | None) -> ET.Element:
    """The reconciliation test case: passed, failed with its counts, or skipped."""
    case = _case("reconciliation", RECONCILIATION_CLASS)
    if not reconciliation:
        ET.SubElement(case, "skipped", {"message": "reconciliation skipped (--no-reconcile)"})
    elif not reconciliation.get("declared"):
        note = reconciliation.get("note") or "reconciliation: not declared by the target"
        ET.SubElement(case, "skipped", {"message": _text(str(note))})
    elif reconciliation.get("ok") is not True:
        counts = " ".join(f"{key}={reconciliation.get(key)}" for key in _COUNTS)
        failure = ET.SubElement(case, "failure", {"message": f"writes lost: {counts}"})
        failure.set("type", "reconciliation")
        failure.text = _text(_examples(reconciliation))
    return case


def _case(name: str, classname: str) -> ET.Element:
    return ET.Element("testcase", {"name": _text(name), "classname": classname, "time": "0.000"})


def _properties(summary: Mapping[str, Any]) -> ET.Element:
    """``<properties>`` with the run id, host and target (those the summary has)."""
    properties = ET.Element("properties")
    for key in ("run_id", "host", "target"):
        if summary.get(key) is not None:
            ET.SubElement(properties, "property", {"name": key, "value": _text(str(summary[key]))})
    return properties


def _details(result: Mapping[str, Any]) -> str:
    """The failure's body: every field of the threshold result, one per line."""
    return "\n".join(f"{key}: {value}" for key, value in result.items() if value != "")


def _examples(reconciliation: Mapping[str, Any]) -> str:
    """The failure's body: the counts, then example keys of each problem."""
    lines = [f"{key}: {reconciliation.get(key)}" for key in _COUNTS]
    for kind in ("missing", "duplicated", "unexpected"):
        for example in reconciliation.get(f"{kind}_examples") or []:
            lines.append(f"{kind} example: {' '.join(str(part) for part in example)}")
    return "\n".join(lines)


def _seconds(value: Any) -> str:
    """A JUnit ``time`` attribute: seconds with 3 decimals (0 when unknown)."""
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return "0.000"


def _text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (control characters)."""
    return _NOT_XML.sub("", text)
