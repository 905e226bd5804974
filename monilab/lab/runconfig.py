"""The lab run's configuration: one TOML file, typed dataclasses, validated once.

A run configuration has one table per part of the lab (``[run]``, ``[population]``,
``[app]``, ``[load]``, ``[browser]``, ``[models]``, ``[calibration]``) and an optional
``[quick]`` table of overrides with the same layout, applied by ``monilab run --quick``.
Every key has a default, so an empty file is a valid configuration; an unknown key, a
value of the wrong type or out of range is a :class:`~monilab.contracts.errors.MonilabError` that
names the file and the key. ``monilab run --set section.key=value`` overrides any key.

Example::

    config = load_run_config("configs/demo.toml", quick=True, overrides=["load.users=8"])
    config.load.users  # 8
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import tomli_w

from monilab.contracts.errors import MonilabError, read_toml
from monilab.contracts.options import check_value, option, option_like, parse_date, spec_of
from monilab.lab.commands.calibrate import CalibrateOptions
from monilab.lab.commands.generate import GenerateOptions
from monilab.lab.commands.train import TrainOptions
from sim.browser.options import BrowseOptions
from sim.load.options import LoadOptions
from sim.plan.shapes import DEFAULT_TIME_SCALE

STAGES: tuple[str, ...] = (
    "generate",
    "serve",
    "load",
    "browse",
    "export",
    "reconcile",
    "train",
    "calibrate",
)
"""The lab run's stages, in order (the report is always written at the end)."""


def _spec(default: Any, low: float | None = None, high: float | None = None, **kw: Any) -> Any:
    """A setting with a default and its bounds/choices/help (:func:`option`)."""
    if kw.pop("date", False):
        kw["parse"] = parse_date
    if "choices" in kw:
        kw["choices"] = tuple(kw["choices"])
    return option(default, low=low, high=high, **kw)


@dataclass(frozen=True)
class RunSection:
    """What the whole run does: its seed, output directory and stages to skip."""

    seed: int = _spec(7, 0)
    out: str = _spec("", help="output directory ('' = out/run-<timestamp>)")
    skip: list[str] = option([], choices=STAGES, help="stages to skip")


@dataclass(frozen=True)
class PopulationSection:
    """The labelled synthetic population (``monilab generate``; bounds from its options)."""

    users: int = option_like(GenerateOptions, "users", 2000)
    days: int = option_like(GenerateOptions, "days", 180)
    start: str = option_like(GenerateOptions, "start", "2024-01-01")
    personas: str = _spec("", help="persona TOML ('' = bundled)")
    workers: int = option_like(GenerateOptions, "workers", 2)
    anomaly_rate: float = option_like(GenerateOptions, "anomaly_rate", 0.01)


@dataclass(frozen=True)
class AppSection:
    """The Moni app served for the run (``monilab serve`` on SQLite, its own process)."""

    workers: int = _spec(2, 1, 64)
    threads: int = _spec(4, 1, 64)
    password_hash: str = _spec("pbkdf2:sha256:10000", help="werkzeug hash method for the run")
    startup_timeout_s: float = _spec(60.0, 1.0, 600.0)
    host: str = _spec(
        "",
        help="an app already running elsewhere ('' = serve Moni here): the run then skips "
        "serve, export and reconcile (and browse without journeys in the target), and "
        "trains on the population",
    )
    target: str = _spec("", help="the target file for host ('' = the bundled Moni target)")


EXTERNAL_SKIPS = ("serve", "export", "reconcile")
"""Stages a run against an external app (``app.host``) cannot do: they need Moni itself
(its process, its database). ``browse`` runs when the target declares browser journeys."""


def skipped_stages(config: RunConfig) -> set[str]:
    """``run.skip``, and for an external app the stages only Moni allows (and ``browse``
    when its target declares no journeys)."""
    skipped = set(config.run.skip)
    if config.app.host:
        skipped |= set(EXTERNAL_SKIPS)
        if not _declares_journeys(config.app.target):
            skipped.add("browse")
    return skipped


@functools.cache
def _declares_journeys(target: str) -> bool:
    """Whether the target file declares browser journeys (read once per run: the stage plan
    asks several times)."""
    from sim import targets
    from sim.targets.spec import TargetSpec

    spec = targets.load(target or None)
    return isinstance(spec, TargetSpec) and bool(spec.journeys)


