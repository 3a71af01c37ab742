"""Training the regression models: the LSTM in the worker process (everything here must
pickle), linear, svm and naive in a thread of the run's process (so nothing here keeps state).

Hyper-parameters are chosen by validation on the last 20% of the training data (in time order),
unless ``TrainRequest.params`` fixes them. The published HarmonE Ridge (alpha = 256) is heavily
over-regularised on PeMS flow, so the grid starts far below it; the choice and its validation R²
are recorded in the version's metadata.
"""

from __future__ import annotations

import pickle
import time
from typing import Any

import numpy as np

from engines.base import EngineError, TrainRequest, TrainResult
from engines.metrics import r2
from engines.regression.limits import VALUE_LIMIT

WINDOW = 5
VALIDATION_FRACTION = 0.2
RIDGE_ALPHAS = (0.01, 0.1, 1.0, 10.0, 256.0)
SVR_CS = (0.1, 1.0, 10.0)
SVR_EPSILON = 0.01


def windows(scaled: np.ndarray, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (previous ``window`` values) and targets (the next value) of a series.

    >>> x, y = windows(np.arange(7.0), window=5)
    >>> x.tolist(), y.tolist()
    ([[0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0]], [5.0, 6.0])
    """
    view = np.lib.stride_tricks.sliding_window_view(scaled, window + 1)
    return np.ascontiguousarray(view[:, :window]), np.ascontiguousarray(view[:, window])


def check_training_values(values: np.ndarray, source: str) -> None:
    """Refuse training data the models cannot learn from, with one line naming ``source``.

    Runs where the data is read (``--train``) and again in the worker (a retraining window
    comes from the stream). Values must be finite and within ±``VALUE_LIMIT`` (beyond, scikit-learn
    met NaN after scaling and failed with a traceback), and must not all be equal: the min-max
    scaler divides by the training range, and a model fitted on one repeated value predicts only it.
    """
    if len(values) < WINDOW + 10:
        raise EngineError(
            f"{source}: too few rows to train on: {len(values)} (need at least {WINDOW + 10})"
        )
    outside = ~(np.abs(values) <= VALUE_LIMIT)
    if outside.any():
        first = int(np.argmax(outside))
        raise EngineError(
            f"{source}: training value {first + 1} is {float(values[first]):g};"
            f" values must be finite and within ±{VALUE_LIMIT:.0e}"
        )
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        raise EngineError(
            f"{source}: all {len(values)} training values are {lo:g}; the models scale by the"
            f" training range (max - min), which is zero: train on values that vary"
        )


def _scaler(values: np.ndarray) -> dict[str, float]:
    return {"min": float(values.min()), "max": float(values.max())}


def _split(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    cut = max(1, int(len(x) * (1 - VALIDATION_FRACTION)))
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _fit_sklearn(
    model: str, x: np.ndarray, y: np.ndarray, params: dict[str, Any]
) -> tuple[Any, dict[str, Any], float]:
    """Choose the hyper-parameter on the validation split, then refit on all the data."""
    from sklearn.linear_model import Ridge
    from sklearn.svm import SVR

    def make(value: float) -> Any:
        if model == "linear":
            return Ridge(alpha=value)
        return SVR(kernel="linear", C=value, epsilon=SVR_EPSILON)

    key = "alpha" if model == "linear" else "C"
    grid = RIDGE_ALPHAS if model == "linear" else SVR_CS
    x_tr, y_tr, x_va, y_va = _split(x, y)
    scores: dict[str, float] = {}
    candidates = (float(params[key]),) if key in params else grid
    for value in candidates:
        scores[str(value)] = r2(y_va, make(value).fit(x_tr, y_tr).predict(x_va))
    chosen = float(max(candidates, key=lambda v: scores[str(v)]))
    fitted = make(chosen).fit(x, y)
    return fitted, {key: chosen, "validation_r2_by_" + key: scores}, scores[str(chosen)]


def train_model(request: TrainRequest) -> TrainResult:
    """Train one model on ``request.data`` (1-D array of values) into ``request.out_dir``."""
    started = time.process_time()
    values = np.asarray(request.data, dtype=float)
    check_training_values(values, f"{request.model} training data")
    scaler = _scaler(values)
    scaled = (values - scaler["min"]) / (scaler["max"] - scaler["min"])
    x, y = windows(scaled)
    meta: dict[str, Any] = {"scaler": scaler, "window": WINDOW, "train_rows": int(len(values))}
    x_tr, y_tr, x_va, y_va = _split(x, y)
    if request.model in ("linear", "svm"):
        fitted, chosen, val_r2 = _fit_sklearn(request.model, x, y, request.params)
        with (request.out_dir / "model.pkl").open("wb") as handle:
            pickle.dump(fitted, handle)
    elif request.model == "lstm":
        from engines.regression.lstm import fit_lstm

        chosen, val_r2 = fit_lstm(
            x_tr, y_tr, x_va, y_va, request.params, request.seed, request.out_dir
        )
    elif request.model == "naive":
        chosen, val_r2 = {}, r2(y_va, x_va[:, -1])
    else:
        raise ValueError(f"unknown regression model {request.model!r}")
    meta["hyperparameters"] = chosen
    meta["validation_r2"] = val_r2
    meta["persistence_validation_r2"] = r2(y_va, x_va[:, -1])
    return TrainResult(request.model, meta, time.process_time() - started)
