"""The lab run's configuration: typed, validated once, every flag a config key."""

from __future__ import annotations

import dataclasses

import pytest

from monilab.contracts.errors import MonilabError
from monilab.lab.commands.run import DEMO_CONFIG
from monilab.lab.run import check_stage_plan
from monilab.lab.runconfig import STAGES, RunConfig, known_keys, load_run_config, parse_override


def test_bundled_demo_config_is_valid_and_quick_is_smaller():
    full = load_run_config(DEMO_CONFIG)
    quick = load_run_config(DEMO_CONFIG, quick=True)
    assert full.population.users == 2000 and full.load.users == 40
    assert quick.population.users < full.population.users
    assert quick.load.run_time_s < full.load.run_time_s
    assert quick.calibration.budget < full.calibration.budget
    assert quick.app == full.app  # [quick] only touches what it names


def test_demo_config_names_every_key():
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    for key in known_keys():
        section, name = key.split(".")
        assert f"[{section}]" in text and f"\n{name} = " in text, key


def test_defaults_without_a_file_and_toml_round_trip(tmp_path):
    config = load_run_config(None, overrides=["load.users=3", "run.skip=['browse']"])
    assert config.load.users == 3 and config.run.skip == ["browse"]
    path = tmp_path / "again.toml"
    path.write_text(config.to_toml(), encoding="utf-8")
    assert load_run_config(path) == config


def test_overrides_are_parsed_as_toml_then_as_text():
    assert parse_override("load.users=20") == {"load": {"users": 20}}
    assert parse_override("load.spawn_rate = 2.5") == {"load": {"spawn_rate": 2.5}}
    assert parse_override("calibration.targets=my targets.csv") == {
        "calibration": {"targets": "my targets.csv"}
    }
    assert load_run_config(None, overrides=["load.run_time_s=30"]).load.run_time_s == 30.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[load]\nuserz = 3\n", "unknown key load.userz"),
        ("[lode]\nusers = 3\n", "unknown section [lode]"),
        ('[load]\nusers = "many"\n', "load.users must be int"),
        ("[load]\nusers = 0\n", "load.users must be at least 1"),
        ('[load]\nshape = "zigzag"\n', "expected one of population, ramp, step, spike"),
        ('[population]\nstart = "2024-13-01"\n', "population.start: expected a date YYYY-MM-DD"),
        ('[run]\nskip = ["lunch"]\n', "run.skip 'lunch': expected one of"),
        ("[load\nusers = 3\n", "not valid TOML"),
        ("[quick.load]\nusers = -1\n", "[quick]: load.users must be at least 1"),
    ],
)
def test_bad_config_is_one_clear_error_naming_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MonilabError) as info:
        load_run_config(path, quick=True)
    assert message in str(info.value) and str(path) in str(info.value)


def test_bad_override_and_missing_file_are_clear(tmp_path):
    with pytest.raises(MonilabError, match=r"expected section\.key=value"):
        load_run_config(None, overrides=["users=3"])
    with pytest.raises(MonilabError, match="no such config file"):
        load_run_config(tmp_path / "nope.toml")


def test_every_run_flag_maps_to_a_config_key():
    from monilab.cli.main import build_parser

    run_parser = build_parser()._subparsers._group_actions[0].choices["run"]
    flags = {a.dest for a in run_parser._actions if a.option_strings and a.dest != "help"}
    about_the_invocation = {"config", "quick", "overrides", "overwrite"}
    of_the_app = {"host", "target"}  # app.host, app.target
    for dest in flags - about_the_invocation - of_the_app:
        assert f"run.{dest}" in known_keys(), dest
    assert {f"app.{dest}" for dest in of_the_app} <= set(known_keys())


def test_skipping_a_stage_another_needs_is_refused():
    check_stage_plan(RunConfig())
    skip_serve = dataclasses.replace(RunConfig().run, skip=["serve"])
    with pytest.raises(MonilabError, match="the load stage needs the serve stage"):
        check_stage_plan(dataclasses.replace(RunConfig(), run=skip_serve))
    external = dataclasses.replace(RunConfig().app, host="http://127.0.0.1:8100")
    check_stage_plan(dataclasses.replace(RunConfig(), app=external))  # it stands in for serve
    everything_but_calibrate = [s for s in STAGES if s != "calibrate"]
    only_calibrate = dataclasses.replace(RunConfig().run, skip=everything_but_calibrate)
    check_stage_plan(dataclasses.replace(RunConfig(), run=only_calibrate))
