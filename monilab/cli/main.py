"""The ``monilab`` command: one subcommand per :class:`~monilab.lab.commands.Command`.

Each subcommand's parser is built from its options dataclass (:mod:`monilab.cli.options`);
the handler builds the options, runs the command, prints its report and returns its status.
User mistakes (:class:`MonilabError`) end as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Sequence

from monilab import __version__
from monilab.cli.options import add_options, options_from
from monilab.contracts import exitcodes
from monilab.contracts.errors import MonilabError
from monilab.contracts.interrupts import sigterm_as_interrupt
from monilab.lab.commands import NAMES, Command, command


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one readable line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every subcommand."""
    parser = OneLineParser(
        prog="monilab",
        description="Moni Lab: agent-based synthetic users, real load, labelled data.",
    )
    parser.add_argument("--version", action="version", version=f"monilab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    for name in NAMES:
        cmd = command(name)
        sub = subparsers.add_parser(name, help=cmd.help, description=cmd.description)
        add_options(sub, cmd.options)
        sub.set_defaults(handler=functools.partial(run_command, cmd))
    return parser


def run_command(cmd: Command, args: argparse.Namespace) -> int:
    """Build the options from ``args``, run the command, print its report; its status."""
    options = options_from(cmd.options, args)
    result = cmd.run(options)
    text = cmd.report(options, result)
    if text:
        print(text, file=sys.stdout)
    status = cmd.status(result)
    problems = cmd.problems(options, result)
    if problems:
        print(problems, file=sys.stderr)
    return status


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
        return exitcodes.COULD_NOT_RUN
    try:
        with sigterm_as_interrupt():  # SIGTERM cleans up like Ctrl-C (Locust groups, apps)
            return int(args.handler(args) or 0)
    except MonilabError as exc:
        print(f"monilab {args.command}: error: {exc}", file=sys.stderr)
        return exitcodes.COULD_NOT_RUN
    except KeyboardInterrupt:
        print(f"monilab {args.command}: interrupted", file=sys.stderr)
        return exitcodes.INTERRUPTED
    except BrokenPipeError:  # e.g. `monilab describe DIR | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a path the user gave cannot be used (not a directory, no rights)
        logging.getLogger(__name__).debug("%s", args.command, exc_info=True)
        print(f"monilab {args.command}: error: {_os_problem(exc)}", file=sys.stderr)
        return exitcodes.COULD_NOT_RUN
    except Exception as exc:
        database = _database_problem(exc)
        if database is None:
            raise
        logging.getLogger(__name__).debug("%s", args.command, exc_info=True)
        print(f"monilab {args.command}: error: {database}", file=sys.stderr)
        return exitcodes.COULD_NOT_RUN


def _os_problem(exc: OSError) -> str:
    """One line for a file-system refusal: the path and the reason."""
    where = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or type(exc).__name__
    if isinstance(exc, FileExistsError | NotADirectoryError):
        reason = "a file where a directory is needed"
    return f"{where}: {reason.lower()}" if where else reason.lower()


def _database_problem(exc: BaseException) -> str | None:
    """One line for a database that cannot be used (None when ``exc`` is something else)."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return f"cannot use that database URL ({str(exc).splitlines()[0]})"
    if isinstance(exc, DBAPIError):
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return f"cannot use the database ({first})"
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
