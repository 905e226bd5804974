"""What a browser session is asked to do: the one declaration of the browse options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import check_options, option, parse_base_url, parse_date

CHROMIUM = Path("/usr/lib/chromium/chromium")
"""Debian's real Chromium binary (``/usr/bin/chromium`` is a shell wrapper)."""


@dataclass(frozen=True)
class BrowseOptions:
    """What a browser session is asked to do; validated when created.

    ``extra_args`` are Chromium flags added to :data:`sim.browser.runner.CHROMIUM_ARGS`;
    ``headless`` False shows the windows (code only, no flag).
    """

    host: str = option(
        required=True, parse=parse_base_url, help="base URL of the app, e.g. http://127.0.0.1:8000"
    )
    target: str = option(
        "",
        metavar="FILE",
        help="the target file whose [journeys] the agents follow (docs/targets.md; "
        "default: the bundled Moni target)",
    )
    agents: int = option(4, low=1, high=10_000, help="journeys to run (default 4)")
    concurrency: int = option(2, low=1, high=64, help="journeys at once (default 2)")
    out: Path = option(required=True, help="output directory")
    plan: Path | None = option(
        None, group="source", help="a plan file (default: ask the population)"
    )
    personas: Path | None = option(None, group="source", help="persona file (default: bundled)")
    seed: int = option(7, low=0, help="population seed (default 7)")
    days: int = option(14, low=1, high=366, help="simulated days of decisions")
    start: str = option("2024-03-01", parse=parse_date, help="first simulated day")
    run_id: str | None = option(None, help="X-Run-Id of the run (default: derived from time)")
    max_spendings: int = option(3, low=0, high=100, help="planned spendings entered per journey")
    timeout_s: float = option(15.0, low=0.1, high=600.0, help="limit of each browser action (s)")
    chromium: Path = option(CHROMIUM, help="Chromium executable (default: Debian's)")
    headless: bool = option(True, cli=False)
    extra_args: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        check_options(self)
        if not self.chromium.is_file():
            raise MonilabError(f"no Chromium at {self.chromium} (install Debian's chromium)")
