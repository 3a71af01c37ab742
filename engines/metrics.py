"""Quality metrics shared by engines, the MAPE loop's monitor and run summaries."""

from __future__ import annotations

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
