"""A browser session: one Chromium, one context per agent, bounded concurrency, outputs.

:func:`run_browse` is what ``monilab browse`` calls. It reads the target (``--target``,
Moni's by default), which must declare browser journeys, checks the app answers the
target's health path, takes the agents' plans, launches one Chromium through Playwright's
async API and runs every agent's journey in its own browser context (at most
``concurrency`` at a time, through an :class:`asyncio.Semaphore`), with the target's
locale and time zone. Every context sends ``X-Run-Id``, ``X-Agent-Id`` and
``X-Source: browser`` with each request, so the app's request log attributes the traffic.
Outputs in ``out``:

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from monilab.contracts.datasets import DatasetWriter
from monilab.contracts.errors import MonilabError
from monilab.contracts.tables import empty_table
from sim import targets
from sim.browser.journey import JourneyBuilder, Step, build_journey
from sim.browser.memory import MemorySampler
from sim.browser.options import BrowseOptions
from sim.browser.pages import AgentTab, JourneyError
from sim.browser.plans import plans_from_file, plans_from_population
from sim.browser.summary import JourneyResult, StepFailure, build_summary, write_summary
from sim.health import check_healthz
from sim.plan.records import AgentPlan, write_plan
from sim.targets.spec import TargetSpec

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

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


@dataclass(frozen=True)
class _Session:
    """What every journey of a session shares."""

    options: BrowseOptions
    run_id: str
    target: TargetSpec
    events: list[dict[str, Any]]


def browser_target(value: str) -> TargetSpec:
    """The target ``value`` names (the bundled Moni target for ""), with its journeys;
    MonilabError in one line when it declares none."""
    target = targets.load(value or None)
    if not isinstance(target, TargetSpec) or not target.journeys:
        name = value or getattr(target, "path", "moni")
        raise MonilabError(f"target {name} declares no browser journeys")
    return target


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
        journey: Builds an agent's steps from the target, its plan and ``max_spendings``.
    """
    started = time.monotonic()
    target = browser_target(options.target)
    health = targets.health_path(target)
    if health:
        check_healthz(options.host, health)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("events", "screenshots"):
        shutil.rmtree(out / stale, ignore_errors=True)  # outputs of an earlier session
    run_id = options.run_id or time.strftime("browse-%Y%m%d-%H%M%S")
    plans, plan_source = _agents(options, plans)
    jobs = [(plan, journey(target, plan, options.max_spendings)) for plan in plans]
    log.info(
        "browse: %d journeys on %s (target %s), %d at a time (run %s)",
        len(jobs),
        options.host,
        target.name,
        options.concurrency,
        run_id,
    )
    session = _Session(options, run_id, target, [])
    results, journeys_s, memory = asyncio.run(_run_session(session, jobs))
    _write_events(session)
    meta = {
        "run_id": run_id,
        "host": options.host,
        "target": target.name,
        "agents": len(jobs),
        "concurrency": options.concurrency,
        "max_spendings": options.max_spendings,
        "plan": plan_source,
        "events": {"dataset": "events", "rows": len(session.events)},
    }
    summary = build_summary(
        results=results,
        events=session.events,
        journeys_s=journeys_s,
        wall_s=time.monotonic() - started,
        memory=memory,
        meta=meta,
    )
    write_summary(out / SUMMARY_NAME, summary)
    return summary


def _write_events(session: _Session) -> None:
    events, out = session.events, session.options.out
    with DatasetWriter(out / "events", sources=["monilab browse"], overwrite=True) as writer:
        table = pa.Table.from_pylist(events) if events else empty_table("events")
        writer.write("events", table, partition="source=browser")
        writer.meta.update(run_id=session.run_id, host=session.options.host)


def _agents(
    options: BrowseOptions, plans: Sequence[AgentPlan] | None
) -> tuple[list[AgentPlan], str]:
    """The agents to send (the given ones, or from ``options``) and where they came from."""
    if plans is not None:
        return list(plans)[: options.agents], "given"
    source = str(options.plan) if options.plan else f"population (seed {options.seed})"
    return _plans(options)[: options.agents], source


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


async def _run_session(
    session: _Session, jobs: Sequence[tuple[AgentPlan, list[Step]]]
) -> tuple[list[JourneyResult], float, dict[str, Any]]:
    """Launch Chromium, run the journeys, return (results, journeys' seconds, memory)."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    options = session.options
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
                *(_journey(browser, gate, session, plan, steps) for plan, steps in jobs)
            )
            journeys_s = time.monotonic() - first
            await sampler.stop()
        finally:
            await browser.close()
    done = sum(1 for r in results if r.ok)
    log.info("browse: %d/%d journeys ok in %.1fs", done, len(results), journeys_s)
    return list(results), journeys_s, sampler.report()


async def _new_context(browser: Browser, session: _Session, plan: AgentPlan) -> BrowserContext:
    """A browser context for the agent: its headers, the target's locale and time zone."""
    options, spec = session.options, session.target.browser
    context = await browser.new_context(
        base_url=options.host,
        extra_http_headers={
            "X-Run-Id": session.run_id,
            "X-Agent-Id": plan.agent_id,
            "X-Source": "browser",
        },
        locale=spec.locale,
        timezone_id=spec.timezone,
    )
    context.set_default_timeout(options.timeout_s * 1000)
    context.set_default_navigation_timeout(options.timeout_s * 1000)
    return context


def _tab(page: Page, session: _Session, plan: AgentPlan) -> AgentTab:
    return AgentTab(
        page,
        plan=plan,
        run_id=session.run_id,
        events=session.events,
        host=session.options.host,
        pages=session.target.browser.pages,
        timeout_s=session.options.timeout_s,
    )


async def _journey(
    browser: Browser,
    gate: asyncio.Semaphore,
    session: _Session,
    plan: AgentPlan,
    steps: Sequence[Step],
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
            context = await _new_context(browser, session, plan)
            page = await context.new_page()
            tab = _tab(page, session, plan)
            for current in steps:
                step = current.name
                await current.run(tab)
                done += 1
        except Exception as exc:  # a failed step fails this journey, never the session
            if not isinstance(exc, (PlaywrightError, JourneyError)):
                log.exception("browse: %s: unexpected error at %s", plan.agent_id, step)
            failure = await _failure(page, session.options.out, plan.agent_id, step, exc)
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
    _log_result(result)
    return result


def _log_result(result: JourneyResult) -> None:
    failure = result.failure
    if failure:
        log.warning(
            "browse: %s failed at %s (%s): %s",
            failure.agent_id,
            failure.step,
            failure.url,
            failure.error,
        )
    else:
        log.info(
            "browse: %s done, %d steps in %.1fs", result.agent_id, result.steps_done, result.seconds
        )


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