@dataclass(frozen=True)
class LoadSection:
    """Persona-shaped HTTP load (``monilab load``); bounds and help from :class:`LoadOptions`."""

    users: int = option_like(LoadOptions, "users", 40)
    spawn_rate: float = option_like(LoadOptions, "spawn_rate", 10.0)
    run_time_s: float = option_like(LoadOptions, "run_time", 90.0, parse=None)
    shape: str = option_like(LoadOptions, "shape", "population")
    time_scale: float = option_like(LoadOptions, "time_scale", DEFAULT_TIME_SCALE)
    max_wait_s: float = option_like(LoadOptions, "max_wait", 10.0)
    days: int = option_like(LoadOptions, "days", 14)
    start: str = option_like(LoadOptions, "start", "2024-03-01")
    processes: int = option_like(LoadOptions, "processes", 0)
    history: bool = option_like(LoadOptions, "history", True)
    live_days: int = option_like(LoadOptions, "live_days", 3)
    thresholds: list[str] = option_like(LoadOptions, "thresholds", [])  # noqa: RUF009 (a field)


@dataclass(frozen=True)
class BrowserSection:
    """Real Chromium journeys (``monilab browse``); bounds and help from :class:`BrowseOptions`."""

    agents: int = option_like(BrowseOptions, "agents", 6)
    concurrency: int = option_like(BrowseOptions, "concurrency", 3)
    max_spendings: int = option_like(BrowseOptions, "max_spendings", 3)
    timeout_s: float = option_like(BrowseOptions, "timeout_s", 20.0)
    chromium: str = _spec("", help="Chromium executable ('' = Debian's)")


@dataclass(frozen=True)
class ModelsSection:
    """Type, anomaly and forecast models (``monilab train``; bounds from its options)."""

    trees: int = option_like(TrainOptions, "trees", 100)
    test_weeks: int = option_like(TrainOptions, "test_weeks", 4)
    hourly_users: int = option_like(TrainOptions, "hourly_users", 200)
    eval_users: int = _spec(
        500, 0, 1_000_000, help="users of another seed's population to test on (0 = none)"
    )
    perturb: float = option_like(
        GenerateOptions,
        "perturb",
        0.25,
        help="the type models are also tested on eval_users users of a persona file shifted "
        "by up to ± this (0 = no perturbed population)",
    )
    train_on: str = _spec(
        "export",
        choices=("export", "population"),
        help="what the models learn from: the app's export joined to the ground truth "
        "(needs the load's history upload and the export stage) or the generated population",
    )


@dataclass(frozen=True)
class CalibrationSection:
    """Fit the personas to aggregate targets (``monilab calibrate``; bounds from its options)."""

    targets: str = _spec("", help="aggregate targets CSV ('' = bundled Seoul coffee 2024)")
    validate: str = _spec("", help="held-out aggregate targets CSV ('' = none)")
    budget: int = option_like(CalibrateOptions, "budget", 60)
    jobs: int = option_like(CalibrateOptions, "jobs", 2)
    users: int = option_like(CalibrateOptions, "users", 1000)
    days: int = option_like(CalibrateOptions, "days", 30)
    sampler: str = option_like(CalibrateOptions, "sampler", "cmaes")


