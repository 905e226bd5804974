"""What a calibration found, and the ``calibration.json`` summary of it.

:class:`CalibrationResult` holds what every calibration records (search, seeds, parameters)
and writes the one summary; each objective's result adds its scores on fresh seeds as
sections of that summary (:meth:`CalibrationResult.scores`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from calibration.checkpoint import Trial
from calibration.honesty import HeldOutScore
from calibration.reference_scoring import PartScore
from calibration.run import SearchOutcome

__all__ = ["CalibrationResult", "ReferenceCalibrationResult", "TargetsCalibrationResult"]

LEADING_SECTIONS = ("sampler", "config", "seeds", "calls", "wall_seconds", "fit_seed_loss")
"""Summary sections that come first, in this order; then the held-out target scores (when
there are), then the rest as written."""


@dataclass(kw_only=True)
class CalibrationResult:
    """What a calibration found and how it scores on held-out seeds.

    Attributes:
        params: The best parameters found (lowest fit loss).
        defaults: The persona file's values of the same parameters.
        trials: Every simulator call of the search, in order.
        seeds: ``root``, ``fit`` (common random numbers) and ``held_out`` seeds.
        sampler: The search method.
        held_out_calls: Simulator calls spent on held-out scoring.
        config: The run config (the checkpoint fingerprint).
        values: Persona-file values of the best point (equal to ``params`` in the full
            space; the shifted members in a grouped space).
        default_values: Persona-file values of the searched parameters.
        space: ``full`` or ``grouped``.
        wall_seconds: Wall time of search plus held-out scoring.
    """

    params: dict[str, float]
    defaults: dict[str, float]
    trials: list[Trial]
    seeds: dict[str, Any]
    sampler: str
    held_out_calls: int
    config: dict[str, Any] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    default_values: dict[str, float] = field(default_factory=dict)
    space: str = "full"
    wall_seconds: float = 0.0

    @classmethod
    def from_search(cls, search: SearchOutcome, *, held_out_calls: int, **scores: Any) -> Self:
        """The result of a finished search, with the objective's ``scores`` fields."""
        run = search.run
        return cls(
            params=dict(search.best.params),
            defaults=run.space.defaults(),
            trials=list(search.trials),
            seeds=run.seeds.to_dict(),
            sampler=run.settings.sampler,
            held_out_calls=held_out_calls,
            config=search.config,
            values=search.final,
            default_values=run.defaults,
            space=run.space.kind,
            **scores,
        )

    @property
    def loss_default_fit(self) -> float:
        """Fit loss of the defaults at the fit seed (trial 0)."""
        return self.trials[0].loss

    @property
    def loss_best_fit(self) -> float:
        """Lowest fit loss of the search."""
        return min(t.loss for t in self.trials)

    def scores(self) -> dict[str, Any]:
        """The objective's summary sections (JSON-ready); none here."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the ``calibration.json`` content)."""
        summary = {
            "sampler": self.sampler,
            "config": self.config,
            "seeds": self.seeds,
            "calls": {"search": len(self.trials), "held_out": self.held_out_calls},
            "wall_seconds": self.wall_seconds,
            "fit_seed_loss": {"default": self.loss_default_fit, "best": self.loss_best_fit},
            "space": self.space,
            "search": {
                name: {"default": self.defaults[name], "final": value}
                for name, value in self.params.items()
            },
            "params": {
                name: {"default": self.default_values.get(name), "final": value}
                for name, value in (self.values or self.params).items()
            },
            "convergence": [t.loss for t in self.trials],
        } | self.scores()
        leading = [*LEADING_SECTIONS, "held_out"]
        return {k: summary[k] for k in leading if k in summary} | summary


@dataclass(kw_only=True)
class TargetsCalibrationResult(CalibrationResult):
    """A calibration against aggregate targets.

    Attributes:
        held_out: Scores per target set (``fit``, ``validate``) on the held-out seeds.
    """

    held_out: dict[str, HeldOutScore] = field(default_factory=dict)

    def scores(self) -> dict[str, Any]:
        """``held_out``: each target set's losses, noise floor and rows."""
        return {"held_out": {name: s.to_dict() for name, s in self.held_out.items()}}


@dataclass(kw_only=True)
class ReferenceCalibrationResult(CalibrationResult):
    """A calibration against reference microdata.

    Attributes:
        parts: Scores of the ``fit`` and ``held_out`` parts on the fresh seeds.
        split: How the reference was split and the sizes of both parts.
        objective_metrics: The (metric, basis) pairs the objective averages.
        objective_scales: Their noise scales (empty: all 1).
        profiles: Data of the report's distribution and profile plots.
    """

    parts: dict[str, PartScore] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    objective_metrics: list[tuple[str, str]] = field(default_factory=list)
    objective_scales: list[float] = field(default_factory=list)
    profiles: dict[str, Any] = field(default_factory=dict)

    def scores(self) -> dict[str, Any]:
        """``split``, ``objective`` and the scores of both ``parts``."""
        return {
            "split": self.split,
            "objective": {
                "loss": "mean of (1 - score) / noise scale over the objective metrics "
                "(fit part only; scales 1 for a one-user reference)",
                "metrics": [f"{m}{'/' + b if b else ''}" for m, b in self.objective_metrics],
                "scales": self.objective_scales,
            },
            "parts": {name: part.to_dict() for name, part in self.parts.items()},
        }
