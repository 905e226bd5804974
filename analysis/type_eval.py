"""Type and style evaluation that cannot flatter: people, files and draws the models never saw.

Held-out users of the training population share their personas with the training users,
and another seed shares the persona file: a classifier that learns the personas (their
near-fixed savings and investment rates) rather than the types scores well on both. Three
evaluations ask harder questions (:data:`EVALUATIONS`):

- ``held_out_personas``: leave one persona out (:class:`~sklearn.model_selection.LeaveOneGroupOut`
  over the users' sign-up persona). For every type with at least two personas, each of
  its personas is held out in turn: the models are fitted on every other persona's users
  and predict the held-out persona's users (one prediction per user, pooled over the
  folds). Types with a single persona cannot be held out and are listed as such;
- ``perturbed``: the training population's models on a population generated from a
  shifted persona file (``monilab generate --perturb F --perturb-seed S``);
- ``other_seed``: the same models on a population of the same persona file, other draws.

The truth is the label history (the dataset's ``labels`` table): users drift and mix
personas, so each user is scored against its weight-majority type over the months the
data covers (dominant persona weighted ``1 - secondary_weight``, secondary persona
``secondary_weight``); the sign-up label's score is kept beside it, with the number of
users whose type changed. Without a ``labels`` table the sign-up label is the truth.

Every macro-F1 comes with a bootstrap 95 % interval over users and a chance baseline (a
seeded guess from the training class frequencies); K-means (named clusters) sits beside
with ARI and NMI. Macro-F1 averages over the types present in the truth. The ``headline``
is the app model's worst macro-F1 of the three, named.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from numpy.typing import ArrayLike
from sklearn.model_selection import LeaveOneGroupOut

from analysis import metrics
from analysis.features import user_features
from analysis.shards import read_part
from analysis.type_model import ESTIMATORS, TypeClusterer, UserClassifier
from monilab.contracts.datasets import read_dataset
from monilab.contracts.errors import MonilabError
from monilab.contracts.vocabulary import SPENDING_TYPES, STYLES

log = logging.getLogger(__name__)

EVALUATIONS = ("held_out_personas", "perturbed", "other_seed")
BOOTSTRAP = 1000
"""Bootstrap resamples of the users behind each 95 % interval."""
TRUTH = "truth"
"""Column of the label-history type (the truth scored against)."""


# --------------------------------------------------------------------------- scores


def _codes(values: ArrayLike, labels: Sequence[str]) -> np.ndarray:
    """Index of each value in ``labels`` (``len(labels)`` for anything else)."""
    lookup = {name: i for i, name in enumerate(labels)}
    return np.array([lookup.get(v, len(labels)) for v in np.asarray(values)], dtype=np.int64)


def _macro_f1(truth: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """Macro-F1 over the classes present in the truth, one per row of the ``(B, n)``
    code arrays (``F1 = 2 TP / (true + predicted)``)."""
    rows = np.arange(truth.shape[0])[:, None]
    size = k + 1
    true_n = np.zeros((truth.shape[0], size))
    pred_n = np.zeros((truth.shape[0], size))
    hits = np.zeros((truth.shape[0], size))
    np.add.at(true_n, (rows, truth), 1.0)
    np.add.at(pred_n, (rows, predicted), 1.0)
    np.add.at(hits, (rows, np.where(truth == predicted, truth, k)), 1.0)
    true_n, pred_n, hits = true_n[:, :k], pred_n[:, :k], hits[:, :k]
    present = true_n > 0
    f1 = np.where(present, 2 * hits / np.maximum(true_n + pred_n, 1), 0.0)
    return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def macro_f1_interval(
    truth: ArrayLike,
    predicted: ArrayLike,
    labels: Sequence[str],
    *,
    seed: int = 0,
    resamples: int = BOOTSTRAP,
) -> dict[str, Any]:
    """Macro-F1 (classes present in the truth), accuracy and a bootstrap 95 % interval of
    the macro-F1 over users (seeded)."""
    t, p = _codes(truth, labels), _codes(predicted, labels)
    k = len(labels)
    if len(t) == 0:
        return {"macro_f1": None, "ci95": None, "accuracy": None, "n": 0}
    value = float(_macro_f1(t[None, :], p[None, :], k)[0])
    out: dict[str, Any] = {"macro_f1": value, "ci95": None, "accuracy": float(np.mean(t == p))}
    if resamples < 1:
        return {**out, "n": len(t)}
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    draws = []
    for start in range(0, resamples, 100):
        idx = rng.integers(0, len(t), size=(min(100, resamples - start), len(t)))
        draws.append(_macro_f1(t[idx], p[idx], k))
    low, high = np.percentile(np.concatenate(draws), [2.5, 97.5])
    return {**out, "ci95": [float(low), float(high)], "n": len(t)}


def _chance(train_labels: pd.Series, n: int, seed: int) -> np.ndarray:
    """A seeded guess from the training class frequencies (the chance baseline)."""
    shares = train_labels.value_counts(normalize=True)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return rng.choice(shares.index.to_numpy(), size=n, p=shares.to_numpy())


def score_predictions(
    users: pd.DataFrame,
    predictions: Mapping[str, np.ndarray],
    clusters: np.ndarray,
    train_types: pd.Series,
    *,
    seed: int,
) -> dict[str, Any]:
    """The ``models`` of one evaluation: each classifier, K-means (with ARI/NMI of
    ``clusters``) and the chance baseline against the label history, with the sign-up
    label's macro-F1 beside; the style classifier against the style label."""
    truth, signup = users[TRUTH], users["spending_type"]
    out: dict[str, Any] = {}
    for name in (*ESTIMATORS, "kmeans"):
        out[name] = macro_f1_interval(truth, predictions[name], SPENDING_TYPES, seed=seed)
        out[name]["signup_macro_f1"] = macro_f1_interval(
            signup, predictions[name], SPENDING_TYPES, resamples=0
        )["macro_f1"]
    out["kmeans"].update(metrics.clustering(truth, clusters))
    chance = _chance(train_types, len(users), seed)
    out["chance"] = macro_f1_interval(truth, chance, SPENDING_TYPES, seed=seed)
    if "style" in predictions and "style" in users and users["style"].notna().any():
        known = users["style"].notna().to_numpy()
        out["style"] = macro_f1_interval(
            users["style"][known], predictions["style"][known], STYLES, seed=seed
        )
    return out


