"""Targets: how the population's actions are carried out on one app (``docs/targets.md``).

A target is a TOML file (:mod:`sim.targets.spec`) carried out by
:class:`~sim.targets.session.TargetSession`, or, for flows a file cannot express, a Python
class named ``package.module:Class`` with the same interface (:func:`session_factory`).
The lab's own app is the bundled ``moni`` target (``sim/targets/moni.toml``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError

BUNDLED = Path(__file__).resolve().parent
DEFAULT_TARGET = BUNDLED / "moni.toml"


def is_class_target(value: str | Path) -> bool:
    """``package.module:Class`` rather than a file."""
    text = str(value)
    return ":" in text and not Path(text).exists() and not text.endswith(".toml")


def load(value: str | Path | None) -> Any:
    """The target ``value`` names: a checked :class:`~sim.targets.spec.TargetSpec`, or the
    class of a ``package.module:Class`` target (MonilabError in one line otherwise)."""
    from sim.targets.spec import load_target

    if value is None or str(value) == "":
        return load_target(DEFAULT_TARGET)
    if not is_class_target(value):
        return load_target(value)
    module_name, _, class_name = str(value).partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MonilabError(f"--target {value}: cannot import {module_name} ({exc})") from None
    cls = getattr(module, class_name, None)
    if cls is None or not all(hasattr(cls, m) for m in ("start_session", "perform")):
        raise MonilabError(
            f"--target {value}: {class_name} is not a class with start_session() and perform()"
        )
    return cls


def session_factory(target: Any) -> Callable[..., Any]:
    """What makes one agent's session: ``factory(client, run_id, plan, ledger, **options)``."""
    from sim.targets.session import TargetSession
    from sim.targets.spec import TargetSpec

    if isinstance(target, TargetSpec):
        return functools.partial(TargetSession, target)
    return target


def health_path(target: Any) -> str | None:
    """The path the load checks before it starts (None: no check)."""
    return getattr(target, "health", "/healthz")


def can_upload(target: Any) -> bool:
    """Whether agents can upload spendings in batches through ``target`` (history)."""
    from sim.targets.spec import TargetSpec

    return isinstance(target, TargetSpec) or hasattr(target, "upload_spendings")


def readback_spec(target: Any) -> Any:
    """The target file whose ``[readback]`` reconciles a run: the target itself, or a class
    target's ``target_spec`` attribute (None: no read-back declared)."""
    from sim.targets.spec import TargetSpec

    spec = target if isinstance(target, TargetSpec) else getattr(target, "target_spec", None)
    return spec if isinstance(spec, TargetSpec) and spec.readback is not None else None
