"""The app's HTML pages as the journeys know them, and one agent's tab that visits them.

Each page has a name, the app's URL rule (the request log's ``route``) and the
``data-testid`` of its main heading. :class:`AgentTab` navigates (by URL or by submitting a
form), works out which page it landed on from the final URL, records that page load as an
``events`` row and fails the step (:class:`JourneyError`) on an HTTP error, a refused form
or a page other than the one expected.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from sim.browser.timings import measure, now_kst, timing_event
from sim.plan.records import AgentPlan

if TYPE_CHECKING:
    from playwright.async_api import Page, Response


_PLACEHOLDER = re.compile(r"<[^>]+>")


class JourneyError(Exception):
    """A journey step went wrong in a way the browser did not raise itself."""


@dataclass(frozen=True)
class PageSpec:
    """One HTML page of the app.

    Attributes:
        name: The journey's name of the page (the events' ``page`` column).
        route: The app's URL rule, e.g. ``/spending-history/<day>/``.
        heading: ``data-testid`` of the page's main heading.
    """

    name: str
    route: str
    heading: str

    def matches(self, path: str) -> bool:
        """Whether a URL path is this page."""
        pattern = "[^/]+".join(re.escape(part) for part in _PLACEHOLDER.split(self.route))
        return re.fullmatch(pattern, path) is not None


PAGES: dict[str, PageSpec] = {
    spec.name: spec
    for spec in (
        PageSpec("home", "/", "page-home"),
        PageSpec("signup", "/signup/", "page-signup"),
        PageSpec("login", "/login/", "page-login"),
        PageSpec("logout", "/logout/", "page-logout"),
        PageSpec("mydata_start", "/mydata/start/", "page-mydata-start"),
        PageSpec("add_spending", "/spending/new/", "page-add-spending"),
        PageSpec("history", "/spending-history/", "page-history"),
        PageSpec("history_day", "/spending-history/<day>/", "page-history-day"),
        PageSpec("analysis", "/spending-analysis/", "page-analysis"),
        PageSpec("type", "/spending-type/", "page-type"),
        PageSpec("assets", "/assets/", "page-assets"),
        PageSpec("goals", "/goal/set/", "page-goals"),
        PageSpec("notifications", "/notifications/", "page-notifications"),
        PageSpec("mypage", "/mypage/", "page-mypage"),
        PageSpec("profile_edit", "/profile/edit/", "page-profile-edit"),
    )
}
UNKNOWN_ROUTE = "<unmatched>"
"""The route of a path no page matches (as in the app's request log)."""


def page_for_path(path: str) -> PageSpec | None:
    """The page a URL path belongs to, or None."""
    return next((spec for spec in PAGES.values() if spec.matches(path)), None)


class AgentTab:
    """One agent's browser tab: navigation that records timings and checks where it landed.

    Args:
        page: The Playwright page (in the agent's own browser context).
        plan: The agent whose journey this is.
        run_id: The run's id.
        events: Where page-load rows are appended (shared by the session's journeys).
    """

    def __init__(
        self, page: Page, *, plan: AgentPlan, run_id: str, events: list[dict[str, Any]]
    ) -> None:
        self.page = page
        self.plan = plan
        self.run_id = run_id
        self.events = events

    async def visit(
        self,
        spec: PageSpec,
        *,
        path: str | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> PageSpec:
        """Open a page by URL; returns the page landed on (``spec`` unless it failed)."""
        url = (path or spec.route) + (f"?{urlencode(query)}" if query else "")
        ts, started = now_kst(), time.perf_counter()
        response = await self.page.goto(url)
        landed = await self._landed(spec, response, ts, started, tolerate=())
        assert landed is not None, "no status is tolerated, so a page was landed on"
        return landed

    async def submit(
        self, button: str, expect: PageSpec, *, tolerate: tuple[int, ...] = ()
    ) -> PageSpec | None:
        """Click a form's submit button and follow the redirect to ``expect``.

        Args:
            button: ``data-testid`` of the submit button (the first one if several).
            expect: The page a successful submission lands on.
            tolerate: HTTP statuses of a refused form that the caller handles itself; for
                those None is returned instead of failing the step.
        """
        ts, started = now_kst(), time.perf_counter()
        async with self.page.expect_navigation() as navigation:
            await self.page.get_by_test_id(button).first.click()
        response = await navigation.value
        return await self._landed(expect, response, ts, started, tolerate=tolerate)

    async def _landed(
        self,
        expect: PageSpec,
        response: Response | None,
        ts: Any,
        started: float,
        *,
        tolerate: tuple[int, ...],
    ) -> PageSpec | None:
        if response is None:
            raise JourneyError(f"no response navigating to {expect.route}")
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        landed = page_for_path(urlsplit(self.page.url).path)
        status = response.status
        timing = await measure(self.page)
        body_bytes = None if timing.bytes is not None else len(await response.body())
        self.events.append(
            timing_event(
                timing,
                ts=ts,
                run_id=self.run_id,
                agent_id=self.plan.agent_id,
                page=landed.name if landed else "unknown",
                route=landed.route if landed else UNKNOWN_ROUTE,
                method=response.request.method,
                status=status,
                elapsed_ms=elapsed_ms,
                body_bytes=body_bytes,
            )
        )
        if status in tolerate:
            return None
        if status >= 400:
            raise JourneyError(f"HTTP {status}: {await self._form_error() or 'error page'}")
        if landed != expect:
            name = landed.name if landed else "an unknown page"
            raise JourneyError(f"expected the {expect.name} page, landed on {name}")
        await self.page.get_by_test_id(expect.heading).wait_for(state="visible")
        return landed

    async def _form_error(self) -> str | None:
        error = self.page.get_by_test_id("form-error")
        if await error.count():
            return (await error.first.inner_text()).strip()
        return None
