"""Playwright journeys of agents through an app's HTML pages (``monilab browse``).

The journeys are declared in the app's target file (``[journeys]``, ``docs/targets.md``);
Moni's are in the bundled ``sim/targets/moni.toml``. Public API:

- :class:`~sim.browser.options.BrowseOptions` and :func:`~sim.browser.runner.run_browse`:
  run a browser session (one Chromium, one context per agent, bounded concurrency) and
  write ``browser_summary.json`` and the ``events`` dataset;
- :func:`~sim.browser.journey.build_journey` and :class:`~sim.browser.journey.Step`: an
  agent's journey from the target and its plan (a custom builder can be passed to
  ``run_browse``);
- :func:`~sim.browser.steps.run_journey`: one declared journey carried out in a tab;
- :class:`~sim.browser.pages.AgentTab`: navigation that records page timings;
- :func:`~sim.browser.plans.demo_plans`: small seeded plans for smoke tests and benchmarks.

Importing this package imports neither Playwright nor the population.
"""

from sim.browser.journey import Step, build_journey
from sim.browser.options import BrowseOptions
from sim.browser.pages import AgentTab, JourneyError
from sim.browser.plans import demo_plans
from sim.browser.runner import run_browse
from sim.browser.steps import run_journey

__all__ = [
    "AgentTab",
    "BrowseOptions",
    "JourneyError",
    "Step",
    "build_journey",
    "demo_plans",
    "run_browse",
    "run_journey",
]
