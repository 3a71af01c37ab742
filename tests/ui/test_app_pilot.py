"""Pilot tests: the app driven by keys over a live fake run (and one real regression run)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from harmone_tui import paths
from harmone_tui.settings import RunSettings
from harmone_tui.ui.app import HarmoneApp
from harmone_tui.ui.screens.dashboard import DashboardScreen
from harmone_tui.ui.screens.energy import EnergyScreen
from harmone_tui.ui.screens.events import EventsScreen
from harmone_tui.ui.screens.help import HelpModal
from harmone_tui.ui.screens.models import ModelsScreen
from harmone_tui.ui.screens.policy import PolicyScreen
from harmone_tui.ui.screens.run_detail import RunDetailScreen
from harmone_tui.ui.screens.runs import RunsScreen
from harmone_tui.ui.session import RunSession
from harmone_tui.ui.widgets.event_table import EventTable
from harmone_tui.ui.widgets.policy_form import PolicyForm
from mape.knowledge import KnowledgeStore
from mape.policy_file import parse_policy, resolve_policy
from tests.ui.conftest import wait_for
from tests.ui.harness import fake_session

SIZE = (120, 40)


def live_app(data_dir: Path, speed: float | None = 200.0, steps: int | None = None) -> HarmoneApp:
    return HarmoneApp(fake_session(data_dir, speed=speed, steps=steps))


async def type_into(pilot, field_id: str, text: str) -> Input:  # type: ignore[no-untyped-def]
    box = pilot.app.screen.query_one(f"#{field_id}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await pilot.pause()
    return box


async def test_navigation_and_help(fake_data_dir: Path) -> None:
    app = live_app(fake_data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        await pilot.press("2")  # the editor opens with no field focused: 1 still navigates
        await wait_for(
            pilot, lambda: isinstance(app.screen, PolicyScreen) and app.screen.data_ready
        )
        await pilot.pause(0.2)
        assert not isinstance(app.focused, (Input, Select))
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        for key, screen in (
            ("2", PolicyScreen),
            ("3", EventsScreen),
            ("4", ModelsScreen),
            ("5", RunsScreen),
            ("6", EnergyScreen),
            ("1", DashboardScreen),
        ):
            await pilot.press(key)
            await wait_for(pilot, lambda s=screen: isinstance(app.screen, s))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpModal))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("5")
        await wait_for(
            pilot, lambda: app.screen.data_ready and app.screen.query_one("#runs").row_count > 0
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("q")
    assert app.return_code == 0


async def test_policy_editor_invalid_then_apply_and_save(fake_data_dir: Path) -> None:
    app = live_app(fake_data_dir, speed=100.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        await pilot.press("2")
        await wait_for(
            pilot, lambda: isinstance(app.screen, PolicyScreen) and app.screen.data_ready
        )
        screen = app.screen
        assert isinstance(screen, PolicyScreen)
        form = screen.query_one(PolicyForm)

        await type_into(pilot, "field-switch-min-score", "1.5")  # out of range: SCHEMA message
        assert form.errors["switch.min_score"] == "must be <= 1.0, got 1.5"
        assert screen.check_action("apply", ()) is False
        await type_into(pilot, "field-start-model", "nope")  # cross-field: policy_from_mapping
        await type_into(pilot, "field-switch-min-score", "0.6")
        assert "switch.min_score" not in form.errors
        assert screen.problem is not None and "start_model" in screen.problem
        await type_into(pilot, "field-start-model", "balanced")
        assert screen.problem is None and screen.dirty

        await pilot.press("ctrl+g")  # apply to the running loop
        rt = app.session.runtime
        assert rt is not None
        await wait_for(pilot, lambda: any(e.kind == "policy_changed" for e in app.session.events))
        assert rt.policy.switch.min_score == 0.6
        assert not screen.dirty

        await type_into(pilot, "field-drift-threshold", "0.5")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "SaveAsModal")
        name_box = app.screen.query_one("#name", Input)
        name_box.value = ""
        await pilot.press(*"my-policy", "enter")
        saved = paths.policies_dir(fake_data_dir) / "my-policy.toml"
        await wait_for(pilot, saved.exists)
        await pilot.press("ctrl+r")  # revert the unapplied threshold edit
        await wait_for(pilot, lambda: not screen.dirty)
        app.policy_dirty = False
        await pilot.press("q")
    text = saved.read_text()
    policy = parse_policy(text, str(saved))
    assert policy.name == "my-policy"
    assert policy.switch.min_score == 0.6 and policy.drift.threshold == 0.5
    assert "# fake-demo: three fake models" in text  # the original comments are kept
    assert "# the MAPE loop stays quiet" in text


async def test_choice_fields_are_selects(fake_data_dir: Path) -> None:
    app = live_app(fake_data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(
            pilot, lambda: isinstance(app.screen, PolicyScreen) and app.screen.data_ready
        )
        detector = app.screen.query_one("#field-drift-detector", Select)
        assert detector.value == "kl"
        detector.value = "adwin"
        await pilot.pause()
        assert app.screen.query_one(PolicyForm).values()["drift.detector"] == "adwin"
        app.policy_dirty = False
        await pilot.press("q")


async def test_pause_resume_speed_and_export(fake_data_dir: Path) -> None:
    app = live_app(fake_data_dir, speed=50.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live and app.session.runtime.step > 20)
        rt = app.session.runtime
        await pilot.press("p")
        await wait_for(pilot, lambda: rt.status == "paused")
        frozen_at = rt.step
        await pilot.pause(0.3)
        assert rt.step == frozen_at
        await wait_for(
            pilot, lambda: "paused" in str(app.screen.query_one("#status").render()), 2.0
        )
        await pilot.press("p")
        await wait_for(pilot, lambda: rt.step > frozen_at)
        await pilot.press("plus")
        assert rt.speed == 100
        await pilot.press("minus", "minus")
        assert rt.speed == 20
        await pilot.press("e")
        await wait_for(pilot, lambda: app.last_export is not None)
        folder = app.last_export
        assert folder is not None and folder.parent == paths.exports_dir(fake_data_dir)
        assert folder.name.startswith(f"run-{rt.run_id}-")
        rows = (folder / "steps.csv").read_text().splitlines()
        assert rows[0].startswith("step,truth,prediction,model,version")
        assert len(rows) > 20
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["run_id"] == rt.run_id and summary["energy_source"] == "estimated"
        assert isinstance(json.loads((folder / "events.json").read_text()), list)
        await pilot.press("q")
    store = KnowledgeStore.open(paths.knowledge_file(fake_data_dir))
    run = store.run(rt.run_id)
    assert run is not None and run.status == "stopped" and run.summary is not None


async def test_force_switch_and_event_filter(fake_data_dir: Path) -> None:
    app = live_app(fake_data_dir, speed=100.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "SwitchModal")
        await pilot.press("enter")  # the first model that is not active
        await wait_for(pilot, lambda: any(e.kind == "switch" for e in app.session.events))
        assert app.session.runtime.active_model != "balanced"
        await pilot.press("3")
        await wait_for(
            pilot, lambda: isinstance(app.screen, EventsScreen) and app.screen.data_ready
        )
        await pilot.press("slash", *"drift")
        table = app.screen.query_one(EventTable)
        await wait_for(pilot, lambda: table.seen >= 1)
        assert table.shown == 0
        await pilot.press("escape")
        assert table.shown == table.seen
        await pilot.press("q")


async def test_theme_is_remembered(fake_data_dir: Path) -> None:
    app = live_app(fake_data_dir)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "harmone-dark"
        assert {"harmone-light", "harmone-contrast", "harmone-ansi"} <= set(app.available_themes)
        await pilot.press("t")
        await wait_for(pilot, lambda: (paths.config_dir() / "settings.toml").exists())
        chosen = app.theme
        await pilot.press("q")
    saved = tomllib.loads((paths.config_dir() / "settings.toml").read_text())
    assert saved["ui"]["theme"] == chosen != "harmone-dark"


@pytest.mark.slow
async def test_real_regression_engine(tmp_path: Path) -> None:
    """single-linear on the bundled stream: first-use training in the worker process, then a run."""
    policy, source, text = resolve_policy("single-linear")
    settings = RunSettings(data_dir=tmp_path / "data", steps=400, speed=None)
    app = HarmoneApp(RunSession(settings, policy, source, text))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.session.state in ("finished", "failed"), timeout=120)
        assert app.session.state == "finished", app.session.error
        app.tick()
        await pilot.pause()
        quality = str(app.screen.query_one("#quality-panel .value").render())
        assert quality.startswith("R² 0.")
        assert app.session.summary["steps"] == 400
        await pilot.press("4")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ModelsScreen) and app.screen.data_ready
        )
        app.tick()
        await pilot.pause()
        assert app.screen.query_one("#versions").row_count == 1
        await pilot.press("q")
    assert app.return_code == 0
