"""Series for panels and charts, computed from the run's telemetry (pure numpy; no Textual).

The telemetry keeps recent steps in full and the whole run downsampled, so the chart can show any
window of it (Harmonica showed only the last 10 points); the functions here bucket a window down
to what fits on screen, so the cost of a redraw is bounded by the screen, not by the run's length.

>>> bucket_means(np.arange(10.0), 5)
[0.5, 2.5, 4.5, 6.5, 8.5]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from harmone_tui.downsample import column_means
from harmone_tui.ui.braille import resample, value_range

if TYPE_CHECKING:
    from harmone_tui.telemetry import Telemetry

QualityFn = Callable[[Sequence[float], Sequence[float | None]], float]


class RunSeries:
    """The chart's view of a run's telemetry: truth and prediction over any window of steps.

    While the ring still holds a window it is drawn at full resolution; older windows come from
    the whole-run buckets (means per column, the range from the buckets' min and max).
    """

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    @property
    def count(self) -> int:
        return self.telemetry.count

    def y_range(self, start: int, end: int) -> tuple[float, float] | None:
        """(min, max) of truth and prediction over steps [start, end)."""
        tel = self.telemetry
        if start >= tel.first_held:
            return value_range(tel.truth[start:end], tel.prediction[start:end])
        with tel.lock:  # the inference thread may be adding a batch to the buckets
            ranges = [
                r
                for r in (
                    tel.chart_truth.value_range(start, end),
                    tel.chart_prediction.value_range(start, end),
                )
                if r is not None
            ]
        return value_range(np.array([v for r in ranges for v in r])) if ranges else None

    def columns(self, start: int, end: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
        """Truth and prediction of steps [start, end) as ``columns`` values each."""
        tel = self.telemetry
        if start >= tel.first_held:
            return (
                resample(tel.truth[start:end], columns),
                resample(tel.prediction[start:end], columns),
            )
        with tel.lock:
            return (
                column_means(tel.chart_truth, start, end, columns),
                column_means(tel.chart_prediction, start, end, columns),
            )


def bucket_means(values: np.ndarray, buckets: int) -> list[float]:
    """Mean of each of ``buckets`` equal slices (NaN ignored; an all-NaN slice gives 0)."""
    n = len(values)
    if n == 0 or buckets <= 0:
        return []
    buckets = min(buckets, n)
    out = []
    for chunk in np.array_split(np.asarray(values, dtype=float), buckets):
        good = chunk[~np.isnan(chunk)]
        out.append(float(good.mean()) if good.size else 0.0)
    return out


def quality_series(
    quality: QualityFn,
    predictions: np.ndarray,
    truths: np.ndarray,
    buckets: int,
    floor: float = -1.0,
) -> list[float]:
    """Quality (R² or confidence) of each slice of a window, clipped below at ``floor``."""
    n = len(predictions)
    if n < 4:
        return []
    buckets = max(1, min(buckets, n // 4))
    out = []
    for p, t in zip(
        np.array_split(predictions, buckets), np.array_split(truths, buckets), strict=True
    ):
        tl = [None if v != v else float(v) for v in t.tolist()]
        out.append(max(floor, float(quality(p.tolist(), tl))))
    return out


def step_history(points: list[tuple[int, float]], buckets: int) -> list[float]:
    """The values of a (step, value) history, resampled to ``buckets`` slices of the step range."""
    if not points:
        return []
    steps = np.array([p[0] for p in points], dtype=float)
    values = np.array([p[1] for p in points], dtype=float)
    if len(points) <= buckets:
        return values.tolist()
    edges = np.linspace(steps[0], steps[-1], buckets + 1)
    idx = np.clip(np.searchsorted(edges, steps, side="right") - 1, 0, buckets - 1)
    out, last = [], float(values[0])
    for b in range(buckets):
        chosen = values[idx == b]
        last = float(chosen.max()) if chosen.size else last
        out.append(last)
    return out


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """The figures of a run summary worth a row each, in reading order."""
    keys = (
        "status",
        "steps",
        "r2",
        "mae",
        "mean_confidence",
        "energy_mj_per_inference",
        "energy_j_total",
        "energy_source",
        "latency_ms_mean",
        "latency_ms_p95",
        "cpu_ms_per_inference",
        "switches",
        "retrains",
        "reuses",
        "drifts",
        "errors",
        "wall_s",
        "policy",
        "engine",
        "data",
    )
    return [(k, summary[k]) for k in keys if k in summary]
