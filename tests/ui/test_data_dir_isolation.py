"""Pressing `t` in a run with --data-dir D remembers the theme in D, not in the user's config dir.

The CLI applies --data-dir with ``paths.using`` around the whole command; the TUI is run inside
it the same way here. Before, ``settings.toml`` went to ``~/.config/harmone`` whatever D was.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harmone_tui import paths
from harmone_tui.ui.app import HarmoneApp
from tests.ui.conftest import wait_for
from tests.ui.harness import fake_session


async def test_the_theme_key_writes_inside_the_data_dir(
    fake_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in (
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        paths.ENV_DATA_DIR,
        paths.ENV_CONFIG_DIR,
    ):
        monkeypatch.delenv(name, raising=False)
    settings = fake_data_dir / "config" / "settings.toml"
    with paths.using(fake_data_dir):
        app = HarmoneApp(fake_session(fake_data_dir, speed=200.0))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("t")
            await wait_for(pilot, settings.exists)
            chosen = app.theme
            await pilot.press("q")
    assert tomllib.loads(settings.read_text())["ui"]["theme"] == chosen != "harmone-dark"
    assert sorted(home.rglob("*")) == []
