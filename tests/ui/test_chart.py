"""The prediction-vs-truth chart widget in a bare app: axes, markers, follow, pan and zoom."""

from __future__ import annotations

import numpy as np
from textual.app import App, ComposeResult

from harmone_tui.ui.widgets.forecast_chart import ForecastChart

STEPS = 1000
TRUTH = np.linspace(100.0, 300.0, STEPS)
PREDICTION = TRUTH + 5.0


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
        chart.set_data(TRUTH, PREDICTION, STEPS, [(100, "switch"), (900, "drift"), (950, "reuse")])
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
        chart.set_data(TRUTH, PREDICTION, STEPS, [])
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
        chart.set_data(TRUTH, PREDICTION, STEPS, [])  # nothing changed: no redraw
        assert chart._strips is before


async def test_a_chart_without_steps_says_it_is_waiting() -> None:
    app = ChartApp()
    async with app.run_test(size=(90, 24)) as pilot:
        chart = app.query_one(ForecastChart)
        chart.set_data(np.zeros(0), np.zeros(0), 0, [])
        await pilot.pause()
        assert "waiting for the first steps" in lines(chart)[0]


async def test_a_stream_without_truth_draws_confidence_alone() -> None:
    app = ChartApp()
    async with app.run_test(size=(90, 24)) as pilot:
        chart = app.query_one(ForecastChart)
        confidence = np.linspace(0.2, 0.6, 80)
        chart.set_data(np.full(80, np.nan), confidence, 80, [(40, "drift")])
        await pilot.pause()
        text = lines(chart)
        assert "mean box confidence" in text[1] and "truth" not in "".join(text)
        assert text[1].lstrip().startswith("0.600┤") and text[-3].lstrip().startswith("0.200┤")
        assert "D" in text[-3]
