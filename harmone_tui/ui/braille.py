"""Line charts in braille dots, with numpy: each terminal cell holds 2×4 dots.

Pure numpy, no Textual, so it is cheap and testable on its own. The chart widget asks for a
:class:`Plot` of some series over a window of steps and gets back, per cell, a braille character
and the index of the layer that owns the cell's colour. The earlier renderer (plotext) built the
figure cell by cell in Python and round-tripped it through ANSI text: about 30 ms a frame, on the
same thread as the UI's event loop and, through the GIL, the inference thread. This one takes
well under a millisecond for a full-width chart.

>>> plot = Plot(width=2, height=1, y_range=(0.0, 1.0))
>>> plot.add_line(np.array([0.0, 1.0 / 3, 2.0 / 3, 1.0]))
0
>>> plot.text_rows()
['⣠⠞']
"""

from __future__ import annotations

import numpy as np

BRAILLE_BASE = 0x2800
# Bit of each dot, indexed [row within the cell (0 = top), column within the cell].
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint16)
NO_LAYER = -1


def resample(values: np.ndarray, columns: int) -> np.ndarray:
    """``values`` (one per step, NaN for none) as one value per dot column.

    More steps than columns: the mean of each column's steps (NaN ignored). Fewer: linear
    interpolation between steps, so a short window still draws as lines, not isolated dots.
    """
    n = len(values)
    values = np.asarray(values, dtype=float)
    if n == 0 or columns <= 0:
        return np.full(max(columns, 0), np.nan)
    if n >= columns:
        edges = (np.arange(columns) * n) // columns
        good = np.isfinite(values)
        sums = np.add.reduceat(np.where(good, values, 0.0), edges)
        counts = np.add.reduceat(good.astype(np.int64), edges)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    if n == 1:
        return np.full(columns, values[0])
    positions = np.linspace(0, n - 1, columns)
    out = np.interp(positions, np.arange(n), values)
    missing = ~np.isfinite(values)
    if missing.any():  # a column touching a missing step stays empty
        near = np.rint(positions).astype(int)
        out[missing[near]] = np.nan
    return out


def value_range(*series: np.ndarray) -> tuple[float, float] | None:
    """(low, high) over the finite values of the series; None when there are none."""
    finite = [s[np.isfinite(s)] for s in series]
    finite = [f for f in finite if f.size]
    if not finite:
        return None
    low = float(min(f.min() for f in finite))
    high = float(max(f.max() for f in finite))
    if high - low < 1e-12:
        pad = max(abs(high) * 0.05, 0.5)
        low, high = low - pad, high + pad
    return low, high


class Plot:
    """A grid of ``width`` × ``height`` cells; layers drawn later sit on top for colour."""

    def __init__(self, width: int, height: int, y_range: tuple[float, float]) -> None:
        self.width, self.height = max(0, width), max(0, height)
        self.low, self.high = y_range
        self.dots = np.zeros((self.height * 4, self.width * 2), dtype=bool)
        self.owner = np.full((self.height, self.width), NO_LAYER, dtype=np.int16)
        self.layers = 0

    def row_of(self, values: np.ndarray) -> np.ndarray:
        """Dot row (0 = top) of each value; NaN stays NaN."""
        rows = self.height * 4
        span = self.high - self.low
        scaled = (self.high - values) / span * (rows - 1)
        return np.clip(np.rint(scaled), 0, rows - 1)

    def add_line(self, column_values: np.ndarray, dashed: bool = False) -> int:
        """Draw one value per dot column, joined column to column; returns the layer index.

        ``dashed`` leaves out every other cell's dots (two dot columns drawn, two skipped), so
        two lines tell apart by their pattern where colour is missing (NO_COLOR, mono terminals).
        """
        layer = self.layers
        self.layers += 1
        columns = self.width * 2
        if columns == 0 or self.height == 0:
            return layer
        values = np.full(columns, np.nan)
        given = np.asarray(column_values, dtype=float)[:columns]
        values[: len(given)] = given
        y = self.row_of(values)
        previous = np.concatenate(([np.nan], y[:-1]))
        joined = np.where(np.isfinite(previous), previous, y)
        top, bottom = np.minimum(y, joined), np.maximum(y, joined)  # NaN (no value) stays NaN
        rows = np.arange(self.height * 4)[:, None]
        mask = (rows >= top[None, :]) & (rows <= bottom[None, :])  # NaN compares False: no dots
        if dashed:
            mask[:, np.arange(columns) % 4 >= 2] = False
        self._paint(mask, layer)
        return layer

    def add_vertical(self, column: int) -> int:
        """A full-height line of dots at one dot column; returns the layer index."""
        layer = self.layers
        self.layers += 1
        if 0 <= column < self.width * 2:
            mask = np.zeros_like(self.dots)
            mask[:, column] = True
            self._paint(mask, layer)
        return layer

    def _paint(self, mask: np.ndarray, layer: int) -> None:
        self.dots |= mask
        cells = mask.reshape(self.height, 4, self.width, 2).any(axis=(1, 3))
        self.owner[cells] = layer

    def codes(self) -> np.ndarray:
        """The braille code point of each cell (``BRAILLE_BASE`` for an empty one)."""
        grid = self.dots.reshape(self.height, 4, self.width, 2)
        bits = (grid * DOT_BITS[None, :, None, :]).sum(axis=(1, 3))
        return (BRAILLE_BASE + bits).astype(np.uint32)

    def text_rows(self) -> list[str]:
        """Each row as text, empty cells as spaces (for tests and doctests)."""
        return [
            "".join(" " if c == BRAILLE_BASE else chr(c) for c in row)
            for row in self.codes().tolist()
        ]


def nice_ticks(low: float, high: float, count: int) -> list[float]:
    """``count`` evenly spaced values from ``high`` down to ``low`` (the y-axis labels)."""
    if count <= 1:
        return [high]
    return [high - i * (high - low) / (count - 1) for i in range(count)]


def tick_format(low: float, high: float) -> str:
    """A format with as many decimals as the range needs (0–3)."""
    span = abs(high - low)
    decimals = 0 if span >= 100 else 1 if span >= 10 else 2 if span >= 1 else 3
    return f"{{:,.{decimals}f}}"