# --------------------------------------------------------------------------- truth


def persona_types(directory: str | Path, users: pd.DataFrame) -> dict[str, str]:
    """Persona → type: the dataset's ``personas.toml`` when it has one, and the users'."""
    known = dict(zip(users["persona"], users["spending_type"], strict=True))
    path = Path(directory) / "personas.toml"
    if path.is_file():
        from sim.agents.personas import load_personas

        known.update({p.name: p.spending_type for p in load_personas(path).personas})
    return known


def label_history(labels: pd.DataFrame, types: Mapping[str, str]) -> pd.DataFrame:
    """Per user: the weight-majority type of its months (``truth``) and whether its
    dominant type ever changed (``changed``)."""
    weight = labels["secondary_weight"].to_numpy(float)
    both = pd.DataFrame(
        {
            "user_id": np.concatenate([labels["user_id"], labels["user_id"]]),
            "type": np.concatenate(
                [labels["spending_type"], labels["secondary_persona"].map(types)]
            ),
            "weight": np.concatenate([1.0 - weight, weight]),
        }
    ).dropna()
    sums = both.groupby(["user_id", "type"])["weight"].sum().reset_index()
    best = sums.sort_values(["user_id", "weight", "type"], ascending=[True, False, True])
    truth = best.drop_duplicates("user_id").set_index("user_id")["type"]
    changed = labels.groupby("user_id")["spending_type"].nunique() > 1
    return pd.DataFrame({TRUTH: truth, "changed": changed.reindex(truth.index, fill_value=False)})


@dataclass(frozen=True)
class EvaluationUsers:
    """The users of one evaluation: features, labels and the truth.

    Attributes:
        frame: User features with ``persona``, ``spending_type`` (sign-up), ``style``,
            ``truth`` (label history, or the sign-up type) and ``changed``.
        truth: ``label_history`` or ``signup``.
    """

    frame: pd.DataFrame
    truth: str

    def summary(self) -> dict[str, Any]:
        """Users, the truth used and how many users changed type."""
        frame = self.frame
        return {
            "users": len(frame),
            "truth": self.truth,
            "changed_type_users": int(frame["changed"].sum()),
            "history_differs_from_signup": int((frame[TRUTH] != frame["spending_type"]).sum()),
        }


