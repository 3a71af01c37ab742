"""A whole-run series in a fixed number of buckets: min, max and mean per bucket (pure numpy).

The chart pans and zooms over the whole run, but a run may be endless: holding every step would
grow memory by tens of bytes a step (1M steps took a headless run from 218 to 296 MB). This keeps
``buckets`` buckets of ``width`` steps each; when the run outgrows them, neighbouring buckets are
merged pairwise and ``width`` doubles, so the size never changes and every step stays counted.
Recent steps are drawn from the telemetry's ring at full resolution; this serves the rest.

>>> d = Downsampled(buckets=4)
>>> d.add(0, np.array([1.0, 3.0, 5.0, 7.0, 9.0]))
>>> d.width, d.means().tolist()
(2, [2.0, 6.0, 9.0, nan])
>>> column_means(d, 0, 4, 2).tolist()
[2.0, 6.0]
"""

from __future__ import annotations

import numpy as np

DEFAULT_BUCKETS = 4096


class Downsampled:
    """Sum, count, min and max of the finite values of each bucket of ``width`` steps."""

    def __init__(self, buckets: int = DEFAULT_BUCKETS) -> None:
        if buckets < 2 or buckets % 2:
            raise ValueError(f"buckets must be an even number >= 2, got {buckets}")
        self.buckets = buckets
        self.width = 1
        self.steps = 0  # steps added so far (the series covers [0, steps))
        self.sum = np.zeros(buckets)
        self.count = np.zeros(buckets, dtype=np.int64)
        self.low = np.full(buckets, np.nan)
        self.high = np.full(buckets, np.nan)

    @property
    def nbytes(self) -> int:
        return self.sum.nbytes + self.count.nbytes + self.low.nbytes + self.high.nbytes

    def add(self, start: int, values: np.ndarray) -> None:
        """Add the values of steps [start, start + len(values)); steps come in order."""
        n = len(values)
        if n == 0:
            return
        if start != self.steps:
            raise ValueError(f"steps must come in order: expected {self.steps}, got {start}")
        stop = start + n
        while (stop - 1) // self.width >= self.buckets:
            self._halve()
        first = start // self.width
        steps = np.arange(start, stop)
        cuts = np.flatnonzero(np.diff(steps // self.width)) + 1  # where a new bucket begins
        edges = np.concatenate(([0], cuts))
        touched = slice(first, first + len(edges))
        good = np.isfinite(values)
        self.sum[touched] += np.add.reduceat(np.where(good, values, 0.0), edges)
        self.count[touched] += np.add.reduceat(good.astype(np.int64), edges)
        with np.errstate(invalid="ignore"):  # an all-NaN bucket stays NaN
            self.low[touched] = np.fmin(self.low[touched], np.fmin.reduceat(values, edges))
            self.high[touched] = np.fmax(self.high[touched], np.fmax.reduceat(values, edges))
        self.steps = stop

    def _halve(self) -> None:
        """Merge buckets pairwise: ``width`` doubles, the second half starts empty."""
        half = self.buckets // 2
        self.sum[:half] = self.sum[0::2] + self.sum[1::2]
        self.count[:half] = self.count[0::2] + self.count[1::2]
        self.low[:half] = np.fmin(self.low[0::2], self.low[1::2])
        self.high[:half] = np.fmax(self.high[0::2], self.high[1::2])
        self.sum[half:], self.count[half:] = 0.0, 0
        self.low[half:], self.high[half:] = np.nan, np.nan
        self.width *= 2

    def means(self) -> np.ndarray:
        """The mean of each bucket (NaN where a bucket holds no finite value)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.sum / np.maximum(self.count, 1), np.nan)

    def value_range(self, start: int, end: int) -> tuple[float, float] | None:
        """(min, max) over the buckets that overlap steps [start, end); None when empty."""
        lo, hi = start // self.width, min(self.buckets, (end - 1) // self.width + 1)
        low, high = self.low[lo:hi], self.high[lo:hi]
        if not np.isfinite(low).any():
            return None
        return float(np.nanmin(low)), float(np.nanmax(high))


def column_means(series: Downsampled, start: int, end: int, columns: int) -> np.ndarray:
    """The mean of each of ``columns`` equal slices of steps [start, end), from the buckets.

    A column narrower than a bucket gets the part of that bucket it covers (the bucket's mean);
    a wider one the count-weighted mean of the buckets under it. Cumulative sums over bucket
    boundaries, interpolated at the column edges, do both in one pass.
    """
    if columns <= 0 or end <= start:
        return np.full(max(columns, 0), np.nan)
    width = series.width
    used = min(series.buckets, (series.steps - 1) // width + 1) if series.steps else 0
    if used == 0:
        return np.full(columns, np.nan)
    # steps covered by each bucket (the last one may be partial)
    covered = np.full(used, float(width))
    covered[-1] = series.steps - (used - 1) * width
    # per-step density of sum and count inside each bucket, integrated at bucket boundaries
    bounds = np.concatenate(([0.0], np.cumsum(covered)))
    cum_sum = np.concatenate(([0.0], np.cumsum(series.sum[:used])))
    cum_count = np.concatenate(([0.0], np.cumsum(series.count[:used].astype(float))))
    edges = np.linspace(start, end, columns + 1)
    s = np.interp(edges, bounds, cum_sum)
    c = np.interp(edges, bounds, cum_count)
    sums, counts = np.diff(s), np.diff(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 1e-9, sums / np.where(counts > 1e-9, counts, 1.0), np.nan)
