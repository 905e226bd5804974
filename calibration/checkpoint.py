"""The trial log of a calibration: written after every batch, read back to resume."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from monilab.contracts.errors import MonilabError

__all__ = ["Trial", "TrialLog"]

CHECKPOINT_NAME = "trials.json"


@dataclass(frozen=True)
class Trial:
    """One simulator call of the search.

    Attributes:
        number: Order of the call (0 = the persona file's defaults).
        batch: Batch the call was evaluated in (parallel calls share a batch).
        params: Parameter values by name.
        loss: Objective on the fit part.
        seconds: Wall time of the call.
    """

    number: int
    batch: int
    params: dict[str, float]
    loss: float
    seconds: float


class TrialLog:
    """Trials plus the run fingerprint, kept in ``DIR/trials.json``.

    Args:
        path: The checkpoint file.
        fingerprint: What must match for a resume (sampler, seed, sizes, parameters, targets).
    """

    def __init__(self, path: Path, fingerprint: dict[str, Any]) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.trials: list[Trial] = []

    @classmethod
    def open(cls, out_dir: Path, fingerprint: dict[str, Any], *, resume: bool) -> TrialLog:
        """A new log, or the saved one when resuming (MonilabError if it belongs to another run)."""
        log = cls(out_dir / CHECKPOINT_NAME, fingerprint)
        if not resume or not log.path.exists():
            return log
        try:
            saved = json.loads(log.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise MonilabError(f"cannot read checkpoint {log.path}: {exc}") from None
        if saved.get("fingerprint") != fingerprint:
            raise MonilabError(
                f"checkpoint {log.path} belongs to a different calibration run "
                "(use another output directory or --no-resume)"
            )
        log.trials = [Trial(**t) for t in saved["trials"]]
        return log

    def add(self, trials: list[Trial]) -> None:
        """Append a finished batch and write the file (atomically)."""
        self.trials.extend(trials)
        self.save()

    def save(self) -> None:
        """Write the log."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"fingerprint": self.fingerprint, "trials": [asdict(t) for t in self.trials]}
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def batches(self) -> list[list[Trial]]:
        """Saved trials grouped by batch, in order."""
        grouped: dict[int, list[Trial]] = {}
        for trial in self.trials:
            grouped.setdefault(trial.batch, []).append(trial)
        return [grouped[b] for b in sorted(grouped)]

    def best(self) -> Trial:
        """The trial with the lowest loss (the earliest on ties)."""
        return min(self.trials, key=lambda t: (t.loss, t.number))
