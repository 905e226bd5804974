"""An argparse parser built from an options dataclass (:mod:`monilab.contracts.options`).

The flags, defaults, help, mutually exclusive groups and required options all come from
the options class, so a command's options are declared once.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError
from monilab.contracts.options import check_options, default_of, flag_of, spec_of

_CONVERTERS: dict[Any, Any] = {int: int, float: float, str: str, Path: Path}


def add_options(parser: argparse.ArgumentParser, options: type) -> None:
    """Add one argument per CLI field of the ``options`` dataclass."""
    hints = typing.get_type_hints(options)
    groups: dict[str, Any] = {}
    for fld in dataclasses.fields(options):
        spec = spec_of(fld)
        if not spec.cli:
            continue
        target: Any = parser
        if spec.group:
            if spec.group not in groups:
                groups[spec.group] = parser.add_mutually_exclusive_group()
            target = groups[spec.group]
        _add_one(target, fld, hints[fld.name])


def _add_one(target: Any, fld: dataclasses.Field, hint: Any) -> None:
    spec, flag = spec_of(fld), flag_of(fld)
    default = _default(fld)
    if spec.const_flags:
        target.set_defaults(**{fld.name: default})
        for value, const_flag in spec.const_flags.items():
            target.add_argument(
                const_flag, dest=fld.name, action="store_const", const=value, help=spec.help
            )
        return
    if spec.negate:
        target.add_argument(spec.negate, dest=fld.name, action="store_false", help=spec.help)
        return
    if _base_type(hint) is bool:
        target.add_argument(flag, dest=fld.name, action="store_true", help=spec.help)
        return
    kwargs: dict[str, Any] = {"type": _converter(spec.parse or _CONVERTERS[_base_type(hint)])}
    kwargs["help"] = spec.help
    if spec.metavar or spec.choices:
        kwargs["metavar"] = spec.metavar or "{" + ",".join(map(str, spec.choices)) + "}"
    if spec.flag == "":
        target.add_argument(fld.name, nargs=None if spec.required else "?", **kwargs)
        return
    if spec.repeat:
        kwargs["action"] = "append"
    target.add_argument(flag, dest=fld.name, default=default, required=spec.required, **kwargs)


def _default(fld: dataclasses.Field) -> Any:
    """The flag's default: a repeated flag starts from nothing (``options_from`` fills in)."""
    if fld.default_factory is not dataclasses.MISSING:
        return None
    return default_of(fld)


def _base_type(hint: Any) -> Any:
    """``int`` for ``int | None``, ``str`` for ``list[str]``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if typing.get_origin(hint) in (list, tuple):
        hint = typing.get_args(hint)[0]
    return hint


def _converter(parse: Any) -> Any:
    """``parse`` with a MonilabError shown by argparse as a usage error (one line, status 2)."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except MonilabError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def options_from(options: type, args: argparse.Namespace) -> Any:
    """The ``options`` dataclass filled from parsed arguments, then checked."""
    values = {}
    for fld in dataclasses.fields(options):
        if not spec_of(fld).cli:
            continue
        value = getattr(args, fld.name)
        if value is None and fld.default_factory is not dataclasses.MISSING:
            value = fld.default_factory()
        values[fld.name] = value
    return check_options(options(**values))