@dataclass(frozen=True)
class RunConfig:
    """A whole lab run."""

    run: RunSection = field(default_factory=RunSection)
    population: PopulationSection = field(default_factory=PopulationSection)
    app: AppSection = field(default_factory=AppSection)
    load: LoadSection = field(default_factory=LoadSection)
    browser: BrowserSection = field(default_factory=BrowserSection)
    models: ModelsSection = field(default_factory=ModelsSection)
    calibration: CalibrationSection = field(default_factory=CalibrationSection)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The configuration as nested plain values (for run.json and the report)."""
        return dataclasses.asdict(self)

    def to_toml(self) -> str:
        """The configuration as a TOML document that :func:`load_run_config` reads back."""
        return tomli_w.dumps(self.to_dict())


def shared_settings(section: Any, options: type) -> dict[str, Any]:
    """The settings of a config section that ``options`` has under the same name.

    A stage builds a command's options from them plus what only the run knows (paths, seed,
    run id); the values were checked against the same bounds (:func:`option_like`).
    """
    names = {f.name for f in dataclasses.fields(options)}
    return {
        f.name: getattr(section, f.name) for f in dataclasses.fields(section) if f.name in names
    }


def _sections() -> dict[str, type]:
    return {f.name: get_type_hints(RunConfig)[f.name] for f in dataclasses.fields(RunConfig)}


def known_keys() -> list[str]:
    """Every ``section.key`` a configuration may set."""
    return [
        f"{name}.{f.name}" for name, cls in _sections().items() for f in dataclasses.fields(cls)
    ]


def _check_value(where: str, key: str, value: Any, fld: dataclasses.Field, kind: Any) -> Any:
    """``value`` converted to the field's type, or MonilabError naming ``where`` and ``key``."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind == list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MonilabError(f"{where}: {key} must be a list of strings, got {value!r}")
        value = list(value)
    elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MonilabError(
            f"{where}: {key} must be {kind.__name__}, got {type(value).__name__} {value!r}"
        )
    spec = spec_of(fld)
    try:
        check_value(key, value, spec)
    except MonilabError as exc:
        raise MonilabError(f"{where}: {exc}") from None
    if spec.parse is not None:
        _parse_texts(where, key, value, spec.parse)
    return value


def _parse_texts(where: str, key: str, value: Any, parse: Callable[[str], Any]) -> None:
    """Run the option's parser on the text, or on each text of a list (``thresholds``), as
    the command line would; MonilabError naming ``where`` and ``key``."""
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str):
            try:
                parse(text)
            except MonilabError as exc:
                raise MonilabError(f"{where}: {key}: {exc}") from None


def _merge(base: dict[str, dict[str, Any]], where: str, data: Mapping[str, Any]) -> None:
    """Check ``data`` (``{section: {key: value}}``) and write it over ``base``."""
    sections = _sections()
    for section, values in data.items():
        if section not in sections:
            raise MonilabError(
                f"{where}: unknown section [{section}]; known: {', '.join(sections)}"
            )
        if not isinstance(values, Mapping):
            raise MonilabError(f"{where}: [{section}] must be a table of keys")
        cls = sections[section]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        hints = get_type_hints(cls)
        for key, value in values.items():
            if key not in fields:
                raise MonilabError(
                    f"{where}: unknown key {section}.{key}; known: {', '.join(fields)}"
                )
            checked = _check_value(where, f"{section}.{key}", value, fields[key], hints[key])
            base.setdefault(section, {})[key] = checked


def parse_override(text: str) -> dict[str, dict[str, Any]]:
    """``section.key=value`` as ``{section: {key: value}}``; the value is read as TOML
    (``8``, ``2.5``, ``true``, ``["train"]``), else taken as a plain string."""
    name, sep, raw = text.partition("=")
    section, dot, key = name.strip().partition(".")
    if not sep or not dot or not section or not key:
        raise MonilabError(f"--set {text!r}: expected section.key=value, e.g. load.users=20")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return {section: {key: value}}


def load_run_config(
    path: str | Path | None = None,
    *,
    quick: bool = False,
    overrides: Iterable[str] = (),
) -> RunConfig:
    """Read, merge and validate a run configuration.

    Args:
        path: A TOML file (None: only the defaults).
        quick: Apply the file's ``[quick]`` table on top of its other tables.
        overrides: ``section.key=value`` strings applied last (``monilab run --set``).
    """
    data = read_toml(path, "config") if path is not None else {}
    where = str(path) if path is not None else "config"
    quick_table = data.pop("quick", {})
    merged: dict[str, dict[str, Any]] = {}
    _merge(merged, where, data)
    if quick:
        if not isinstance(quick_table, Mapping):
            raise MonilabError(f"{where}: [quick] must be a table of sections")
        _merge(merged, f"{where} [quick]", quick_table)
    for text in overrides:
        _merge(merged, "--set", parse_override(text))
    sections = _sections()
    return RunConfig(**{name: sections[name](**merged.get(name, {})) for name in sections})
