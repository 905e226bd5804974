"""Typed commands: every command's options survive the trip to a command line and back."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest

from monilab.cli.main import build_parser
from monilab.cli.options import options_from
from monilab.contracts.errors import MonilabError
from monilab.contracts.options import check_options
from monilab.lab.commands import NAMES, command
from monilab.lab.commands.calibrate import SAMPLERS, CalibrateOptions
from monilab.lab.commands.generate import DEFAULT_SHARD_SIZE, GenerateOptions
from monilab.lab.commands.run import RunOptions
from monilab.lab.commands.train import TrainOptions
from sim.browser.options import CHROMIUM, BrowseOptions
from sim.load.options import LoadOptions
from target_app.options import ServeOptions


def _round_trip(name: str, options: object) -> object:
    cmd = command(name)
    line = cmd.command_line(options)
    argv = shlex.split(line)[1:]
    assert argv[0] == name
    args = build_parser().parse_args(argv)
    return options_from(cmd.options, args)


EXAMPLES = {
    "generate": GenerateOptions(
        users=50, days=30, seed=3, personas="p.toml", workers=2, out=Path("o"), overwrite=True
    ),
    "load": LoadOptions(
        host="http://127.0.0.1:9",
        users=8,
        run_time=150.0,
        population=Path("pop"),
        role="master",
        expect_workers=2,
        reconcile=False,
        out=Path("o"),
    ),
    "serve": ServeOptions(port=8123, workers=3, data_dir=Path("d")),
    "train": TrainOptions(data=Path("d"), out=Path("m"), eval_data=Path("e"), trees=10),
    "calibrate": CalibrateOptions(
        personas=Path("p.toml"),
        targets=Path("t.csv"),
        budget=6,
        params=["a.*", "b.*"],
        space="grouped",
        sigma0=0.2,
        out=Path("c"),
        no_resume=True,
    ),
    "run": RunOptions(quick=True, seed=4, skip=["train", "calibrate"], overrides=["load.users=3"]),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_options_survive_the_command_line(name: str) -> None:
    assert _round_trip(name, EXAMPLES[name]) == EXAMPLES[name]


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM}")
def test_browse_options_survive_the_command_line() -> None:
    options = BrowseOptions(host="http://127.0.0.1:9", agents=3, out=Path("b"), run_id="r1")
    assert _round_trip("browse", options) == options


def test_every_command_is_registered_with_its_own_name() -> None:
    assert [command(name).name for name in NAMES] == list(NAMES)
    listed = build_parser().format_help()
    assert all(f"    {name} " in listed for name in NAMES)


def test_defaults_are_left_out_of_the_redo_line() -> None:
    line = command("export").command_line(command("export").options(out=Path("x")))
    assert line == "monilab export --out x"


def test_code_built_options_are_checked_like_flags() -> None:
    with pytest.raises(MonilabError, match="--users must be at least 1, got 0"):
        check_options(dataclasses.replace(EXAMPLES["load"], users=0))
    with pytest.raises(MonilabError, match="--shape 'zigzag': expected one of population"):
        check_options(dataclasses.replace(EXAMPLES["load"], shape="zigzag"))


def test_lab_constants_match_the_packages_they_stand_for() -> None:
    """Cheap copies kept so `monilab --help` does not import optuna or the population."""
    from calibration.search import SAMPLERS as SEARCH_SAMPLERS
    from sim.agents.population import SHARD_SIZE

    assert SAMPLERS == SEARCH_SAMPLERS
    assert DEFAULT_SHARD_SIZE == SHARD_SIZE
