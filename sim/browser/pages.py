"""One agent's browser tab: navigation that records every page load with its timings.

:class:`AgentTab` runs the navigating steps of a journey (a ``goto``, or a click that
submits a form or follows a link). It watches the main frame's document responses, so
whatever a step does, a page load it caused is found, awaited until the load event and
recorded as an ``events`` row: the page's name comes from the target's ``[browser.pages]``
(``unknown`` when none matches; the path itself when the target names no pages), the status
and method from the final response (GET after a redirect). A load answered with an HTTP
error fails the step (:class:`JourneyError`, with the page's alert text when it shows one).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sim.browser.timings import measure, now_kst, timing_event
from sim.plan.records import AgentPlan
from sim.targets.journeys import PageSpec

if TYPE_CHECKING:
    from playwright.async_api import Page, Response

UNKNOWN_ROUTE = "<unmatched>"
"""The route of a path no page matches (as in the app's request log)."""


class JourneyError(Exception):
    """A journey step went wrong in a way the browser did not raise itself.

    Attributes:
        status: The HTTP status of the page load that failed the step, if one did.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def page_for_path(pages: Sequence[PageSpec], path: str) -> PageSpec | None:
    """The named page a URL path belongs to, or None."""
    return next((spec for spec in pages if spec.matches(path)), None)


def page_name(pages: Sequence[PageSpec], path: str) -> tuple[str, str]:
    """(page, route) of a URL path for the events: the named page's, ``unknown`` and
    ``<unmatched>`` when no named page matches, the path itself when no page is named."""
    if not pages:
        return path, path
    spec = page_for_path(pages, path)
    return (spec.name, spec.route) if spec else ("unknown", UNKNOWN_ROUTE)


class AgentTab:
    """One agent's browser tab (see the module docstring).

    Args:
        page: The Playwright page (in the agent's own browser context).
        plan: The agent whose journey this is.
        run_id: The run's id.
        events: Where page-load rows are appended (shared by the session's journeys).
        host: The app's base URL (for what a journey does over HTTP).
        pages: The app's named pages.
        timeout_s: How long ``expect_*`` steps wait.
    """

    def __init__(
        self,
        page: Page,
        *,
        plan: AgentPlan,
        run_id: str,
        events: list[dict[str, Any]],
        host: str = "",
        pages: Sequence[PageSpec] = (),
        timeout_s: float = 15.0,
    ) -> None:
        self.page, self.plan, self.run_id, self.events = page, plan, run_id, events
        self.host, self.pages, self.timeout_s = host, tuple(pages), timeout_s
        self._loads = 0
        self._last: Response | None = None
        page.on("response", self._on_response)

    def _on_response(self, response: Response) -> None:
        if response.request.is_navigation_request() and response.frame == self.page.main_frame:
            self._loads += 1
            self._last = response

    async def goto(self, url: str) -> None:
        """Open ``url`` (a path on the app) and record the page load."""
        await self.navigate(lambda: self.page.goto(url))

    async def navigate(self, act: Callable[[], Awaitable[Any]]) -> bool:
        """Do ``act`` (a goto, a click); when it loaded a page, wait for its load event,
        record it and check its status. Returns whether a page was loaded."""
        ts, started = now_kst(), time.perf_counter()
        before = self._loads
        await act()
        if self._loads == before or self._last is None:
            return False
        response = self._last
        await self.page.wait_for_load_state("load")
        await self._record(response, ts, started)
        if response.status >= 400:
            reason = await self._alert() or "error page"
            raise JourneyError(f"HTTP {response.status}: {reason}", status=response.status)
        return True

    async def _record(self, response: Response, ts: Any, started: float) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        page, route = page_name(self.pages, urlsplit(self.page.url).path)
        timing = await measure(self.page)
        body_bytes = None if timing.bytes is not None else len(await response.body())
        self.events.append(
            timing_event(
                timing,
                ts=ts,
                run_id=self.run_id,
                agent_id=self.plan.agent_id,
                page=page,
                route=route,
                method=response.request.method,
                status=response.status,
                elapsed_ms=elapsed_ms,
                body_bytes=body_bytes,
            )
        )

    async def _alert(self) -> str | None:
        """The text of the page's first ``role=alert`` element (a form's error), if any."""
        alert = self.page.get_by_role("alert")
        if await alert.count():
            return (await alert.first.inner_text()).strip()[:200] or None
        return None
