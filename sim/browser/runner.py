"""A browser session: one Chromium, one context per agent, bounded concurrency, outputs.

:func:`run_browse` is what ``monilab browse`` calls. It checks the app answers
``/healthz``, takes the agents' plans, launches one Chromium through Playwright's async API
and runs every agent's journey in its own browser context (at most ``concurrency`` at a
time, through an :class:`asyncio.Semaphore`). Every context sends ``X-Run-Id``,
``X-Agent-Id`` and ``X-Source: browser`` with each request, so the app's request log
attributes the traffic. Outputs in ``out``:

- ``browser_summary.json`` (see :mod:`sim.browser.summary`);
- ``events/``: a dataset with the page loads as an ``events`` table, in its
  ``source=browser`` partition;
- ``screenshots/<agent>-<step>.png`` for every failed journey;
- ``plan.jsonl``: the plans replayed, when they came from the population.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from monilab.contracts.datasets import DatasetWriter
from monilab.contracts.errors import MonilabError
from monilab.contracts.tables import empty_table
from sim.browser.journey import JourneyBuilder, Step, build_journey
from sim.browser.memory import MemorySampler
from sim.browser.options import BrowseOptions
from sim.browser.pages import AgentTab, JourneyError
from sim.browser.plans import plans_from_file, plans_from_population
from sim.browser.summary import JourneyResult, StepFailure, build_summary, write_summary
from sim.health import check_healthz
from sim.plan.records import AgentPlan, write_plan

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

log = logging.getLogger(__name__)

CHROMIUM_ARGS: tuple[str, ...] = (
    "--disable-gpu",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
"""Flags for running as root on a closed network without background requests."""

SUMMARY_NAME = "browser_summary.json"


def run_browse(
    options: BrowseOptions,
    *,
    plans: Sequence[AgentPlan] | None = None,
    journey: JourneyBuilder = build_journey,
) -> dict[str, Any]:
    """Run the journeys and write the outputs; returns the summary.

    Args:
        options: The session's options.
        plans: The agents to use instead of ``options.plan`` or the population.
        journey: Builds an agent's steps from its plan and ``max_spendings``.
    """
    started = time.monotonic()
    check_healthz(options.host)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("events", "screenshots"):
        shutil.rmtree(out / stale, ignore_errors=True)  # outputs of an earlier session
    run_id = options.run_id or time.strftime("browse-%Y%m%d-%H%M%S")
    plan_source = "given"
    if plans is None:
        plans = _plans(options)
        plan_source = str(options.plan) if options.plan else f"population (seed {options.seed})"
    plans = list(plans)[: options.agents]
    jobs = [(plan, journey(plan, options.max_spendings)) for plan in plans]
    log.info(
        "browse: %d journeys, %d at a time, on %s (run %s)",
        len(jobs),
        options.concurrency,
        options.host,
        run_id,
    )
    events: list[dict[str, Any]] = []
    results, journeys_s, memory = asyncio.run(_session(options, run_id, jobs, events))
    with DatasetWriter(out / "events", sources=["monilab browse"], overwrite=True) as writer:
        table = pa.Table.from_pylist(events) if events else empty_table("events")
        writer.write("events", table, partition="source=browser")
        writer.meta.update(run_id=run_id, host=options.host)
    meta = {
        "run_id": run_id,
        "host": options.host,
        "agents": len(jobs),
        "concurrency": options.concurrency,
        "max_spendings": options.max_spendings,
        "plan": plan_source,
        "events": {"dataset": "events", "rows": len(events)},
    }
    summary = build_summary(
        results=results,
        events=events,
        journeys_s=journeys_s,
        wall_s=time.monotonic() - started,
        memory=memory,
        meta=meta,
    )
    write_summary(out / SUMMARY_NAME, summary)
    return summary


def _plans(options: BrowseOptions) -> list[AgentPlan]:
    if options.plan is not None:
        return plans_from_file(options.plan, options.agents)
    plans = plans_from_population(
        options.agents,
        seed=options.seed,
        days=options.days,
        start=options.start,
        personas=options.personas,
    )
    write_plan(options.out / "plan.jsonl", plans)
    return plans


async def _session(
    options: BrowseOptions,
    run_id: str,
    jobs: Sequence[tuple[AgentPlan, list[Step]]],
    events: list[dict[str, Any]],
) -> tuple[list[JourneyResult], float, dict[str, Any]]:
    """Launch Chromium, run the journeys, return (results, journeys' seconds, memory)."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    sampler = MemorySampler(str(options.chromium))
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(
                executable_path=str(options.chromium),
                args=[*CHROMIUM_ARGS, *options.extra_args],
                headless=options.headless,
            )
        except PlaywrightError as exc:
            first_line = (str(exc).strip().splitlines() or ["unknown error"])[0]
            raise MonilabError(f"Chromium {options.chromium} did not start: {first_line}") from None
        log.info("browse: Chromium %s started", browser.version)
        sampler.start()
        gate = asyncio.Semaphore(options.concurrency)
        first = time.monotonic()
        try:
            results = await asyncio.gather(
                *(
                    _journey(browser, gate, options, run_id, plan, steps, events)
                    for plan, steps in jobs
                )
            )
            journeys_s = time.monotonic() - first
            await sampler.stop()
        finally:
            await browser.close()
    done = sum(1 for r in results if r.ok)
    log.info("browse: %d/%d journeys ok in %.1fs", done, len(results), journeys_s)
    return list(results), journeys_s, sampler.report()


async def _journey(
    browser: Browser,
    gate: asyncio.Semaphore,
    options: BrowseOptions,
    run_id: str,
    plan: AgentPlan,
    steps: Sequence[Step],
    events: list[dict[str, Any]],
) -> JourneyResult:
    """One agent's journey in its own browser context; a failed step ends it.

    Any error of a step (the browser's, the app's, or a plan payload the form cannot take)
    is recorded as that journey's failure; errors that are not the browser's or the app's
    are also logged with their traceback.
    """
    from playwright.async_api import Error as PlaywrightError

    async with gate:
        started = time.monotonic()
        context = page = None
        step, done = "open_context", 0
        failure = None
        try:
            context = await browser.new_context(
                base_url=options.host,
                extra_http_headers={
                    "X-Run-Id": run_id,
                    "X-Agent-Id": plan.agent_id,
                    "X-Source": "browser",
                },
                locale="ko-KR",
                timezone_id="Asia/Seoul",
            )
            context.set_default_timeout(options.timeout_s * 1000)
            context.set_default_navigation_timeout(options.timeout_s * 1000)
            page = await context.new_page()
            tab = AgentTab(page, plan=plan, run_id=run_id, events=events)
            for current in steps:
                step = current.name
                await current.run(tab)
                done += 1
        except Exception as exc:  # a failed step fails this journey, never the session
            if not isinstance(exc, (PlaywrightError, JourneyError)):
                log.exception("browse: %s: unexpected error at %s", plan.agent_id, step)
            failure = await _failure(page, options.out, plan.agent_id, step, exc)
        finally:
            if context is not None:
                with contextlib.suppress(PlaywrightError):
                    await context.close()
    result = JourneyResult(
        agent_id=plan.agent_id,
        persona=plan.persona,
        steps=len(steps),
        steps_done=done,
        seconds=time.monotonic() - started,
        failure=failure,
    )
    if failure:
        log.warning(
            "browse: %s failed at %s (%s): %s",
            plan.agent_id,
            failure.step,
            failure.url,
            failure.error,
        )
    else:
        log.info("browse: %s done, %d steps in %.1fs", plan.agent_id, done, result.seconds)
    return result


async def _failure(
    page: Page | None, out: Path, agent_id: str, step: str, exc: Exception
) -> StepFailure:
    """Record a failed step: its URL, a full-page screenshot and the error's first line."""
    from playwright.async_api import Error as PlaywrightError

    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
    if page is None:
        return StepFailure(agent_id=agent_id, step=step, url="", screenshot=None, error=message)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{agent_id}-{step}").strip("_") + ".png"
    path = out / "screenshots" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        await page.screenshot(path=str(path), full_page=True, timeout=10_000)
        screenshot: str | None = path.relative_to(out).as_posix()
    except PlaywrightError as shot_error:
        log.warning("browse: no screenshot of %s at %s: %s", agent_id, step, shot_error)
        screenshot = None
    return StepFailure(
        agent_id=agent_id, step=step, url=page.url, screenshot=screenshot, error=message
    )
