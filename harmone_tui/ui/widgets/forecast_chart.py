"""Prediction against truth over any window of the whole run, with adaptation markers.

Harmonica's chart showed the last 10 points. This one follows the tail by default and can be
panned (←/→), zoomed ([ / ]) and sent back to the start or the live end (home / end) over every
step of the run: the data comes from a :class:`ChartSource` (the run's telemetry: recent steps in
full, older ones from its whole-run buckets). Switches, drifts, retrains and reuses
are vertical lines with a letter at the bottom (S, D, R, U, P), so they read without colour too;
the prediction is dashed and the truth solid, the legend (top left) shows both patterns and the
frame's top edge names the markers in view, so nothing depends on colour alone (NO_COLOR).

The figure is drawn in braille by :mod:`harmone_tui.ui.braille` (numpy) into cached strips, only
when its window, data or size changed; :meth:`render_line` hands out the cached lines.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.color import Color
from textual.strip import Strip
from textual.widget import Widget

from harmone_tui.ui.braille import BRAILLE_BASE, NO_LAYER, Plot, nice_ticks, tick_format

MARKERS: dict[str, tuple[str, str]] = {
    "switch": ("S", "accent"),
    "drift": ("D", "error"),
    "retrain_done": ("R", "success"),
    "reuse": ("U", "secondary"),
    "policy_changed": ("P", "warning"),
}
MARKER_NAMES = {
    "switch": "switch",
    "drift": "drift",
    "retrain_done": "retrained",
    "reuse": "reuse",
    "policy_changed": "policy",
}
PAN = Binding.Group("pan", compact=True)
ZOOM = Binding.Group("zoom", compact=True)
MIN_SPAN = 40
DEFAULT_SPAN = 400
X_TICKS = 5
SOLID, DASHED = "⠤⠤⠤⠤", "⠤ ⠤ "
Cell = tuple[str, Style]


class ChartSource(Protocol):
    """Truth and prediction over any window of a run's steps (see ``figures.RunSeries``)."""

    @property
    def count(self) -> int: ...

    def y_range(self, start: int, end: int) -> tuple[float, float] | None: ...

    def columns(self, start: int, end: int, columns: int) -> tuple[np.ndarray, np.ndarray]: ...


