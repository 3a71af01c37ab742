"""Where you are and what it means: screen tabs, legends, the chart without colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textual.app import App, ComposeResult

from harmone_tui.ui.app import HarmoneApp
from harmone_tui.ui.braille import Plot
from harmone_tui.ui.widgets.forecast_chart import ForecastChart
from harmone_tui.ui.widgets.screen_tabs import ScreenTabs, tab_line
from tests.ui.conftest import wait_for
from tests.ui.harness import fake_session
from tests.ui.test_chart import run_series

SIZE = (120, 40)


def test_tabs_mark_the_current_screen_without_colour() -> None:
    assert (
        tab_line("events").plain
        == " 1 Dashboard   2 Policy  [3 Events]  4 Models   5 Runs   6 Energy   7 MAPE "
    )
    assert "[? Runs]" in tab_line("runs", {"harmone.runs": "question_mark,f5"}).plain


def tabs(app: HarmoneApp) -> str:
    return str(app.screen.query_one(ScreenTabs).render())


async def test_every_screen_says_which_it_is(fake_data_dir: Path) -> None:
    app = HarmoneApp(fake_session(fake_data_dir, speed=200.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        for key, label in (
            ("2", "2 Policy"),
            ("3", "3 Events"),
            ("4", "4 Models"),
            ("5", "5 Runs"),
            ("6", "6 Energy"),
            ("7", "7 MAPE"),
            ("1", "1 Dashboard"),
        ):
            await pilot.press(key)
            await wait_for(pilot, lambda lb=label: f"[{lb}]" in tabs(app))
        await pilot.press("4")
        await wait_for(pilot, lambda: "[4 Models]" in tabs(app))
        assert "▶ the version running now" in str(app.screen.query_one("#versions-legend").render())
        await pilot.press("5")
        await wait_for(pilot, lambda: "[5 Runs]" in tabs(app))
        assert "sw switches  rt retrains  re reuses  dr drifts" in str(
            app.screen.query_one("#runs-legend").render()
        )
        await pilot.press("q")


def test_a_dashed_line_differs_from_a_solid_one_in_dots() -> None:
    plot = Plot(width=8, height=2, y_range=(0.0, 1.0))
    plot.add_line(np.full(16, 1.0))
    plot.add_line(np.full(16, 0.0), dashed=True)
    top, bottom = plot.text_rows()
    assert top == "⠉" * 8  # solid
    assert bottom == "⣀ ⣀ ⣀ ⣀ "  # dashed: every other cell


class ChartApp(App[None]):
    CSS = "ForecastChart { width: 80; height: 20; }"

    def compose(self) -> ComposeResult:
        yield ForecastChart(id="chart")


async def test_without_colour_the_chart_tells_truth_from_prediction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ChartApp()
    assert app.no_color
    truth = np.full(400, 100.0)
    async with app.run_test(size=(90, 24)) as pilot:
        chart = app.query_one(ForecastChart)
        chart.set_data(run_series(truth, truth + 50.0), [(300, "switch"), (350, "drift")])
        await pilot.pause()
        text = [strip.text for strip in chart._strips]
        assert "⠤⠤⠤⠤ truth" in text[1] and "⠤ ⠤  prediction" in text[2]
        assert "┌─ S switch · D drift ──" in text[0]  # the markers in view, named on the frame
        assert "⠉ ⠉ ⠉ ⠉" in text[1]  # the prediction (top of the range): dashed
        assert "⣀⣀⣀⣀⣀⣀⣀⣀" in text[-3]  # the truth (bottom of the range): solid
