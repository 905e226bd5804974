"""Memory of the browser and of this process, from ``/proc`` (Linux; no psutil).

The browser's footprint is the sum of ``VmRSS`` over this process's descendants whose
executable is the Chromium binary (browser, renderers, GPU and utility processes), sampled
while the journeys run; shared pages are counted once per process, so the sum is an upper
bound; the peak of the summed ``Pss`` (shared pages split between their processes) is
reported next to it. The Playwright driver (node) is reported apart. Python's peak is
``VmHWM``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

_PROC = Path("/proc")


def proc_kib(pid: int | str, key: str, file: str = "status") -> int | None:
    """A ``kB`` field of ``/proc/<pid>/<file>``, or None when the process or field is gone.

    ``status`` has ``VmRSS`` and ``VmHWM``; ``smaps_rollup`` has ``Pss``.
    """
    try:
        text = (_PROC / str(pid) / file).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (children, grandchildren...), as of now."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _executable(pid: int) -> str:
    try:
        return os.readlink(_PROC / str(pid) / "exe")
    except OSError:
        return ""


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
        for pid in descendants(os.getpid()):
            rss = proc_kib(pid, "VmRSS") or 0
            exe = _executable(pid)
            if exe == real:
                browser += rss
                browser_pss += proc_kib(pid, "Pss", "smaps_rollup") or 0
            elif os.path.basename(exe) == "node":
                driver += rss
        self.peak_browser_mib = max(self.peak_browser_mib, browser / 1024)
        self.peak_browser_pss_mib = max(self.peak_browser_pss_mib, browser_pss / 1024)
        self.peak_driver_mib = max(self.peak_driver_mib, driver / 1024)
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
        python = (proc_kib("self", "VmHWM") or 0) / 1024
        return {
            "browser_mib": round(self.peak_browser_mib, 1),
            "browser_pss_mib": round(self.peak_browser_pss_mib, 1),
            "driver_mib": round(self.peak_driver_mib, 1),
            "python_mib": round(python, 1),
            "total_mib": round(self.peak_browser_mib + self.peak_driver_mib + python, 1),
            "samples": self.samples,
        }
