"""How much each scenario hurts each model, measured with the engine's own training and predict.

The models are trained as the app trains them on first use (``train_model`` on the training set,
seed 7) and run through ``RegressionEngine.samples()`` and ``ScaledModel.predict``: the same
inputs, scaling and calls as a run. Blank cells are held (the last value repeats), as the CSV
reader's likely default ``--gaps hold`` does.

Figures per scenario: R² of each model over the clean rows predicted from clean rows, and over
the rows of each fault regime (pooled over its segments), against the stream the engine reads:
what a run's quality window sees (a constant stream scores 0, as in ``engines.metrics.r2``).
Where the fault is in the sensor (the stream differs from what a working sensor reports), also
R² against that true flow: a stuck or held reading is "predicted" well and says nothing about
the traffic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import TrainRequest
from engines.metrics import r2
from engines.regression.engine import RegressionEngine, ScaledModel
from engines.regression.training import WINDOW, train_model

MODELS = ("linear", "svm", "lstm", "naive")
HURT_MARGIN = 0.02  # an R² drop below this is noise between days, not harm
# Regimes whose rows carry no reading of the traffic (frozen, or blank and held by the reader):
# a model "predicts" them well, so their harm is counted against the true flow.
UNOBSERVED = ("stuck", "dropout")
RETRAIN_WINDOW = 1200  # the presets' [retrain].window: what a run retrains on


def train_models(train: np.ndarray, cache: Path, seed: int = 7) -> dict[str, ScaledModel]:
    """Train each model on ``train`` into ``cache/<model>`` (kept there: re-runs reuse them)."""
    engine = RegressionEngine(train, train, source="training set")
    loaded = {}
    for model in MODELS:
        directory = cache / model
        if not (directory / "meta.json").exists():
            directory.mkdir(parents=True, exist_ok=True)
            result = train_model(TrainRequest("regression", model, train, directory, seed=seed))
            (directory / "meta.json").write_text(json.dumps(result.meta, default=str))
        loaded[model] = engine.load(model, 1, directory)
    return loaded


def held(flow: np.ndarray) -> np.ndarray:
    """Blank cells (NaN) take the last value before them."""
    index = np.where(np.isnan(flow), 0, np.arange(len(flow)))
    return flow[np.maximum.accumulate(index)]


def predictions(model: ScaledModel, stream: np.ndarray, train: np.ndarray) -> np.ndarray:
    """One prediction per row from row ``WINDOW`` on, as a run makes them."""
    engine = RegressionEngine(stream, train)
    return np.array([model.predict(sample.x) for sample in engine.samples()])


def measure(
    flow: np.ndarray,
    true_flow: np.ndarray,
    regime: np.ndarray,
    models: dict[str, ScaledModel],
    train: np.ndarray,
) -> dict[str, Any]:
    """R² per model: clean rows, each fault regime (and against the true flow), and the drop."""
    stream = held(flow)
    labels = np.asarray(regime)[WINDOW:]
    truth, real = stream[WINDOW:], true_flow[WINDOW:]
    faulty = np.asarray(regime) != "clean"
    # prediction k reads rows k .. k+4 and is scored on row k+5: clean if all six are
    clean = ~np.lib.stride_tricks.sliding_window_view(faulty, WINDOW + 1).any(axis=1)
    faults = [str(f) for f in dict.fromkeys(labels.tolist()) if f != "clean"]
    out: dict[str, Any] = {"clean": {}, "faults": {f: {} for f in faults}}
    for name, model in models.items():
        pred = predictions(model, stream, train)
        base = r2(truth[clean], pred[clean])
        out["clean"][name] = round(base, 3)
        for fault in faults:
            rows = labels == fault
            figure = {"r2": round(r2(truth[rows], pred[rows]), 3)}
            figure["drop"] = round(base - figure["r2"], 3)
            if not np.array_equal(truth[rows], real[rows]):
                figure["r2_true"] = round(r2(real[rows], pred[rows]), 3)
                figure["drop_true"] = round(base - figure["r2_true"], 3)
            out["faults"][fault][name] = figure
    for fault in faults:
        out["faults"][fault] = {"models": out["faults"][fault], "hurts": hurts(out, fault)}
    return out


def hurts(result: dict[str, Any], fault: str) -> list[str]:
    """Models whose R² drops by more than ``HURT_MARGIN``, worst first.

    On the stream (what a run scores and regret is counted on), except for ``UNOBSERVED``
    regimes, where it is against the true flow. Elsewhere the true-flow figure is recorded but
    left out here: every model fed a faulty sensor loses it alike.
    """
    key = "drop_true" if fault in UNOBSERVED else "drop"
    drops = {m: f[key] for m, f in result["faults"][fault].items()}
    return sorted((m for m, d in drops.items() if d > HURT_MARGIN), key=lambda m: -drops[m])


def reuse_gain(
    flow: np.ndarray,
    regime: np.ndarray,
    models: dict[str, ScaledModel],
    train: np.ndarray,
    scratch: Path,
    seed: int = 7,
) -> dict[str, Any]:
    """For a fault that comes back: R² on its later segments of the base models and of models
    retrained (as a run retrains: the last ``RETRAIN_WINDOW`` rows) on its first segment.

    What a stored version is worth when the regime recurs: the gain reuse can bring at once.
    """
    stream = held(flow)
    labels = np.asarray(regime)
    out: dict[str, Any] = {}
    for fault in [f for f in dict.fromkeys(labels.tolist()) if f != "clean"]:
        rows = np.flatnonzero(labels == fault)
        breaks = np.flatnonzero(np.diff(rows) > 1)
        if not len(breaks):
            continue
        first = rows[: breaks[0] + 1]
        if len(first) < RETRAIN_WINDOW:  # too short for a run to retrain on (noise bursts)
            continue
        later = rows[breaks[0] + 1 :]
        later = later[later >= WINDOW] - WINDOW  # prediction index of each later row
        data = stream[first[0] : first[-1] + 1][-RETRAIN_WINDOW:]
        figures = {}
        for name in (m for m in MODELS if m != "naive"):
            directory = scratch / f"{fault}-{name}"
            directory.mkdir(parents=True, exist_ok=True)
            result = train_model(TrainRequest("regression", name, data, directory, seed=seed))
            (directory / "meta.json").write_text(json.dumps(result.meta, default=str))
            engine = RegressionEngine(data, train)
            retrained = engine.load(name, 2, directory)
            truth = stream[WINDOW:][later]
            base = predictions(models[name], stream, train)[later]
            again = predictions(retrained, stream, train)[later]
            figures[name] = {
                "base": round(r2(truth, base), 3),
                "reused": round(r2(truth, again), 3),
            }
        out[fault] = {
            "trained_on_rows": [int(first[-1]) + 1 - len(data), int(first[-1]) + 1],
            "models": figures,
        }
    return out
