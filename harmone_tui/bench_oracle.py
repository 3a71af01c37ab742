"""The oracle bound of `harmone bench`: the best model per window, chosen in hindsight.

Every model's first version predicts every step of the scenario (the same engine, inputs and
serving path as a run). The stream is cut into windows of ``window`` steps; in each, the oracle
takes the model with the smallest squared error there. Its R² over the whole stream is what a
switching policy could reach with perfect foresight and no retraining: the headroom of model
choice. A policy that retrains can beat it; one that only switches cannot.

Energy is each model's CPU time over its pass at the run's J per CPU-second (as a run estimates
it), charged to the oracle per step for the model it picked.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from engines.metrics import r2


def best_per_window(truth: np.ndarray, preds: dict[str, np.ndarray], window: int) -> list[str]:
    """The model with the smallest squared error in each window (ties: the first named).

    >>> t = np.array([0.0, 0, 1, 1])
    >>> best_per_window(t, {"a": np.array([0.0, 0, 0, 0]), "b": np.array([1.0, 1, 1, 1])}, 2)
    ['a', 'b']
    """
    names = list(preds)
    errors = np.stack([(preds[m] - truth) ** 2 for m in names])
    starts = range(0, len(truth), window)
    return [names[int(np.argmin(errors[:, s : s + window].sum(axis=1)))] for s in starts]


def oracle_from_predictions(
    truth: np.ndarray,
    preds: dict[str, np.ndarray],
    j_per_step: dict[str, float],
    window: int,
) -> dict[str, Any]:
    """The oracle's figures, and each model's own over the whole stream (a fixed-model check).

    >>> t = np.array([0.0, 1, 0, 1, 5, 6, 5, 6])
    >>> p = {"a": t + np.array([0, 0, 0, 0, 3, 3, 3, 3]), "b": t + 1}
    >>> o = oracle_from_predictions(t, p, {"a": 1.0, "b": 2.0}, 4)
    >>> o["choice"], o["switches"], o["energy_j"], o["models"]["a"]["r2"] < o["r2"]
    (['a', 'b'], 1, 12.0, True)
    """
    choice = best_per_window(truth, preds, window)
    picked = np.repeat(np.array(choice, dtype=object), window)[: len(truth)]
    oracle = np.empty_like(truth)
    for model in preds:
        rows = picked == model
        oracle[rows] = preds[model][rows]
    energy = float(sum(j_per_step[m] for m in picked))
    return {
        "window": window,
        "r2": r2(truth, oracle),
        "energy_j": energy,
        "switches": sum(a != b for a, b in zip(choice, choice[1:], strict=False)),
        "choice": choice,
        "share": {m: float(np.mean(picked == m)) for m in preds},
        "models": {
            m: {"r2": r2(truth, p), "energy_j": j_per_step[m] * len(truth)}
            for m, p in preds.items()
        },
    }


def oracle_figures(task: Any) -> dict[str, Any]:
    """Run every model of ``task`` (a :class:`harmone_tui.commands.bench_sweep.OracleTask`) over its
    scenario and return :func:`oracle_from_predictions` of it."""
    from engines.energy import create_meter
    from engines.registry import create_engine
    from harmone_tui import paths

    s = task.settings
    engine = create_engine(s.engine, **s.engine_options(), **paths.engine_dirs(s.data_dir))
    limit = engine.stream_length() if s.steps is None else min(s.steps, engine.stream_length())
    j_per_cpu_s = create_meter(s.j_per_cpu_s, profile=s.calibration_profile).j_per_cpu_s
    preds: dict[str, np.ndarray] = {}
    j_per_step: dict[str, float] = {}
    truth = np.empty(limit)
    for model, version, directory in task.versions:
        predict = engine.load(model, version, directory).predict
        out = np.empty(limit)
        started = time.process_time()
        for i, sample in zip(range(limit), engine.samples(), strict=False):
            out[i] = predict(sample.x)
            truth[i] = sample.truth
        j_per_step[model] = (time.process_time() - started) * j_per_cpu_s / max(limit, 1)
        preds[model] = out
    return oracle_from_predictions(truth, preds, j_per_step, task.window)
