"""The prediction-vs-truth chart widget in a bare app: axes, markers, follow, pan and zoom."""

from __future__ import annotations

import numpy as np
from textual.app import App, ComposeResult

from harmone_tui.inference import BatchFigures
from harmone_tui.telemetry import MIN_HISTORY, Telemetry
from harmone_tui.ui.figures import RunSeries
from harmone_tui.ui.widgets.forecast_chart import ForecastChart

STEPS = 1000
TRUTH = np.linspace(100.0, 300.0, STEPS)
PREDICTION = TRUTH + 5.0


def run_series(
    truth: np.ndarray, prediction: np.ndarray, history: int = MIN_HISTORY, batch: int = 500
) -> RunSeries:
    """A run's telemetry holding these steps (recorded in batches, as the runtime does)."""
    tel = Telemetry(len(truth), ("model",), history)
    for lo in range(0, len(truth), batch):
        t, p = truth[lo : lo + batch], prediction[lo : lo + batch]
        figures = BatchFigures(p.tolist(), [t], [t], [len(t)], [1000 * len(t)], [1000 * len(t)])
        tel.record(lo, figures, "model", 1, 1.54)
    return RunSeries(tel)


class ChartApp(App[None]):
    CSS = "ForecastChart { width: 80; height: 20; }"

    def compose(self) -> ComposeResult:
        yield ForecastChart(id="chart")


def lines(chart: ForecastChart) -> list[str]:
    return [strip.text for strip in chart._strips]


async def test_axes_legend_and_markers_of_the_followed_window() -> None:
    app = ChartApp()
    async with app.run_test(size=(90, 24)) as pilot:
        chart = app.query_one(ForecastChart)
        chart.set_data(
            run_series(TRUTH, PREDICTION), [(100, "switch"), (900, "drift"), (950, "reuse")]
        )
        await pilot.pause()
        text = lines(chart)
        assert chart.border_subtitle == "steps 600–1,000 of 1,000 · following"
        assert len(text) == 20 and all(len(line) == 80 for line in text)
        assert text[0].strip().startswith("┌") and text[-2].strip().startswith("└")
        top, low = f"{PREDICTION[-1]:.1f}", f"{TRUTH[600]:.1f}"
        assert text[1].lstrip().startswith(top + "┤")  # y labels: the window's range only
        assert text[-3].lstrip().startswith(low + "┤")
        assert "truth" in text[1] and "prediction" in text[2]
        bottom_row = text[-3]
        assert bottom_row.index("D") < bottom_row.index("U")  # markers in step order
        assert "S" not in bottom_row  # step 100 is outside the window
        assert text[-1].split() == ["600", "700", "800", "899", "999"]
        assert any(chr(0x2801) <= ch <= chr(0x28FF) for ch in "".join(text[3:-3]))


async def test_pan_zoom_and_follow_move_the_window() -> None:
    app = ChartApp()
    async with app.run_test(size=(90, 24)) as pilot:
        chart = app.query_one(ForecastChart)
        chart.set_data(run_series(TRUTH, PREDICTION), [])
        chart.focus()
        await pilot.press("left")
        assert chart.window() == (400, 800)
        assert chart.border_subtitle.endswith("end: follow")
        await pilot.press("left_square_bracket")
        assert chart.window() == (500, 700)
        await pilot.press("home")
        assert chart.window() == (0, 200)
        assert lines(chart)[-1].split()[0] == "0"
        await pilot.press("end")
        assert chart.window() == (800, 1000)
        before = chart._strips
        chart.set_data(run_series(TRUTH, PREDICTION), [])  # nothing changed: no redraw
        assert chart._strips is before


async def test_a_chart_without_steps_says_it_is_waiting() -> None:
    app = ChartApp()
    async with app.run_test(size=(90, 24)) as pilot:
        chart = app.query_one(ForecastChart)
        chart.set_data(run_series(np.zeros(0), np.zeros(0)), [])
        await pilot.pause()
        assert "waiting for the first steps" in lines(chart)[0]


async def test_a_stream_without_truth_draws_confidence_alone() -> None:
    app = ChartApp()
    async with app.run_test(size=(90, 24)) as pilot:
        chart = app.query_one(ForecastChart)
        confidence = np.linspace(0.2, 0.6, 80)
        chart.set_data(run_series(np.full(80, np.nan), confidence), [(40, "drift")])
        await pilot.pause()
        text = lines(chart)
        assert "mean box confidence" in text[1] and "truth" not in "".join(text)
        assert text[1].lstrip().startswith("0.600┤") and text[-3].lstrip().startswith("0.200┤")
        assert "D" in text[-3]


async def test_the_start_of_a_long_run_is_still_drawn_after_the_ring_moved_on() -> None:
    truth = np.resize(TRUTH, 50_000)
    series = run_series(truth, truth + 5.0, history=1_000)
    assert series.telemetry.first_held > 10_000  # the first steps are in the buckets only
    app = ChartApp()
    async with app.run_test(size=(90, 24)) as pilot:
        chart = app.query_one(ForecastChart)
        chart.set_data(series, [(100, "switch")])
        chart.focus()
        await pilot.press("home")
        assert chart.window() == (0, 400)
        text = lines(chart)
        assert text[1].lstrip().startswith(f"{truth[399] + 5.0:.1f}"[:3])  # the window's range
        assert "S" in text[-3] and any("⠁" <= ch <= "⣿" for ch in "".join(text[3:-3]))
        for _ in range(10):
            await pilot.press("right_square_bracket")
        assert chart.window() == (0, 50_000)
        assert text != lines(chart) and lines(chart)[-1].split()[-1] == "49,999"
