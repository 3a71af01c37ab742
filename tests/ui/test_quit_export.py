"""Quitting asks first on a long run and says where the run went; a mid-run export is partial."""

from __future__ import annotations

import json
from pathlib import Path

from harmone_tui import paths
from harmone_tui.ui.app import HarmoneApp
from harmone_tui.ui.farewell import exit_line
from harmone_tui.ui.screens.modals import QuitModal
from tests.ui.conftest import wait_for
from tests.ui.harness import fake_session

SIZE = (120, 40)


def write_settings(text: str) -> None:
    settings = paths.config_dir() / "settings.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(text)


async def test_q_on_a_long_run_asks_first_and_q_again_quits(fake_data_dir: Path) -> None:
    write_settings("[ui]\nconfirm_quit_after_s = 0   # every live run counts as long\n")
    app = HarmoneApp(fake_session(fake_data_dir, speed=50.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live and app.session.runtime.step > 10)
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitModal))
        assert "cannot be resumed" in app.screen.question
        await pilot.press("escape")  # stay
        await wait_for(pilot, lambda: not isinstance(app.screen, QuitModal))
        assert app.session.live and app.return_code is None
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitModal))
        await pilot.press("q")  # q again quits
    assert app.return_code == 0
    run_id = app.session.runtime.run_id
    line = exit_line(app.session)
    assert line.startswith(f"harmone: run {run_id} stopped at step ")
    assert f"summary stored in {paths.knowledge_file(fake_data_dir)}" in line
    assert "\n" not in line
    assert line.endswith(" CO₂e")  # the run's energy and carbon, from its ledger


async def test_a_young_or_finished_run_quits_without_a_question(fake_data_dir: Path) -> None:
    app = HarmoneApp(fake_session(fake_data_dir, speed=50.0))  # default: ask after 60 s
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None)
    write_settings("[ui]\nconfirm_quit_after_s = 0\n")
    app = HarmoneApp(fake_session(fake_data_dir, speed=None, steps=60))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.state == "finished")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None)
    run_id = app.session.runtime.run_id
    assert exit_line(app.session).startswith(f"harmone: run {run_id} finished at step 60;")


async def test_a_bad_quit_setting_is_one_warning_and_the_default(fake_data_dir: Path) -> None:
    write_settings('[ui]\nconfirm_quit_after_s = "soon"\n')
    app = HarmoneApp(fake_session(fake_data_dir, speed=50.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        warnings = [n.message for n in app._notifications if n.title == "settings.toml"]
        assert len(warnings) == 1 and "confirm_quit_after_s must be a number" in warnings[0]
        assert app.confirm_quit_after_s == 60.0
        await pilot.press("q")


async def test_export_mid_run_is_marked_partial_with_the_time_so_far(fake_data_dir: Path) -> None:
    app = HarmoneApp(fake_session(fake_data_dir, speed=50.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live and app.session.runtime.step > 60)
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export is not None)
        elapsed = app.session.elapsed_s()
        await pilot.press("q")
    folder = app.last_export
    assert folder is not None
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["partial"] is True and summary["status"] == "running"
    # paced at 50 steps/s, the steps so far took at least (steps - one pacing slice) / 50 s
    assert (summary["steps"] - 5) / 50 <= summary["wall_s"] <= elapsed
    rows = (folder / "steps.csv").read_text().splitlines()
    assert len(rows) == summary["steps"] + 1 and rows[-1].startswith(f"{summary['steps'] - 1},")
    events = json.loads((folder / "events.json").read_text())
    assert all(isinstance(e["text"], str) for e in events)


async def test_export_of_a_finished_run_is_whole(fake_data_dir: Path) -> None:
    app = HarmoneApp(fake_session(fake_data_dir, speed=None, steps=300))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.state == "finished")
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export is not None)
        await pilot.press("q")
    summary = json.loads((app.last_export / "summary.json").read_text())
    assert "partial" not in summary and summary["steps"] == 300 and summary["wall_s"] > 0
    assert len((app.last_export / "steps.csv").read_text().splitlines()) == 301
