"""Quality metrics shared by engines, the MAPE loop's monitor and run summaries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def r2(truth: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination; 0.0 for a constant truth.

    >>> r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    1.0
    >>> r2(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))
    0.0
    """
    truth = np.asarray(truth, dtype=float)
    pred = np.asarray(pred, dtype=float)
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
