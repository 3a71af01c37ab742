"""Quality metrics shared by engines, the MAPE loop's monitor and run summaries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SAFE_SCALE = 1e100  # squares of values up to this, summed over millions of rows, stay finite


def r2(truth: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination; 0.0 for a constant truth; NaN (never a numpy warning on the
    terminal) only when a prediction is itself NaN or infinite.

    R² does not change when truth and prediction are scaled together, so values too large to
    square in float64 are divided by their largest magnitude first (a column of 1e300 used to
    give R² ``nan`` and overflow warnings).

    >>> r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    1.0
    >>> r2(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))
    0.0
    >>> round(r2(np.array([1e300, 2e300, 3e300]), np.array([1e300, 2e300, 4e300])), 6)
    0.5
    """
    truth = np.asarray(truth, dtype=float)
    pred = np.asarray(pred, dtype=float)
    with np.errstate(all="ignore"):
        scale = float(max(np.max(np.abs(truth), initial=0.0), np.max(np.abs(pred), initial=0.0)))
        if scale > SAFE_SCALE:
            truth, pred = truth / scale, pred / scale
        ss_tot = float(np.sum((truth - truth.mean()) ** 2))
        if ss_tot == 0.0:
            return 0.0
        return 1.0 - float(np.sum((truth - pred) ** 2)) / ss_tot


def window_r2(predictions: Sequence[float], truths: Sequence[float | None]) -> float:
    """R² of a window of predictions against the truths that are known (None or NaN: unknown).

    >>> window_r2([1.0, 2.0, 9.0], [1.0, 2.0, None])
    1.0
    >>> window_r2([1.0], [1.0])
    0.0
    """
    pairs = [(p, t) for p, t in zip(predictions, truths, strict=True) if t is not None and t == t]
    if len(pairs) < 2:
        return 0.0
    arr = np.asarray(pairs, dtype=float)
    return r2(arr[:, 1], arr[:, 0])