class _NoData:
    count = 0

    def y_range(self, start: int, end: int) -> None:
        return None

    def columns(self, start: int, end: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
        empty = np.full(columns, np.nan)
        return empty, empty


class ForecastChart(Widget):
    """The chart; the screen sets data with :meth:`set_data`, keys move the window."""

    can_focus = True
    BINDINGS = [
        Binding(
            "left",
            "pan(-1)",
            "Earlier",
            id="harmone.chart_earlier",
            tooltip="Pan the chart back half a window",
            group=PAN,
        ),
        Binding(
            "right",
            "pan(1)",
            "Later",
            id="harmone.chart_later",
            tooltip="Pan the chart forward half a window",
            group=PAN,
        ),
        Binding(
            "left_square_bracket",
            "zoom(0.5)",
            "Zoom in",
            id="harmone.chart_zoom_in",
            tooltip="Halve the window",
            group=ZOOM,
        ),
        Binding(
            "right_square_bracket",
            "zoom(2)",
            "Zoom out",
            id="harmone.chart_zoom_out",
            tooltip="Double the window",
            group=ZOOM,
        ),
        Binding(
            "home",
            "start",
            "Start",
            show=False,
            id="harmone.chart_start",
            tooltip="Show the first steps",
        ),
        Binding(
            "end", "follow", "follow", id="harmone.chart_follow", tooltip="Follow the newest steps"
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view_span = DEFAULT_SPAN
        self.view_start: int | None = None  # None: follow the newest steps
        self._source: ChartSource = _NoData()
        self._count = 0
        self._markers: list[tuple[int, str]] = []
        self._drawn: tuple[Any, ...] = ()
        self._strips: list[Strip] = []
        self._base = Style()
        self._width = 0

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw(force=True))
        self.border_title = "prediction vs truth"

    # data in --------------------------------------------------------------------------------
    def set_data(self, source: ChartSource, markers: list[tuple[int, str]]) -> None:
        """Point at the run's series and its markers; redraw if anything changed."""
        self._source, self._count = source, source.count
        self._markers = markers
        self._redraw()

    def window(self) -> tuple[int, int]:
        """The [start, end) steps on show."""
        span = max(MIN_SPAN, min(self.view_span, max(self._count, MIN_SPAN)))
        if self.view_start is None:
            end = self._count
            return max(0, end - span), end
        start = max(0, min(self.view_start, max(0, self._count - span)))
        return start, min(self._count, start + span)

    # keys -----------------------------------------------------------------------------------
    def action_pan(self, direction: int) -> None:
        start, _ = self.window()
        self.view_start = max(0, start + direction * max(1, self.view_span // 2))
        if self.view_start + self.view_span >= self._count:
            self.view_start = None
        self._redraw()

    def action_zoom(self, factor: float) -> None:
        start, end = self.window()
        middle = (start + end) // 2
        self.view_span = int(
            max(MIN_SPAN, min(self.view_span * factor, max(self._count, MIN_SPAN)))
        )
        if self.view_start is not None:
            self.view_start = max(0, middle - self.view_span // 2)
        self._redraw()

    def action_start(self) -> None:
        self.view_start = 0
        self._redraw()

    def action_follow(self) -> None:
        self.view_start = None
        self._redraw()

    # drawing --------------------------------------------------------------------------------
    def on_resize(self) -> None:
        self._redraw(force=True)

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _style(self, variable: str, bold: bool = False) -> Style:
        """The widget's own style (background) with a theme colour as the foreground."""
        value = self.app.theme_variables.get(variable) or self.app.theme_variables["foreground"]
        return self._base + Style(color=Color.parse(value).rich_color, bold=bold)

    def _redraw(self, force: bool = False) -> None:
        start, end = self.window()
        key = (start, end, self._count, len(self._markers), self.size, self.app.theme)
        if key == self._drawn and not force:
            return
        self._drawn = key
        self._base = self.rich_style  # both computed on every access: once per redraw
        self._width = self.size.width
        following = "following" if self.view_start is None else "end: follow"
        self.border_subtitle = f"steps {start:,}–{end:,} of {self._count:,} · {following}"
        rows = self._figure(start, end) if end - start >= 2 else None
        if rows is None:
            rows = [[(" waiting for the first steps", self._base)]]
        self._strips = [self._strip(row) for row in rows]
        self.refresh()

    def _strip(self, cells: list[Cell]) -> Strip:
        """One line from (text, style) pieces: neighbours of one style merge into one segment."""
        segments: list[Segment] = []
        text, style = "", None
        for piece, piece_style in cells:
            if piece_style is style:
                text += piece
            else:
                if text:
                    segments.append(Segment(text, style))
                text, style = piece, piece_style
        if text:
            segments.append(Segment(text, style))
        return Strip(segments).adjust_cell_length(self._width, self._base)

    def _figure(self, start: int, end: int) -> list[list[Cell]] | None:
        """The framed figure as rows of cells, or None when the widget is too small for one."""
        width, height = self._width, self.size.height
        y_range = self._source.y_range(start, end)
        if y_range is None:
            return None
        plot_h = height - 3  # top frame, bottom frame, x labels
        fmt = tick_format(*y_range)
        y_ticks = nice_ticks(y_range[0], y_range[1], max(2, min(5, plot_h // 3)))
        labels = [fmt.format(v) for v in y_ticks]
        label_w = max(len(s) for s in labels)
        plot_w = width - label_w - 2
        if plot_h < 2 or plot_w < 8:
            return None
        plot = Plot(plot_w, plot_h, y_range)
        truth, prediction = self._source.columns(start, end, plot_w * 2)
        has_truth = bool(np.isfinite(truth).any())
        layer_style: dict[int, Style] = {}
        for step, kind in self._markers:
            if start <= step < end and kind in MARKERS:
                column = int((step - start) / (end - start) * plot_w * 2)
                layer_style[plot.add_vertical(column)] = self._style(MARKERS[kind][1])
        series = [("truth", truth, "foreground")] if has_truth else []
        series.append(("prediction" if has_truth else "mean box confidence", prediction, "primary"))
        for name, values, colour in series:
            layer_style[plot.add_line(values, dashed=name == "prediction")] = self._style(colour)
        grid = self._plot_cells(plot, layer_style)
        self._overlay(grid, series, plot_w, start, end)
        return self._frame(grid, plot, labels, y_ticks, label_w, start, end)

    def _plot_cells(self, plot: Plot, layer_style: dict[int, Style]) -> list[list[Cell]]:
        base = self._base
        codes, owners = plot.codes().tolist(), plot.owner.tolist()
        return [
            [
                (" " if c == BRAILLE_BASE else chr(c), base if o == NO_LAYER else layer_style[o])
                for c, o in zip(code_row, owner_row, strict=True)
            ]
            for code_row, owner_row in zip(codes, owners, strict=True)
        ]

    def _overlay(
        self,
        grid: list[list[Cell]],
        series: list[tuple[str, Any, str]],
        plot_w: int,
        start: int,
        end: int,
    ) -> None:
        """The legend (top left: each line's pattern) and the marker letters (bottom row)."""
        legend = [
            (f" {DASHED if name == 'prediction' else SOLID} {name} ", self._style(colour))
            for name, _values, colour in series
        ]
        for row, (text, style) in enumerate(legend[: max(0, len(grid) - 1)]):
            for col, ch in enumerate(text[:plot_w]):
                grid[row][col] = (ch, style)
        bottom = grid[-1]
        for step, kind in self._markers:
            if start <= step < end and kind in MARKERS:
                letter, colour = MARKERS[kind]
                col = min(plot_w - 1, int((step - start) / (end - start) * plot_w))
                bottom[col] = (letter, self._style(colour, bold=True))

    def _marker_legend(self, width: int, start: int, end: int) -> str:
        """The frame's top edge, naming the markers in view: ``─ S switch · D drift ───``."""
        kinds = {kind for step, kind in self._markers if start <= step < end and kind in MARKERS}
        names = " · ".join(f"{MARKERS[k][0]} {MARKER_NAMES[k]}" for k in MARKERS if k in kinds)
        text = f"─ {names} " if names else ""
        return (text + "─" * width)[:width] if len(text) <= width else "─" * width

    def _frame(
        self,
        grid: list[list[Cell]],
        plot: Plot,
        labels: list[str],
        y_ticks: list[float],
        label_w: int,
        start: int,
        end: int,
    ) -> list[list[Cell]]:
        """Axes around the plot: y labels with ┤ ticks, x ticks ┬ with step numbers under them."""
        base = self._base
        axis = self._style("foreground")
        plot_w = plot.width
        tick_rows = {
            int(plot.row_of(np.array([v]))[0]) // 4: label
            for v, label in zip(y_ticks, labels, strict=True)
        }
        top = "┌" + self._marker_legend(plot_w, start, end) + "┐"
        rows: list[list[Cell]] = [[(" " * label_w, base), (top, axis)]]
        for r, cells in enumerate(grid):
            label = tick_rows.get(r)
            rows.append(
                [
                    ((label or "").rjust(label_w), axis),
                    ("┤" if label else "│", axis),
                    *cells,
                    ("│", axis),
                ]
            )
        steps = sorted({int(round(t)) for t in np.linspace(start, end - 1, X_TICKS)})
        columns = [min(plot_w - 1, int((t - start) / (end - start) * plot_w)) for t in steps]
        bottom = ["─"] * plot_w
        for c in columns:
            bottom[c] = "┬"
        rows.append([(" " * label_w, base), ("└" + "".join(bottom) + "┘", axis)])
        line = [" "] * (label_w + plot_w + 2)
        free_from = 0
        for step, c in zip(steps, columns, strict=True):
            text = f"{step:,}"
            at = min(max(label_w + 1 + c - len(text) // 2, free_from), len(line) - len(text))
            if at >= free_from:
                line[at : at + len(text)] = text
                free_from = at + len(text) + 1
        rows.append([("".join(line), axis)])
        return rows
