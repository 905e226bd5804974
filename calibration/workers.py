"""Where a calibration's simulator calls run: inline or in a spawn process pool, with a bar."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

from tqdm import tqdm

__all__ = ["Map", "executor", "pool_map", "pool_mapper", "progress_bar"]

Map = Callable[..., list[Any]]
"""``map(fn, *iterables)`` returning a list (inline or over a process pool)."""


@contextmanager
def executor(jobs: int) -> Iterator[Executor | None]:
    """A spawn process pool of ``jobs`` workers (None, i.e. inline, for one job)."""
    if jobs == 1:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield pool


def pool_map(pool: Executor | None, fn: Callable[..., Any], *iterables: list[Any]) -> list[Any]:
    """``map`` inline (no pool) or over the pool, as a list."""
    if pool is None:
        return list(map(fn, *iterables))
    return list(pool.map(fn, *iterables))


def pool_mapper(pool: Executor | None) -> Map:
    """:func:`pool_map` bound to ``pool``."""
    return partial(pool_map, pool)


def progress_bar(total: int, progress: bool, what: str = "calibrate") -> tqdm:
    """A tqdm bar on stderr (off without ``progress``; tqdm hides it when not a TTY)."""
    return tqdm(total=total, disable=None if progress else True, unit="call", desc=what)
