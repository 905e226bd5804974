"""The one error of a target file, and the helpers that word it (``place: problem``).

:mod:`sim.targets.spec` and :mod:`sim.targets.journeys` raise :class:`TargetError` with the
place in the file (``actions.login.json``, ``journeys.add_spending.steps[2].fill``) and the
problem; :func:`~sim.targets.spec.load_target` puts the file's name in front.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monilab.contracts.errors import MonilabError


class TargetError(MonilabError):
    """A target file that cannot be used (one line: file, place, problem)."""


def fail(where: str, problem: str) -> TargetError:
    """The error for ``where`` (a dotted place in the file) and its problem."""
    return TargetError(f"{where}: {problem}")


def unknown_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """TargetError naming the first key of ``data`` that is not ``allowed``."""
    extra = sorted(set(data) - allowed)
    if extra:
        raise fail(f"{where}.{extra[0]}" if where else extra[0], "unknown key")
