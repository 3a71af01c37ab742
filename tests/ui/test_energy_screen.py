"""The energy screen: the run's ledger as bars per stage and per model, live and at the end."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from harmone_tui.ledger_report import STAGES
from harmone_tui.ui.app import HarmoneApp
from harmone_tui.ui.screens.energy import EnergyScreen
from tests.ui.conftest import wait_for
from tests.ui.harness import fake_session

SIZE = (120, 40)


def screen_text(app: HarmoneApp) -> str:
    return str(app.screen.query_one("#energy-text", Static).render())


async def test_energy_screen_shows_the_live_ledger_then_the_stored_one(
    fake_data_dir: Path,
) -> None:
    app = HarmoneApp(fake_session(fake_data_dir, speed=50.0, steps=150))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        await pilot.press("6")
        await wait_for(pilot, lambda: isinstance(app.screen, EnergyScreen))
        await wait_for(pilot, lambda: "by stage" in screen_text(app))
        live = screen_text(app)
        assert app.session.state == "running"
        for stage in STAGES:
            assert f"  {stage} " in live
        assert "balanced v1" in live and "/inference" in live  # the start model's version
        assert "CO₂e" in live and "reconciled" in live
        await wait_for(pilot, lambda: app.session.state == "finished", timeout=30)
        await wait_for(pilot, lambda: screen_text(app) != live)
        stored = app.session.summary["energy"]
        shown = screen_text(app)
        steps = sum(item["steps"] for item in stored["inference"])
        assert steps == 150
        assert f"{steps:,} steps" in shown or all(
            f"{i['steps']:,} steps" in shown for i in stored["inference"]
        )
        await pilot.press("q")
