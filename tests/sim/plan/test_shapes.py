"""Load shapes as functions of elapsed time."""

from __future__ import annotations

import pytest

from sim.plan.shapes import ShapeSpec, parse_activity, users_at


def test_ramp_rises_then_holds_and_ends():
    spec = ShapeSpec("ramp", peak_users=40, spawn_rate=10, run_time=100)
    assert users_at(spec, 0) == 1
    assert users_at(spec, 12.5) == 20
    assert users_at(spec, 25) == 40
    assert users_at(spec, 99) == 40
    assert users_at(spec, 100) is None


def test_step_has_equal_increments():
    spec = ShapeSpec("step", peak_users=40, spawn_rate=10, run_time=80, steps=4)
    assert [users_at(spec, t) for t in (1, 21, 41, 61)] == [10, 20, 30, 40]


def test_spike_bursts_in_the_middle():
    spec = ShapeSpec("spike", peak_users=50, spawn_rate=50, run_time=100)
    assert users_at(spec, 10) == 10
    assert users_at(spec, 50) == 50
    assert users_at(spec, 70) == 10


def test_population_shape_follows_the_diurnal_profile():
    activity = [1.0] * 24
    activity[12] = 4.0  # lunch peak
    spec = ShapeSpec(
        "population",
        peak_users=100,
        spawn_rate=10,
        run_time=7200,
        hourly_activity=activity,
        time_scale=3600.0,
        start_hour=0.0,
    )
    # One simulated hour per real second: second 12 is noon.
    assert users_at(spec, 12) == 100
    assert users_at(spec, 3) == 25
    assert users_at(spec, 12.5) == round(100 * 2.5 / 4)
    assert users_at(spec, 36) == 100  # the next day


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "wave"}, "shape must be one of"),
        ({"peak_users": 0}, "at least 1"),
        ({"kind": "population", "hourly_activity": [1.0] * 23}, "24 non-negative"),
    ],
)
def test_bad_specs_are_refused(kwargs, message):
    base = {"kind": "ramp", "peak_users": 5, "spawn_rate": 1, "run_time": 10}
    with pytest.raises(ValueError, match=message):
        ShapeSpec(**{**base, **kwargs})


def test_parse_activity():
    assert parse_activity(",".join(["1"] * 24)) == [1.0] * 24
    with pytest.raises(ValueError, match="24 numbers"):
        parse_activity("1,2,3")
