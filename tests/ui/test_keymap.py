"""The keymap: settings.toml's [keymap] remaps bindings by id; bad entries are one line each."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from harmone_tui import paths
from harmone_tui.ui.app import HarmoneApp, binding_ids
from harmone_tui.ui.keymap import key_problem, read_keymap
from harmone_tui.ui.screens.help import HelpModal, binding_table
from tests.ui.conftest import wait_for
from tests.ui.harness import fake_session

SIZE = (120, 40)


def test_keymap_entries_are_checked_one_line_each() -> None:
    known = binding_ids()
    assert {"harmone.pause", "harmone.quit", "harmone.chart_zoom_in", "harmone.quit_yes"} <= known
    keymap, problems = read_keymap(
        {
            "harmone.pause": "z",
            "harmone.help": ["f2", "h"],
            "harmone.paus": "x",
            "harmone.export": "ctrl+nope",
            "harmone.theme": 3,
        },
        known,
        "settings.toml",
    )
    assert keymap == {"harmone.pause": "z", "harmone.help": "f2,h"}
    assert problems == [
        "settings.toml: [keymap] harmone.paus: no binding has this id"
        " (did you mean harmone.pause?)",
        "settings.toml: [keymap] harmone.export: 'nope' is not a key name"
        " (e.g. z, f5, ctrl+x, question_mark, space)",
        "settings.toml: [keymap] harmone.theme: give a key as a string,"
        " or several as a list of strings",
    ]
    assert key_problem("hyperx+a") is not None and key_problem("ctrl+left_square_bracket") is None


async def test_a_keymap_in_settings_remaps_a_binding(fake_data_dir: Path) -> None:
    settings = paths.config_dir() / "settings.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('[keymap]\n"harmone.pause" = "z"\n"harmone.nope" = "x"\n')
    app = HarmoneApp(fake_session(fake_data_dir, speed=50.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live)
        rt = app.session.runtime
        await pilot.press("p")  # no longer bound to pause
        await pilot.pause(0.2)
        assert not rt.paused
        await pilot.press("z")
        await wait_for(pilot, lambda: rt.paused)
        warnings = [n.message for n in app._notifications if n.title == "settings.toml"]
        assert len(warnings) == 1 and "harmone.nope: no binding has this id" in warnings[0]
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpModal))
        modal = app.screen
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(binding_table(modal.groups, app.get_key_display, modal.keymap))
        lines = console.export_text().splitlines()
        pause_row = next(line for line in lines if "harmone.pause" in line)
        assert pause_row.split()[0] == "z"
        await pilot.press("escape")
        await pilot.press("q")
