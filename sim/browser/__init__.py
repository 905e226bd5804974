"""Playwright journeys of agents through target_app's HTML pages (``monilab browse``).

Public API:

- :class:`~sim.browser.options.BrowseOptions` and :func:`~sim.browser.runner.run_browse`:
  run a browser session (one Chromium, one context per agent, bounded concurrency) and
  write ``browser_summary.json`` and the ``events`` dataset;
- :func:`~sim.browser.journey.build_journey` and :class:`~sim.browser.journey.Step`: an
  agent's journey from its plan (a custom builder can be passed to ``run_browse``);
- :class:`~sim.browser.pages.AgentTab`, :data:`~sim.browser.pages.PAGES`: navigation that
  records page timings and checks the landing page;
- :func:`~sim.browser.plans.demo_plans`: small seeded plans for smoke tests and benchmarks.

Importing this package imports neither Playwright nor the population.
"""

from sim.browser.journey import Step, build_journey
from sim.browser.options import BrowseOptions
from sim.browser.pages import PAGES, AgentTab, JourneyError, PageSpec
from sim.browser.plans import demo_plans
from sim.browser.runner import run_browse

__all__ = [
    "PAGES",
    "AgentTab",
    "BrowseOptions",
    "JourneyError",
    "PageSpec",
    "Step",
    "build_journey",
    "demo_plans",
    "run_browse",
]
