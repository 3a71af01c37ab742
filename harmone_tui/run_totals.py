"""Whole-run summary figures kept as running aggregates, so the summary needs no step history.

R² needs the truth's spread about its own whole-run mean; batches are merged with Chan et al.'s
parallel update of (count, mean, M2), which is exact in real arithmetic and as accurate in
floating point as numpy's two-pass formula over the whole array. Sums use Neumaier's compensated
summation, so a million small energy figures add up without drift. Only the 95th latency
percentile cannot be exact without every value: it comes from a log-spaced histogram whose bins
are 0.5% wide (``P95_RELATIVE_ERROR``), far below the spread of latencies between two runs.

>>> t = RunTotals(2)
>>> zeros, ones = np.zeros(2), np.ones(2)
>>> t.add(np.array([1.0, 2.0]), np.array([1.0, 2.5]), zeros, zeros, ones, np.array([0, 0]))
>>> t.add(np.array([3.0]), np.array([3.0]), zeros[:1], zeros[:1], ones[:1], np.array([1]))
>>> round(t.r2(), 6), round(t.mae(), 6), t.counts.tolist()
(0.875, 0.166667, [2, 1])
"""

from __future__ import annotations

import numpy as np

BINS_PER_DECADE = 460  # 10 ** (1 / 460) = 1.005: bins 0.5% wide
LOWEST_MS = 1e-6
DECADES = 12  # 1 ns .. 1000 s
P95_RELATIVE_ERROR = 10 ** (1 / BINS_PER_DECADE) - 1


class CompensatedSum:
    """A float sum with Neumaier's compensation (error independent of the number of terms)."""

    __slots__ = ("_c", "_s")

    def __init__(self) -> None:
        self._s = 0.0
        self._c = 0.0

    def add(self, x: float) -> None:
        t = self._s + x
        if abs(self._s) >= abs(x):
            self._c += (self._s - t) + x
        else:
            self._c += (x - t) + self._s
        self._s = t

    @property
    def value(self) -> float:
        return self._s + self._c


class LogHistogram:
    """Counts of positive values in log-spaced bins, for a percentile of a whole run."""

    def __init__(self) -> None:
        self.counts = np.zeros(BINS_PER_DECADE * DECADES + 2, dtype=np.int64)  # +under, +over

    def add(self, values: np.ndarray) -> None:
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = np.floor(np.log10(np.asarray(values, dtype=float) / LOWEST_MS) * BINS_PER_DECADE)
        idx = np.clip(np.nan_to_num(pos, nan=-1.0, neginf=-1.0), -1, len(self.counts) - 2) + 1
        self.counts += np.bincount(idx.astype(np.int64), minlength=len(self.counts))

    def percentile(self, q: float) -> float | None:
        """The value below which ``q`` % of the values lie (the geometric middle of its bin)."""
        total = int(self.counts.sum())
        if total == 0:
            return None
        rank = q / 100.0 * (total - 1)
        b = int(np.searchsorted(np.cumsum(self.counts), rank, side="right"))
        if b == 0:
            return 0.0
        return LOWEST_MS * 10 ** ((b - 1 + 0.5) / BINS_PER_DECADE)


class RunTotals:
    """Running aggregates of a run: see the module docstring."""

    def __init__(self, models: int) -> None:
        self.steps = 0
        self.counts = np.zeros(models, dtype=np.int64)  # steps per model index
        self.known = 0  # steps with a truth
        self._truth_mean = 0.0
        self._truth_m2 = 0.0
        self._sq_error = CompensatedSum()
        self._abs_error = CompensatedSum()
        self._prediction = CompensatedSum()
        self._energy_mj = CompensatedSum()
        self._cpu_ms = CompensatedSum()
        self._latency_ms = CompensatedSum()
        self.latency = LogHistogram()

    @property
    def nbytes(self) -> int:
        return self.counts.nbytes + self.latency.counts.nbytes

    def add(
        self,
        truth: np.ndarray,
        prediction: np.ndarray,
        energy_mj: np.ndarray,
        cpu_ms: np.ndarray,
        latency_ms: np.ndarray,
        models: np.ndarray,
    ) -> None:
        """Steps in order; ``models`` holds each step's model index."""
        n = len(prediction)
        if n == 0:
            return
        self.steps += n
        self.counts += np.bincount(models, minlength=len(self.counts))
        self._prediction.add(float(np.sum(prediction)))
        self._energy_mj.add(float(np.sum(energy_mj)))
        self._cpu_ms.add(float(np.sum(cpu_ms)))
        self._latency_ms.add(float(np.sum(latency_ms)))
        self.latency.add(latency_ms)
        known = ~np.isnan(truth)
        k = int(known.sum())
        if k == 0:
            return
        t, p = truth[known], prediction[known]
        self._sq_error.add(float(np.sum((t - p) ** 2)))
        self._abs_error.add(float(np.sum(np.abs(t - p))))
        mean = float(np.mean(t))
        m2 = float(np.sum((t - mean) ** 2))
        total = self.known + k
        delta = mean - self._truth_mean
        self._truth_m2 += m2 + delta * delta * self.known * k / total
        self._truth_mean += delta * k / total
        self.known = total

    def r2(self) -> float | None:
        """R² of every step with a truth; 0.0 for a constant truth (as engines.metrics.r2)."""
        if self.known < 2:
            return None
        if self._truth_m2 == 0.0:
            return 0.0
        return 1.0 - self._sq_error.value / self._truth_m2

    def mae(self) -> float | None:
        return self._abs_error.value / self.known if self.known else None

    def mean(self, figure: str) -> float | None:
        """Mean per step of ``prediction``, ``energy_mj``, ``cpu_ms`` or ``latency_ms``."""
        return self.total(figure) / self.steps if self.steps else None

    def total(self, figure: str) -> float:
        return float(getattr(self, f"_{figure}").value)

    def latency_p95(self) -> float | None:
        return self.latency.percentile(95.0)
