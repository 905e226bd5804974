"""Real journeys: Chromium against ``monilab serve`` on 127.0.0.1 (marked integration)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monilab.cli.main import main
from monilab.contracts.datasets import read_dataset
from monilab.lab.appprocess import AppProcess
from sim.browser import BrowseOptions, Step, build_journey, demo_plans, run_browse, run_journey
from sim.plan.records import AgentPlan, read_plan, write_plan
from sim.targets.journeys import parse_journey
from sim.targets.spec import TargetSpec
from target_app.requestlog import read_records

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _requests_of(app: AppProcess, run_id: str) -> list[dict]:
    records = read_records(app.data_dir / "request-log")
    return [r for _, _, r in records if r is not None and r.get("run_id") == run_id]


def test_journeys_end_to_end_through_the_cli(
    chromium: Path, live_app: AppProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = demo_plans(2, seed=11, spendings=3)
    plan_file = tmp_path / "plan.jsonl"
    write_plan(plan_file, plans)
    out = tmp_path / "out"
    argv = [
        "browse", "--host", live_app.url, "--agents", "2", "--concurrency", "2",
        "--out", str(out), "--plan", str(plan_file), "--run-id", "it-journey",
        "--max-spendings", "2", "--timeout-s", "20",
    ]  # fmt: skip
    code = main(argv)
    summary = json.loads((out / "browser_summary.json").read_text(encoding="utf-8"))
    assert code == 0, summary["failures"]
    line = capsys.readouterr().out.strip()
    assert line.startswith("monilab browse: 2/2 journeys ok") and "\n" not in line

    assert summary["journeys"] == {"total": 2, "ok": 2, "failed": 0}
    assert summary["journeys_per_minute"] > 0
    assert summary["peak_memory"]["browser_mib"] > 0
    assert summary["pages"]["add_spending"]["loads"] == 4
    assert summary["pages"]["signup"]["load_ms"]["p95"] is not None

    dataset = read_dataset(out / "events")
    assert dataset.partitions("events") == ["source=browser"]
    events = dataset.frame("events")
    agent_ids = {p.agent_id for p in plans}
    assert set(events["agent_id"]) == agent_ids
    assert (events["source"] == "browser").all() and (events["run_id"] == "it-journey").all()
    assert (events["status"] == 200).all()
    for column in ("ttfb_ms", "dom_content_loaded_ms", "load_ms", "latency_ms", "bytes"):
        assert events[column].notna().all(), column
    assert events["lcp_ms"].notna().any()
    skeleton = {"signup", "mydata_start", "home", "add_spending", "history_day", "history",
                "analysis", "type", "goals", "notifications", "logout", "login"}  # fmt: skip
    assert skeleton <= set(events["page"])
    assert set(events.loc[events["page"] == "history_day", "route"]) == {"/spending-history/<day>/"}

    logged = _requests_of(live_app, "it-journey")
    assert {r["source"] for r in logged} == {"browser"}
    assert {r["agent_id"] for r in logged} == agent_ids
    posted = [r for r in logged if r["method"] == "POST" and r["route"] == "/spending/new/"]
    assert [r["status"] for r in posted] == [302] * 4
    assert sum(r["route"] == "/goal/set/" and r["method"] == "POST" for r in logged) == 2


def _declared(name: str, step: dict) -> Step:
    """A step running a one-step journey declared as a target file would declare it."""
    journey = parse_journey(name, {"steps": [step]})
    return Step(name, lambda tab: run_journey(tab, journey, {}))


def _broken_journey(target: TargetSpec, plan: AgentPlan, max_spendings: int) -> list[Step]:
    """Sign up, then one step that must fail: a page that 404s, or a selector that is not there."""
    steps = build_journey(target, plan, max_spendings)[:1]
    if plan.agent_index == 0:
        steps.append(_declared("missing_page", {"goto": "/no-such-page/"}))
    else:
        steps.append(_declared("wrong_selector", {"click": {"test_id": "nope"}}))
    return [*steps, _declared("never_reached", {"goto": "/"})]


def test_a_failed_step_leaves_a_screenshot_and_its_url(
    chromium: Path, live_app: AppProcess, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    options = BrowseOptions(
        host=live_app.url, out=out, agents=2, concurrency=2, run_id="it-fail", timeout_s=2
    )
    summary = run_browse(options, plans=demo_plans(2, seed=12), journey=_broken_journey)

    assert summary["journeys"] == {"total": 2, "ok": 0, "failed": 2}
    assert summary["step_failures"] == {"missing_page": 1, "wrong_selector": 1}
    failures = {f["step"]: f for f in summary["failures"]}
    assert failures["missing_page"]["url"].endswith("/no-such-page/")
    assert "HTTP 404" in failures["missing_page"]["error"]
    assert failures["wrong_selector"]["url"].endswith("/mydata/start/")
    assert "Timeout" in failures["wrong_selector"]["error"]
    for failure in failures.values():
        png = out / failure["screenshot"]
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    events = read_dataset(out / "events").frame("events")
    missing = events[events["page"] == "unknown"]
    assert list(missing["status"]) == [404] and list(missing["route"]) == ["<unmatched>"]


def test_journey_from_the_population(chromium: Path, live_app: AppProcess, tmp_path: Path) -> None:
    pytest.importorskip("sim.agents.population", reason="the population API is not available")
    out = tmp_path / "out"
    argv = [
        "browse", "--host", live_app.url, "--agents", "1", "--concurrency", "1",
        "--out", str(out), "--seed", "7", "--days", "7", "--max-spendings", "1",
        "--run-id", "it-population",
    ]  # fmt: skip
    assert main(argv) == 0
    (planned,) = read_plan(out / "plan.jsonl")
    summary = json.loads((out / "browser_summary.json").read_text(encoding="utf-8"))
    assert summary["by_agent"][0]["agent_id"] == planned.agent_id
    assert {r["agent_id"] for r in _requests_of(live_app, "it-population")} == {planned.agent_id}


def test_an_agent_whose_account_exists_logs_in_instead(
    chromium: Path, live_app: AppProcess, tmp_path: Path
) -> None:
    plans = demo_plans(1, seed=13, spendings=1)
    for attempt in ("first", "again"):  # the same run id: the same email and password
        options = BrowseOptions(
            host=live_app.url, out=tmp_path / attempt, agents=1, run_id="it-exists"
        )
        summary = run_browse(options, plans=plans)
        assert summary["journeys"]["ok"] == 1, summary["failures"]
    events = read_dataset(tmp_path / "again" / "events").frame("events")
    signup = events[events["page"] == "signup"]
    assert list(signup["status"]) == [200, 409]  # the form, then "this email is taken"
    assert list(events["page"])[2:4] == ["login", "home"]  # the login journey instead
    assert "mydata_start" in set(events["page"])  # its accounts are linked: nothing to submit
