"""The type evaluations reach the lab: options on the command line, the card, the index."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from monilab.cli.main import build_parser
from monilab.cli.options import options_from
from monilab.lab.commands import command
from monilab.lab.commands.generate import GenerateOptions
from monilab.lab.commands.train import TrainOptions, headline
from monilab.lab.report.model_card import _generalisation_sections
from monilab.lab.runconfig import ModelsSection
from monilab.lab.stages import headline_metrics


def _round_trip(name: str, options: object) -> object:
    cmd = command(name)
    args = build_parser().parse_args(shlex.split(cmd.command_line(options))[1:])
    return options_from(cmd.options, args)


def test_perturb_options_survive_the_command_line() -> None:
    options = GenerateOptions(
        users=50, days=30, seed=3, perturb=0.25, perturb_seed=11, out=Path("o")
    )
    line = command("generate").command_line(options)
    assert "--perturb 0.25" in line and "--perturb-seed 11" in line
    assert _round_trip("generate", options) == options


def test_perturbed_data_survives_the_command_line() -> None:
    options = TrainOptions(data=Path("d"), out=Path("m"), perturbed_data=Path("p"))
    assert "--perturbed-data p" in command("train").command_line(options)
    assert _round_trip("train", options) == options


def test_models_section_perturbs_by_default() -> None:
    assert ModelsSection().perturb == 0.25


def _score(f1: float) -> dict[str, Any]:
    return {"macro_f1": f1, "ci95": [f1 - 0.02, f1 + 0.02], "accuracy": f1, "n": 100}


def _evaluation(f1: float) -> dict[str, Any]:
    models = {
        n: {**_score(f1), "signup_macro_f1": f1 + 0.01}
        for n in ("random_forest", "xgboost", "lightgbm")
    }
    models["kmeans"] = {**_score(0.45), "ari": 0.3, "nmi": 0.4}
    models["chance"] = _score(0.2)
    models["style"] = _score(0.9)
    return {"available": True, "users": 100, "changed_type_users": 4, "models": models}


def _types() -> dict[str, Any]:
    held = {n: {"macro_f1": 0.9, "accuracy": 0.9} for n in ("random_forest", "xgboost", "lightgbm")}
    held["kmeans"] = {"macro_f1": 0.5, "accuracy": 0.5, "ari": 0.3, "nmi": 0.4}
    return {
        "held_out": held,
        "app_model": "lightgbm",
        "held_out_personas": {
            **_evaluation(0.15),
            "single_persona_types": {"goal_setter": ["goal_planner"]},
        },
        "perturbed": _evaluation(0.88),
        "other_seed": {"available": False},
        "headline": {
            "evaluation": "held_out_personas",
            "model": "lightgbm",
            "macro_f1": 0.15,
            "ci95": [0.13, 0.17],
            "chance_macro_f1": 0.2,
            "kmeans_macro_f1": 0.45,
        },
    }


def test_card_leads_with_the_worst_evaluation() -> None:
    (section,) = _generalisation_sections(_types())
    assert "worst case 0.150 (held-out personas)" in section.title
    rows = section.tables[0].rows
    assert [r["evaluation"] for r in rows] == [
        "held-out personas",
        "perturbed persona file",
        "another seed",
    ]
    assert rows[0]["lightgbm macro-F1 [95 %]"] == "0.150 [0.130, 0.170]"
    assert rows[0]["k-means ARI"] == 0.3 and rows[2]["users"] == "not run"
    text = " ".join(str(p) for p in section.after)
    assert "chance 0.200" in text and "goal_setter (goal_planner)" in text


def test_index_and_cli_show_the_worst() -> None:
    facts = headline_metrics({"types": _types()})
    assert facts["type_macro_f1_worst"] == 0.15
    assert (facts["type_macro_f1_worst_ci_low"], facts["type_macro_f1_worst_ci_high"]) == (
        0.13,
        0.17,
    )
    assert facts["type_worst_evaluation"] == "held_out_personas"
    lines = headline({"types": _types()})
    assert "type headline (worst: held_out_personas) 0.150 vs chance 0.200" in lines
