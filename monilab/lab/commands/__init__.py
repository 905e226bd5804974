"""The lab's commands as typed functions: one options dataclass, ``run(options) -> result``.

Each module here defines ``COMMAND``, a :class:`Command`. The CLI (:mod:`monilab.cli.main`)
builds each subcommand's parser from ``COMMAND.options`` and prints ``COMMAND.report``; the
lab run (:mod:`monilab.lab.stages`) calls ``COMMAND.run`` with options it builds from the
run configuration and uses the result, and shows ``COMMAND.command_line(options)`` as the
command that redoes the stage. Adding a command is adding a module and its name to
:data:`NAMES`. Heavy imports belong inside ``run`` so ``monilab --help`` stays fast.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monilab.contracts.options import to_argv

NAMES: tuple[str, ...] = (
    "browse",
    "calibrate",
    "compare",
    "describe",
    "evaluate",
    "export",
    "generate",
    "load",
    "run",
    "serve",
    "target",
    "train",
)


def _success(result: Any) -> int:
    return 0


@dataclass(frozen=True)
class Command:
    """One ``monilab`` subcommand.

    Attributes:
        name: The subcommand's name.
        help: One line for ``monilab --help``.
        description: The paragraph of ``monilab NAME --help``.
        options: The options dataclass (fields declared with ``option``).
        run: Does the work: ``run(options) -> result``; raises MonilabError for user mistakes.
        report: What the CLI prints for a result: ``report(options, result) -> text``.
        status: The exit status of a result (0 unless the command found a problem).
        problems: What the CLI prints to stderr about a result (the problems it found).
    """

    name: str
    help: str
    description: str
    options: type
    run: Callable[[Any], Any]
    report: Callable[[Any, Any], str]
    status: Callable[[Any], int] = _success
    problems: Callable[[Any, Any], str] = lambda options, result: ""

    def command_line(self, options: Any) -> str:
        """``monilab NAME --flag value ...``: the command that redoes ``run(options)``."""
        return "monilab " + shlex.join([self.name, *to_argv(options)])


def command(name: str) -> Command:
    """The command called ``name``."""
    return importlib.import_module(f"monilab.lab.commands.{name}").COMMAND
