"""Load shapes: how many users are active at each second of a run.

Plain functions of elapsed time, so they are testable without Locust; the locustfile wraps
the chosen one in a ``LoadTestShape``. Every shape ends at ``run_time`` (``None`` stops it).

- ``population``: the active-user count follows the population's diurnal activity
  (expected active agents per simulated hour, from the Mesa model), scaled so the busiest
  hour reaches the peak; simulated time advances ``time_scale`` seconds per real second.
- ``ramp``: linear rise to the peak over the first quarter, then hold.
- ``step``: the peak in ``steps`` equal increments.
- ``spike``: a base load (a fifth of the peak) with a burst to the peak in the middle fifth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SHAPES = ("population", "ramp", "step", "spike")

DEFAULT_TIME_SCALE = 3600.0
"""Simulated seconds per real second: an hour of the agents' day per second of load."""


@dataclass(frozen=True)
class ShapeSpec:
    """The parameters every shape reads.

    Attributes:
        kind: One of :data:`SHAPES`.
        peak_users: Users at the busiest moment (Locust's ``--users``).
        spawn_rate: Users started (or stopped) per second.
        run_time: Seconds the shape lasts.
        hourly_activity: 24 relative activity levels by simulated hour (population shape).
        time_scale: Simulated seconds per real second (population shape).
        start_hour: Simulated hour of day at which the run starts (population shape).
        steps: Increments of the step shape.
    """

    kind: str
    peak_users: int
    spawn_rate: float
    run_time: float
    hourly_activity: Sequence[float] = ()
    time_scale: float = DEFAULT_TIME_SCALE
    start_hour: float = 8.0
    steps: int = 4

    def __post_init__(self) -> None:
        if self.kind not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {self.kind!r}")
        if self.peak_users < 1:
            raise ValueError("peak users must be at least 1")
        if self.run_time <= 0:
            raise ValueError("run time must be positive")
        if self.kind == "population":
            if len(self.hourly_activity) != 24 or min(self.hourly_activity) < 0:
                raise ValueError("population shape needs 24 non-negative hourly activity levels")
            if max(self.hourly_activity) <= 0:
                raise ValueError("population shape needs some activity")


def users_at(spec: ShapeSpec, elapsed: float) -> int | None:
    """Active users at ``elapsed`` seconds into the run, or None once the run is over."""
    if elapsed >= spec.run_time:
        return None
    fraction = elapsed / spec.run_time
    if spec.kind == "ramp":
        return max(1, math.ceil(spec.peak_users * min(1.0, fraction / 0.25)))
    if spec.kind == "step":
        step = min(spec.steps - 1, int(fraction * spec.steps))
        return max(1, round(spec.peak_users * (step + 1) / spec.steps))
    if spec.kind == "spike":
        base = max(1, round(spec.peak_users / 5))
        return spec.peak_users if 0.4 <= fraction < 0.6 else base
    return _population_users(spec, elapsed)


def _population_users(spec: ShapeSpec, elapsed: float) -> int:
    """Interpolate the hourly profile at the current simulated time of day."""
    hour = (spec.start_hour + elapsed * spec.time_scale / 3600.0) % 24.0
    low = int(hour)
    high = (low + 1) % 24
    weight = hour - low
    level = (1 - weight) * spec.hourly_activity[low] + weight * spec.hourly_activity[high]
    return max(1, round(spec.peak_users * level / max(spec.hourly_activity)))


def parse_activity(text: str) -> list[float]:
    """Parse the comma-separated 24 hourly levels passed to Locust on the command line."""
    try:
        levels = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"hourly activity must be 24 numbers, got {text!r}") from None
    if len(levels) != 24:
        raise ValueError(f"hourly activity must be 24 numbers, got {len(levels)}")
    return levels
