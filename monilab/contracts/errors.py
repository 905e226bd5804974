"""User-facing errors: raised for a user's mistake, shown by the CLI as one readable line."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class MonilabError(Exception):
    """A problem the user can fix (bad argument, bad file, bad data); never a bug.

    The CLI prints ``monilab: error: <message>`` and exits with status 2 instead of a traceback.
    """


class SchemaError(MonilabError):
    """Data does not fit a table contract; the message names the table, column and row."""


def read_toml(path: str | Path, what: str = "TOML") -> dict[str, Any]:
    """A TOML file as a dict, or MonilabError naming the file and the problem.

    Args:
        path: The file.
        what: What the file is, for the message (``config``, ``mapping``, ``bands`` ...).
    """
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MonilabError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MonilabError(f"{path}: cannot read the {what} file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise MonilabError(f"{path}: not valid TOML ({exc})") from None
