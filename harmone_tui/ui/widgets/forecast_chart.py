"""Prediction against truth over any window of the whole run, with adaptation markers.

Harmonica's chart showed the last 10 points. This one follows the tail by default and can be
panned (←/→), zoomed ([ / ]) and sent back to the start or the live end (home / end) over every
step of the run, because the telemetry keeps the whole run. Switches, drifts, retrains and reuses
are vertical lines with a letter on top (S, D, R, U, P), so they read without colour too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.binding import Binding
from textual.color import Color
from textual_plotext import PlotextPlot

from harmone_tui.ui.figures import chart_points

MARKERS: dict[str, tuple[str, str]] = {
    "switch": ("S", "accent"),
    "drift": ("D", "error"),
    "retrain_done": ("R", "success"),
    "reuse": ("U", "secondary"),
    "policy_changed": ("P", "warning"),
}
ANSI_NAMES = ("black", "red", "green", "orange", "blue", "magenta", "cyan", "white")
PAN = Binding.Group("pan", compact=True)
ZOOM = Binding.Group("zoom", compact=True)
MIN_SPAN = 40
DEFAULT_SPAN = 400


class ForecastChart(PlotextPlot):
    """The chart; the screen sets data with :meth:`set_data`, keys move the window."""

    can_focus = True
    BINDINGS = [
        Binding("left", "pan(-1)", "Earlier", id="harmone.chart_earlier", tooltip="Pan the chart back half a window", group=PAN),
        Binding("right", "pan(1)", "Later", id="harmone.chart_later", tooltip="Pan the chart forward half a window", group=PAN),
        Binding("left_square_bracket", "zoom(0.5)", "Zoom in", id="harmone.chart_zoom_in", tooltip="Halve the window", group=ZOOM),
        Binding("right_square_bracket", "zoom(2)", "Zoom out", id="harmone.chart_zoom_out", tooltip="Double the window", group=ZOOM),
        Binding("home", "start", "Start", show=False, id="harmone.chart_start", tooltip="Show the first steps"),
        Binding("end", "follow", "follow", id="harmone.chart_follow", tooltip="Follow the newest steps"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view_span = DEFAULT_SPAN
        self.view_start: int | None = None  # None: follow the newest steps
        self._truth: np.ndarray = np.zeros(0)
        self._prediction: np.ndarray = np.zeros(0)
        self._count = 0
        self._markers: list[tuple[int, str]] = []
        self._drawn: tuple[Any, ...] = ()

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw(force=True))
        self.border_title = "prediction vs truth"

    # data in --------------------------------------------------------------------------------
    def set_data(
        self, truth: np.ndarray, prediction: np.ndarray, count: int, markers: list[tuple[int, str]]
    ) -> None:
        """Point at the run's arrays (whole run) and its markers; redraw if anything changed."""
        self._truth, self._prediction, self._count = truth, prediction, count
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
        self.view_span = int(max(MIN_SPAN, min(self.view_span * factor, max(self._count, MIN_SPAN))))
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
    def _colour(self, variable: str) -> Any:
        """A theme colour as plotext wants it (RGB tuple, or a colour name on ANSI themes)."""
        value = self.app.theme_variables.get(variable) or self.app.theme_variables["foreground"]
        colour = Color.parse(value)
        if colour.ansi is not None:
            return ANSI_NAMES[colour.ansi % 8] if colour.ansi >= 0 else "default"
        return colour.rgb

    def on_resize(self) -> None:
        self._redraw(force=True)

    def _redraw(self, force: bool = False) -> None:
        start, end = self.window()
        key = (start, end, self._count, len(self._markers), self.size, self.app.theme)
        if key == self._drawn and not force:
            return
        self._drawn = key
        self.theme = "clear" if self.app.current_theme.ansi else "auto"
        plt = self.plt
        plt.clear_figure()
        following = "following" if self.view_start is None else "end: follow"
        self.border_subtitle = f"steps {start:,}–{end:,} of {self._count:,} · {following}"
        if end - start < 2:
            plt.title("waiting for the first steps")
            self.refresh()
            return
        xs, truth, pred = chart_points(
            self._truth[start:end], self._prediction[start:end], start, max(10, self.size.width * 2)
        )
        has_truth = bool(np.isfinite(self._truth[start:end]).any())
        if has_truth:
            plt.plot(xs, truth, marker="braille", color=self._colour("foreground"), label="truth")
        label = "prediction" if has_truth else "mean box confidence"
        plt.plot(xs, pred, marker="braille", color=self._colour("primary"), label=label)
        bottom = min(min(truth), min(pred)) if has_truth else min(pred)
        for step, kind in self._markers:
            if start <= step < end and kind in MARKERS:
                letter, variable = MARKERS[kind]
                colour = self._colour(variable)
                plt.vline(step, color=colour)
                plt.text(letter, x=step, y=bottom, color=colour)
        plt.xlim(start, end)
        ticks = sorted({int(round(t)) for t in np.linspace(start, end - 1, 5)})
        plt.xticks(ticks, [f"{t:,}" for t in ticks])
        self.refresh()