def evaluation_users(
    directory: str | Path, features: pd.DataFrame, users: pd.DataFrame
) -> EvaluationUsers:
    """``features`` (indexed by user) with the labels of the dataset at ``directory``."""
    dataset = read_dataset(directory)
    columns = [c for c in ("persona", "spending_type", "style") if c in users.columns]
    frame = features.drop(columns=["spending_type", "style"], errors="ignore").join(
        users.set_index("user_id")[columns], how="inner"
    )
    if "labels" in dataset.tables and dataset.rows("labels"):
        history = label_history(dataset.frame("labels"), persona_types(directory, users))
        frame = frame.join(history, how="left")
        frame[TRUTH] = frame[TRUTH].fillna(frame["spending_type"])
        frame["changed"] = frame["changed"].fillna(False).astype(bool)
        return EvaluationUsers(frame, "label_history")
    frame = frame.assign(changed=False)
    frame[TRUTH] = frame["spending_type"]
    return EvaluationUsers(frame, "signup")


def dataset_features(directory: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """User features of every user of a dataset (part by part) and its users table."""
    path = Path(directory)
    if not path.joinpath("manifest.json").is_file():
        raise MonilabError(f"{path}: no such dataset (no manifest.json)")
    dataset = read_dataset(path)
    frames = [user_features(tx) for tx in map(read_part, dataset.parts("transactions"))]
    frames = [f for f in frames if len(f)]
    if not frames:
        raise MonilabError(f"{path}: the dataset has no transactions")
    return pd.concat(frames).sort_index(), dataset.frame("users")


# --------------------------------------------------------------------------- evaluations


def _model(name: str, random_state: int, n_estimators: int) -> Any:
    """A fresh learner of the type models' kind (``kmeans``, ``style`` or a classifier)."""
    if name == "kmeans":
        return TypeClusterer(random_state=random_state)
    if name == "style":
        return UserClassifier(n_estimators=n_estimators, random_state=random_state)
    return UserClassifier(name, n_estimators=n_estimators, random_state=random_state)


def _fit_predict(
    name: str, train: pd.DataFrame, test: pd.DataFrame, random_state: int, n_estimators: int
) -> np.ndarray:
    """Fit one learner on ``train`` (type or style labels) and predict ``test``."""
    model = _model(name, random_state, n_estimators)
    label = "style" if name == "style" else "spending_type"
    model.fit(train, None if name == "kmeans" else train[label])
    return np.asarray(model.predict(test), dtype=object)


def persona_folds(
    persona: pd.Series, types: Mapping[str, str]
) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, list[str]]]:
    """Leave-one-persona-out folds (train rows, test rows) over the personas whose type has
    another persona; and each single-persona type with its persona (not held out)."""
    by_type: dict[str, list[str]] = {}
    for name in sorted(persona.unique()):
        by_type.setdefault(types.get(name, "?"), []).append(name)
    single = {t: names for t, names in by_type.items() if len(names) < 2}
    folds = []
    values = persona.to_numpy()
    for train, test in LeaveOneGroupOut().split(values, groups=values):
        if types.get(values[test[0]], "?") not in single:
            folds.append((train, test))
    return folds, single


