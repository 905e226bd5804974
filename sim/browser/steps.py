"""Carrying out a declared journey (``[journeys.<action>]`` of a target) in a browser tab.

:func:`run_journey` runs one journey's steps for one agent action with Playwright's async
API. Locators map onto Playwright's: ``role`` → ``get_by_role`` (with ``name``),
``label`` → ``get_by_label``, ``test_id`` → ``get_by_test_id``, ``css`` → ``locator``,
``text`` → ``get_by_text``, and a step acts on the first element found. Page loads go
through :class:`~sim.browser.pages.AgentTab`, which records their timings. A step is
skipped when its ``when`` renders to a false value, when it is ``optional`` and its locator
finds nothing, and (``fill``, ``select``) when its value renders to nothing, like a missing
field left out of a request body. A ``fill`` of a hidden input sets its value directly (a
form's hidden field, such as an idempotency key the plan fixes).

A failed step raises :class:`~sim.browser.pages.JourneyError` naming it:
``steps[3] click test_id='spending-submit': HTTP 422: amount must be ...``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from sim.browser.pages import AgentTab, JourneyError
from sim.targets.journeys import JourneySpec, JourneyStep, Locator
from sim.targets.templates import Template, TemplateError, render_tree

if TYPE_CHECKING:
    from playwright.async_api import Locator as PageLocator
    from playwright.async_api import Page

SET_IF_HIDDEN = """
(el, value) => {
  if (el instanceof HTMLInputElement && el.type === 'hidden') { el.value = value; return true; }
  return false;
}
"""
"""Sets a hidden input's value (Playwright's fill refuses hidden inputs); False otherwise."""

URL_POLL_S = 0.05


async def run_journey(tab: AgentTab, journey: JourneySpec, context: Mapping[str, Any]) -> None:
    """Every step of ``journey`` with ``context`` (``agent``, ``action``, ``run``).

    Raises:
        JourneyError: At the first step that fails, naming it and why.
    """
    from playwright.async_api import Error as PlaywrightError

    for index, step in enumerate(journey.steps):
        try:
            await run_step(tab, step, context)
        except JourneyError as exc:
            raise JourneyError(_where(index, step, exc), status=exc.status) from None
        except (PlaywrightError, TemplateError, AssertionError) as exc:
            raise JourneyError(_where(index, step, exc)) from None


def _where(index: int, step: JourneyStep, exc: Exception) -> str:
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, TemplateError):
        first_line = f"template: {first_line}"
    return f"steps[{index}] {step.describe()}: {first_line}"


async def run_step(tab: AgentTab, step: JourneyStep, context: Mapping[str, Any]) -> None:
    """One step (see the module docstring for when it is skipped)."""
    if step.when is not None and not step.when.render(context):
        return
    if step.kind == "goto":
        await tab.goto(goto_url(step, context))
    elif step.kind == "expect_url":
        await expect_url(tab, str(_render(step.text, context)))
    elif step.kind == "expect_text":
        await expect_text(tab, step, str(_render(step.text, context)))
    else:
        await _act(tab, step, context)


async def _act(tab: AgentTab, step: JourneyStep, context: Mapping[str, Any]) -> None:
    """``fill``, ``select``, ``check`` or ``click`` on the step's element."""
    assert step.locator is not None, "the spec gives every acting step a locator"
    value = _render(step.value, context) if step.value is not None else None
    if step.value is not None and (value is None or value == ""):
        return  # nothing to type or pick, like a missing field
    element = locate(tab.page, step.locator).first
    if step.optional and not await element.count():
        return
    actions: dict[str, Callable[[], Awaitable[Any]]] = {
        "fill": lambda: fill(element, str(value)),
        "select": lambda: element.select_option(str(value)),
        "check": element.check,
        "click": lambda: tab.navigate(element.click),
    }
    await actions[step.kind]()


def locate(page: Page, locator: Locator) -> PageLocator:
    """The Playwright locator of a declared one."""
    if locator.kind == "role":
        role: Any = locator.value  # a WAI-ARIA role; Playwright says which it knows
        return page.get_by_role(role, name=locator.name)
    if locator.kind == "label":
        return page.get_by_label(locator.value)
    if locator.kind == "test_id":
        return page.get_by_test_id(locator.value)
    if locator.kind == "text":
        return page.get_by_text(locator.value)
    return page.locator(locator.value)


async def fill(element: PageLocator, value: str) -> None:
    """Type ``value`` into a field; a hidden input gets it set directly."""
    if not await element.evaluate(SET_IF_HIDDEN, value):
        await element.fill(value)


def goto_url(step: JourneyStep, context: Mapping[str, Any]) -> str:
    """``goto``'s path with its query (parameters rendering to nothing left out)."""
    url = str(_render(step.text, context))
    query = render_tree(step.query, context) if step.query else {}
    if query:
        url += ("&" if "?" in url else "?") + urlencode(query, doseq=True)
    return url


def url_matches(path: str, wanted: str) -> bool:
    """Whether a URL path is ``wanted``: equal to it, or matching it when it is a regular
    expression (it starts with ``^``)."""
    if wanted.startswith("^"):
        return re.search(wanted, path) is not None
    return path == wanted


async def expect_url(tab: AgentTab, wanted: str) -> None:
    """Wait (up to the tab's timeout) until the page's URL path is ``wanted``."""
    deadline = time.monotonic() + tab.timeout_s
    while not url_matches(path := urlsplit(tab.page.url).path, wanted):
        if time.monotonic() > deadline:
            raise JourneyError(f"expected the URL {wanted}, at {path}")
        await asyncio.sleep(URL_POLL_S)


async def expect_text(tab: AgentTab, step: JourneyStep, text: str) -> None:
    """Wait (up to the tab's timeout) until the element, or the page, shows ``text``."""
    from playwright.async_api import expect

    where = locate(tab.page, step.locator).first if step.locator else tab.page.locator("body")
    await expect(where).to_contain_text(text, timeout=tab.timeout_s * 1000)


def _render(template: Template | None, context: Mapping[str, Any]) -> Any:
    return template.render(context) if template is not None else None
