"""The ``monilab`` command: one subcommand per module in :mod:`monilab.cli.commands`.

A subcommand module defines ``register(subparsers)`` which adds its parser and sets
``handler`` (a function taking the parsed ``argparse.Namespace`` and returning an exit
code). Modules are discovered, so adding a command is adding a file. Heavy imports belong
inside handlers, so ``monilab --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence

from monilab import __version__
from monilab.contracts.errors import MonilabError


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one readable line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every discovered subcommand."""
    parser = OneLineParser(
        prog="monilab",
        description="Moni Lab: agent-based synthetic users, real load, labelled data.",
    )
    parser.add_argument("--version", action="version", version=f"monilab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    import monilab.cli.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"monilab.cli.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``monilab`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not args.verbose:  # Mesa logs every model step at INFO
        logging.getLogger("MESA").setLevel(logging.WARNING)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except MonilabError as exc:
        print(f"monilab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"monilab {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `monilab describe DIR | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
