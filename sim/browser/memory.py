"""Memory of the browser and of this process (psutil).

The browser's footprint is the sum of RSS over this process's descendants whose
executable is the Chromium binary (browser, renderers, GPU and utility processes), sampled
while the journeys run; shared pages are counted once per process, so the sum is an upper
bound; the peak of the summed PSS (shared pages split between their processes, Linux) is
reported next to it. The Playwright driver (node) is reported apart. Python's peak is its
own maximum resident set size.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
from dataclasses import dataclass, field

import psutil

MIB = 1024 * 1024
_GONE = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)
"""A process that ended (or turned unreadable) between listing and reading it."""


def python_peak_mib() -> float:
    """This process's peak resident set size (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class MemorySampler:
    """Samples the browser's and the driver's RSS until stopped; keeps the peaks (MiB).

    Args:
        browser_executable: The Chromium binary the journeys launched.
        interval_s: Seconds between samples.
    """

    browser_executable: str
    interval_s: float = 0.5
    peak_browser_mib: float = 0.0
    peak_browser_pss_mib: float = 0.0
    peak_driver_mib: float = 0.0
    samples: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def sample(self) -> None:
        """Take one sample now."""
        browser = browser_pss = driver = 0
        real = os.path.realpath(self.browser_executable)
        for child in psutil.Process().children(recursive=True):
            try:
                exe = os.path.realpath(child.exe())
                if exe == real:
                    info = child.memory_full_info()
                    browser += info.rss
                    browser_pss += getattr(info, "pss", 0)
                elif os.path.basename(exe) == "node":
                    driver += child.memory_info().rss
            except _GONE:
                continue
        self.peak_browser_mib = max(self.peak_browser_mib, browser / MIB)
        self.peak_browser_pss_mib = max(self.peak_browser_pss_mib, browser_pss / MIB)
        self.peak_driver_mib = max(self.peak_driver_mib, driver / MIB)
        self.samples += 1

    async def _loop(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        """Sample in the background of the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Take a last sample and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()

    def report(self) -> dict[str, float | int]:
        """Peaks in MiB: browser (RSS sum and PSS sum), driver, python, RSS total."""
        python = python_peak_mib()
        return {
            "browser_mib": round(self.peak_browser_mib, 1),
            "browser_pss_mib": round(self.peak_browser_pss_mib, 1),
            "driver_mib": round(self.peak_driver_mib, 1),
            "python_mib": round(python, 1),
            "total_mib": round(self.peak_browser_mib + self.peak_driver_mib + python, 1),
            "samples": self.samples,
        }
