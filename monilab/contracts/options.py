"""Typed options: one declaration of a command's options, read by every part that needs it.

An options class is a frozen dataclass whose fields are declared with :func:`option`: the
default, the bounds or choices, the help text and how the option is spelled on the command
line. From that one declaration

- the CLI builds its argparse parser (:mod:`monilab.cli.options`),
- :func:`check_options` validates a value, wherever it came from (flags, a run config, code),
  with one message style: ``--users must be at least 1``,
- :func:`to_argv` writes the command line that redoes a run (the lab report shows it).

Example::

    @dataclass(frozen=True)
    class ExportOptions:
        out: Path = option(required=True, help="dataset directory to write")
        run_id: str | None = option(None, help="keep only this run's users and events")

    check_options(ExportOptions(out=Path("x"), run_id="r1"))
    to_argv(ExportOptions(out=Path("x"), run_id="r1"))  # ['--out', 'x', '--run-id', 'r1']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from monilab.contracts.errors import MonilabError


@dataclass(frozen=True)
class OptionSpec:
    """How one field is validated and spelled on the command line.

    Attributes:
        help: One line for ``--help``.
        low, high: Inclusive bounds of a number.
        choices: The allowed values (of the value, or of each item of a list).
        flag: The flag (default ``--`` + the field name with dashes); ``""`` makes the
            option positional.
        metavar: The placeholder in ``--help``.
        parse: Turns the flag's text into the value (raises MonilabError on bad text).
        render: Turns the value back into the flag's text (default ``str``).
        group: Options of one group are mutually exclusive on the command line.
        negate: A boolean that defaults to True is set False by this flag (``--no-...``).
        const_flags: A choice spelled as one flag per value (``{"master": "--master"}``).
        cli: False: the field is set by code only, never by a flag.
        required: The flag must be given.
        repeat: A list filled by repeating the flag.
    """

    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    flag: str | None = None
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None
    render: Callable[[Any], str] = str
    group: str = ""
    negate: str = ""
    const_flags: Mapping[Any, str] = field(default_factory=dict)
    cli: bool = True
    required: bool = False
    repeat: bool = False


def option(default: Any = MISSING, *, required: bool = False, **spec: Any) -> Any:
    """A dataclass field carrying an :class:`OptionSpec` (see the module docstring).

    A required option without a default gets ``None`` so the dataclass stays easy to build
    in code; :func:`check_options` rejects the missing value.
    """
    if isinstance(default, list):
        value = list(default)
        return field(
            default_factory=lambda: list(value),
            metadata={"option": OptionSpec(required=required, **spec)},
        )
    if default is MISSING:
        default = None
    return field(default=default, metadata={"option": OptionSpec(required=required, **spec)})


def option_like(options: type, name: str, default: Any, **changes: Any) -> Any:
    """A field declared like ``options``'s field ``name`` (bounds, choices, help), with its
    own default: for settings that feed an options class, e.g. the run configuration."""
    fld = next(f for f in dataclasses.fields(options) if f.name == name)
    spec = dataclasses.replace(spec_of(fld), required=False, **changes)
    if isinstance(default, list):  # a list default is built fresh for each instance
        return field(default_factory=lambda: list(default), metadata={"option": spec})
    return field(default=default, metadata={"option": spec})


def spec_of(fld: dataclasses.Field) -> OptionSpec:
    """The field's :class:`OptionSpec` (a plain field gets the defaults)."""
    return fld.metadata.get("option") or OptionSpec()


def flag_of(fld: dataclasses.Field) -> str:
    """How the field is named on the command line, e.g. ``--run-time``."""
    spec = spec_of(fld)
    if spec.flag is not None:
        return spec.flag or fld.name
    return "--" + fld.name.replace("_", "-")


def check_options(options: Any) -> Any:
    """``options`` unchanged, or MonilabError naming the first bad option and why."""
    for fld in dataclasses.fields(options):
        check_value(flag_of(fld), getattr(options, fld.name), spec_of(fld))
    return options


def check_value(name: str, value: Any, spec: OptionSpec) -> None:
    """MonilabError unless ``value`` fits the spec's required/bounds/choices."""
    if value is None:
        if spec.required:
            raise MonilabError(f"{name} is required")
        return
    items = value if isinstance(value, list | tuple) else [value]
    for item in items:
        if spec.choices and item not in spec.choices:
            allowed = ", ".join(str(c) for c in spec.choices)
            raise MonilabError(f"{name} {item!r}: expected one of {allowed}")
        if isinstance(item, bool) or not isinstance(item, int | float):
            continue
        if spec.low is not None and item < spec.low:
            raise MonilabError(f"{name} must be at least {_number(spec.low)}, got {item}")
        if spec.high is not None and item > spec.high:
            raise MonilabError(f"{name} must be at most {_number(spec.high)}, got {item}")


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def to_argv(options: Any) -> list[str]:
    """The flags that rebuild ``options`` (defaults left out), in declaration order."""
    argv: list[str] = []
    positional: list[str] = []
    for fld in dataclasses.fields(options):
        spec, value = spec_of(fld), getattr(options, fld.name)
        if not spec.cli or (value == default_of(fld) and not spec.required) or value is None:
            continue
        flag = flag_of(fld)
        if spec.flag == "":
            positional.append(spec.render(value))
        elif spec.const_flags:
            argv.append(spec.const_flags[value])
        elif spec.negate:
            argv.append(spec.negate)
        elif value is True:
            argv.append(flag)
        elif spec.repeat:
            for item in value:
                argv += [flag, spec.render(item)]
        else:
            argv += [flag, spec.render(value)]
    return argv + positional


def default_of(fld: dataclasses.Field) -> Any:
    """The field's default value (a fresh one for a default factory; None without)."""
    if fld.default is not MISSING:
        return fld.default
    if fld.default_factory is not MISSING:
        return fld.default_factory()
    return None


# --------------------------------------------------------------------------- parsers


_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``5m``, ``1h30m``; MonilabError otherwise."""
    match = _DURATION.match(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise MonilabError(f"duration {text!r}: use seconds or a form like 30s, 5m, 1h30m")
    hours, minutes, seconds = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    if total <= 0 or not math.isfinite(total):
        raise MonilabError(f"duration {text!r} must be positive")
    return total


def render_duration(seconds: float) -> str:
    """``90s`` for 90.0: the form :func:`parse_duration` reads back."""
    return f"{seconds:g}s"


def parse_base_url(url: str) -> str:
    """A base URL without trailing slash, or MonilabError."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise MonilabError(f"--host {url!r}: expected a URL like http://127.0.0.1:8000")
    return url.rstrip("/")


def parse_date(text: str) -> str:
    """An ISO date ``YYYY-MM-DD`` (kept as text), or MonilabError."""
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise MonilabError(f"expected a date YYYY-MM-DD, got {text!r}") from None
    return text


def parse_path(text: str) -> Path:
    """A path (argparse-friendly name for ``Path``)."""
    return Path(text)
