"""The MAPE screen (7): who decides, a custom MAPE's decision, figures, errors and log."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Log, Static

from harmone_tui.settings import RunSettings
from harmone_tui.ui.app import HarmoneApp
from harmone_tui.ui.mape_text import log_tail
from harmone_tui.ui.screens.mape import MapeScreen
from harmone_tui.ui.session import RunSession
from mape.custom.folder import with_folder
from mape.policy_file import parse_policy
from tests.custom_mape.harmonica_files import write_folder
from tests.ui.conftest import wait_for
from tests.ui.harness import FAKE_POLICY

SIZE = (120, 40)
PLAN_FAST = 'def plan_mape(trigger="local"):\n    print("[FastPlan] fast")\n    return "fast"\n'


def info_text(app: HarmoneApp) -> str:
    return str(app.screen.query_one("#mape-info", Static).render())


async def test_the_mape_screen_shows_the_custom_code_at_work(
    fake_data_dir: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "mine", plan=PLAN_FAST)
    text = (
        FAKE_POLICY.replace("enabled = false", "every_steps = 50")
        + f'[mape]\ncustom = "{folder}"\n'
    )
    policy = with_folder(parse_policy(text, "test policy"), "test policy", None)
    settings = RunSettings(data_dir=fake_data_dir, engine="fake", speed=200.0, steps=400)
    app = HarmoneApp(RunSession(settings, policy, "test policy", text))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        await pilot.press("7")
        await wait_for(pilot, lambda: isinstance(app.screen, MapeScreen) and app.screen.data_ready)
        # the 1st cycle switches to fast, the next ones keep it
        await wait_for(pilot, lambda: "kept 'fast'" in info_text(app), timeout=30)
        shown = info_text(app)
        assert f"decides    custom MAPE in {folder}" in shown
        assert "state      in charge" in shown
        assert "custom MAPE: execute_mape kept 'fast'" in shown  # after switching to it
        reasons = [e.detail.get("reason") for e in app.session.events if e.kind == "switch"]
        assert reasons == ["custom MAPE: execute_mape wrote 'fast' to model.csv"]
        assert "score 0.95" in shown  # from the template's monitor_mape()
        log = app.screen.query_one("#mape-log", Log)
        await wait_for(pilot, lambda: any("[FastPlan] fast" in line for line in log.lines))
        await pilot.press("q")


async def test_the_mape_screen_says_when_the_built_in_plan_decides(fake_data_dir: Path) -> None:
    policy = parse_policy(FAKE_POLICY, "test policy")
    settings = RunSettings(data_dir=fake_data_dir, engine="fake", speed=200.0, steps=200)
    app = HarmoneApp(RunSession(settings, policy, "test policy", FAKE_POLICY))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        await pilot.press("7")
        await wait_for(pilot, lambda: isinstance(app.screen, MapeScreen) and app.screen.data_ready)
        await wait_for(pilot, lambda: "built-in plan" in info_text(app))
        assert "harmone --mape DIR" in info_text(app)
        assert "[mape] custom" in info_text(app)
        assert not app.screen.query_one("#mape-log", Log).display
        await pilot.press("q")


def test_the_log_tail_reads_only_the_end_of_a_big_log(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text("".join(f"line {i}\n" for i in range(200_000)))
    lines = log_tail(log)
    assert lines[-1] == "line 199999" and len(lines) == 300
    assert all(line.startswith("line ") for line in lines)
    assert log_tail(tmp_path / "none.log") == []
