"""Per-step telemetry of a run, kept in preallocated arrays (the whole run, not the last 10 points).

The inference thread fills rows; front ends read slices. Summary figures (R², MAE, energy per
inference, latency percentiles, share of steps per model) are computed from these arrays, and the
adaptation counters from the events in the knowledge store.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from engines.metrics import r2
from harmone_tui.inference import BatchFigures


@dataclass
class Telemetry:
    """Arrays indexed by step; ``count`` rows are filled."""

    capacity: int
    models: tuple[str, ...]

    def __post_init__(self) -> None:
        n = self.capacity
        self.truth = np.full(n, np.nan)
        self.prediction = np.full(n, np.nan)
        self.drift_value = np.zeros(n)
        self.model_index = np.zeros(n, dtype=np.int16)
        self.version = np.zeros(n, dtype=np.int32)
        self.latency_ms = np.zeros(n)
        self.cpu_ms = np.zeros(n)
        self.energy_mj = np.zeros(n)
        self.count = 0

    def record(
        self, start: int, figures: BatchFigures, model: str, version: int,
        j_per_cpu_s: float | None,
    ) -> int:
        """Store a batch's figures from ``start``; energy from CPU time when ``j_per_cpu_s`` is
        given (the estimated meter), else from the RAPL readings. Returns the next step."""
        stop = start + len(figures.predictions)
        self.prediction[start:stop] = figures.predictions
        self.truth[start:stop] = figures.truths
        self.drift_value[start:stop] = figures.drift_values
        self.latency_ms[start:stop] = np.asarray(figures.latency_ns) / 1e6
        self.cpu_ms[start:stop] = np.asarray(figures.cpu_ns) / 1e6
        if j_per_cpu_s is not None:
            self.energy_mj[start:stop] = self.cpu_ms[start:stop] * j_per_cpu_s
        else:
            self.energy_mj[start:stop] = np.asarray(figures.energy_j) * 1e3
        self.model_index[start:stop] = self.model_id(model)
        self.version[start:stop] = version
        self.count = stop
        return stop

    def step_rows(self, lo: int, hi: int, run_id: int, source: str) -> list[tuple[Any, ...]]:
        """Rows of the knowledge store's ``steps`` table for steps [lo, hi).

        NaN truths (vision) stay floats: SQLite stores NaN as NULL.
        """
        n = hi - lo
        names = [self.models[m] for m in self.model_index[lo:hi].tolist()]
        return list(zip(
            repeat(run_id, n), range(lo, hi), self.truth[lo:hi].tolist(),
            self.prediction[lo:hi].tolist(), names, self.version[lo:hi].tolist(),
            self.latency_ms[lo:hi].tolist(), self.cpu_ms[lo:hi].tolist(),
            self.energy_mj[lo:hi].tolist(), repeat(source, n), strict=False,
        ))

    def model_id(self, name: str) -> int:
        return self.models.index(name)

    def model_share(self, upto: int | None = None) -> dict[str, float]:
        n = self.count if upto is None else upto
        if n == 0:
            return {m: 0.0 for m in self.models}
        counts = np.bincount(self.model_index[:n], minlength=len(self.models))
        return {m: round(float(c) / n, 4) for m, c in zip(self.models, counts, strict=True)}

    def summary(self, quality_metric: str) -> dict[str, Any]:
        """Whole-run accuracy and cost figures."""
        n = self.count
        out: dict[str, Any] = {"steps": n}
        truth, pred = self.truth[:n], self.prediction[:n]
        known = ~np.isnan(truth)
        if quality_metric == "r2":
            out["r2"] = r2(truth[known], pred[known]) if known.sum() > 1 else None
            out["mae"] = float(np.mean(np.abs(truth[known] - pred[known]))) if known.any() else None
        else:
            out["mean_confidence"] = float(np.mean(pred)) if n else None
        out["energy_mj_per_inference"] = float(np.mean(self.energy_mj[:n])) if n else None
        out["energy_j_total"] = float(np.sum(self.energy_mj[:n]) / 1000.0)
        out["cpu_ms_per_inference"] = float(np.mean(self.cpu_ms[:n])) if n else None
        out["latency_ms_mean"] = float(np.mean(self.latency_ms[:n])) if n else None
        out["latency_ms_p95"] = float(np.percentile(self.latency_ms[:n], 95)) if n else None
        out["model_share"] = self.model_share()
        return out
