"""The interface between the calibration loop and what it fits.

:func:`calibration.loop.calibrate` owns the skeleton (settings, seeds, space, checkpoint,
search, worker pool, timing); an :class:`Objective` supplies the rest, in this order:

1. :meth:`~Objective.check`: settings this kind of reference cannot work with.
2. :meth:`~Objective.prepare`: before the search, with no simulator calls of its own
   beyond the data: split the reference, fix the run config (the checkpoint fingerprint)
   and the search :class:`Loss`. Returns a :class:`Setup` (or a subclass with more data).
3. :meth:`~Objective.search_loss`: the loss the search minimises, may spend simulator
   calls in the worker pool (e.g. noise scales).
4. :meth:`~Objective.score`: after the search, score the defaults and the best point on
   fresh seeds and return the :class:`~calibration.result.CalibrationResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

import pandas as pd

if TYPE_CHECKING:
    from calibration.result import CalibrationResult
    from calibration.run import Run, RunSettings, SearchOutcome
    from calibration.workers import Map

__all__ = ["Loss", "Objective", "Setup"]


class Loss(Protocol):
    """A picklable loss of one simulation (lower is better)."""

    def __call__(self, transactions: pd.DataFrame, users: pd.DataFrame) -> float:
        """The loss of one simulated (transactions, users) pair."""
        ...


@dataclass(frozen=True)
class Setup:
    """What an objective fixes before the search.

    Attributes:
        config: The run config: written to ``calibration.json`` and the checkpoint
            fingerprint a resumed run must match.
        loss: The search loss (before any tuning in the worker pool).
    """

    config: dict[str, Any]
    loss: Loss


SetupT = TypeVar("SetupT", bound=Setup)
ResultT = TypeVar("ResultT", bound="CalibrationResult", covariant=True)


class Objective(Protocol[SetupT, ResultT]):
    """What a calibration fits (see the module doc for the order of the calls).

    Attributes:
        default_space: The search space when the caller names none (``full``/``grouped``).
    """

    default_space: ClassVar[str]

    def check(self, settings: RunSettings) -> None:
        """Raise MonilabError for settings this objective cannot work with."""
        ...

    def prepare(self, run: Run) -> SetupT:
        """The run config and the search loss (and any data the later steps need)."""
        ...

    def search_loss(self, setup: SetupT, run: Run, map_fn: Map) -> Loss:
        """The loss the search minimises (``setup.loss``, possibly tuned)."""
        ...

    def score(self, setup: SetupT, loss: Loss, search: SearchOutcome, map_fn: Map) -> ResultT:
        """Score the defaults and the best point on the run's held-out seeds."""
        ...