def _capped(rows: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """At most ``cap`` of ``rows`` (a seeded sample, sorted)."""
    if len(rows) <= cap:
        return rows
    return np.sort(np.random.default_rng(np.random.SeedSequence(seed)).choice(rows, cap, False))


def held_out_personas(
    users: EvaluationUsers,
    types: Mapping[str, str],
    *,
    random_state: int,
    n_estimators: int,
    max_train_users: int,
    n_jobs: int,
) -> dict[str, Any]:
    """The ``held_out_personas`` evaluation (see the module docstring)."""
    frame = users.frame
    folds, single = persona_folds(frame["persona"], types)
    if not folds:
        return {**users.summary(), "available": False, "single_persona_types": single}
    names = (*ESTIMATORS, "kmeans", "style")
    tasks = [
        delayed(_fit_predict)(
            name,
            frame.iloc[_capped(train, max_train_users, random_state)],
            frame.iloc[test],
            random_state,
            n_estimators,
        )
        for train, test in folds
        for name in names
    ]
    log.info("held-out personas: %d folds × %d learners", len(folds), len(names))
    results = iter(Parallel(n_jobs=n_jobs)(tasks))
    tested = np.concatenate([test for _, test in folds])
    predictions: dict[str, list[np.ndarray]] = {name: [] for name in names}
    per_fold = []
    for _, test in folds:
        persona = frame["persona"].iloc[test[0]]
        fold = {"persona": persona, "type": types.get(persona), "users": len(test)}
        for name in names:
            predicted = next(results)
            predictions[name].append(predicted)
            if name != "style":
                fold[f"{name}_accuracy"] = float(np.mean(predicted == frame[TRUTH].iloc[test]))
        per_fold.append(fold)
    pooled = {name: np.concatenate(parts) for name, parts in predictions.items()}
    tested_users = EvaluationUsers(frame.iloc[tested], users.truth)
    return {
        **tested_users.summary(),
        "available": True,
        "models": score_predictions(
            tested_users.frame,
            pooled,
            pooled["kmeans"],
            frame["spending_type"],
            seed=random_state,
        ),
        "folds": per_fold,
        "single_persona_types": single,
    }


def transferred(
    users: EvaluationUsers,
    type_models: Mapping[str, Any],
    style: UserClassifier,
    train_types: pd.Series,
    *,
    data: str | Path,
    random_state: int,
) -> dict[str, Any]:
    """The training population's models on another population (``perturbed`` or
    ``other_seed``)."""
    frame = users.frame
    predictions = {name: np.asarray(type_models[name].predict(frame)) for name in ESTIMATORS}
    clusterer: TypeClusterer = type_models["kmeans"]
    predictions["kmeans"] = np.asarray(clusterer.predict(frame))
    predictions["style"] = np.asarray(style.predict(frame))
    manifest = read_dataset(data).manifest
    return {
        **users.summary(),
        "available": True,
        "data": str(data),
        "seed": manifest.get("seed"),
        "perturb": manifest.get("perturb"),
        "perturb_seed": manifest.get("perturb_seed"),
        "persona_file_sha256": manifest.get("persona_file_sha256"),
        "models": score_predictions(
            frame,
            predictions,
            clusterer.predict_cluster(frame),
            train_types,
            seed=random_state,
        ),
    }


def headline(evaluations: Mapping[str, dict[str, Any]], model: str) -> dict[str, Any]:
    """The worst macro-F1 of ``model`` over the available evaluations, named."""
    scores = {
        name: ev["models"][model]
        for name, ev in evaluations.items()
        if ev.get("available") and ev["models"][model]["macro_f1"] is not None
    }
    if not scores:
        return {"evaluation": None, "model": model, "macro_f1": None, "ci95": None}
    worst = min(scores, key=lambda name: scores[name]["macro_f1"])
    chance = evaluations[worst]["models"]["chance"]
    return {
        "evaluation": worst,
        "model": model,
        "macro_f1": scores[worst]["macro_f1"],
        "ci95": scores[worst]["ci95"],
        "chance_macro_f1": chance["macro_f1"],
        "kmeans_macro_f1": evaluations[worst]["models"]["kmeans"]["macro_f1"],
        "of": {name: score["macro_f1"] for name, score in scores.items()},
    }


def evaluate_generalisation(
    data: str | Path,
    features: pd.DataFrame,
    users: pd.DataFrame,
    type_models: Mapping[str, Any],
    style: UserClassifier,
    *,
    app_model: str,
    perturbed_data: str | Path | None = None,
    other_seed: tuple[str | Path, pd.DataFrame] | None = None,
    random_state: int = 0,
    n_estimators: int = 200,
    max_train_users: int = 5_000,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """The three evaluations of the module docstring and the ``headline`` (the worst).

    ``features`` are the training population's user features (by user id), ``users`` its
    users table; ``type_models`` (``kmeans`` and the classifiers) and ``style`` are the
    models fitted on it. ``other_seed`` is the other seed's dataset and its user features
    (computed once by training's evaluation of that dataset). An evaluation without its data
    is ``{"available": False}``.
    """
    base = evaluation_users(data, features, users)
    types = persona_types(data, users)
    out: dict[str, Any] = {
        "held_out_personas": held_out_personas(
            base,
            types,
            random_state=random_state,
            n_estimators=n_estimators,
            max_train_users=max_train_users,
            n_jobs=n_jobs,
        )
    }
    others = {
        "perturbed": perturbed_data,
        "other_seed": other_seed[0] if other_seed is not None else None,
    }
    for name, other in others.items():
        if other is None:
            out[name] = {"available": False}
            continue
        if name == "other_seed" and other_seed is not None:
            other_features, other_users = other_seed[1], read_dataset(other).frame("users")
        else:
            other_features, other_users = dataset_features(other)
        out[name] = transferred(
            evaluation_users(other, other_features, other_users),
            type_models,
            style,
            base.frame["spending_type"],
            data=other,
            random_state=random_state,
        )
    out["headline"] = headline({name: out[name] for name in EVALUATIONS}, app_model)
    out["truth"] = base.summary()
    return out
