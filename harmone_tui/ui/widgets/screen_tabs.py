"""The tab line under the status bar: the six screens with their keys, the current one marked.

Users could not tell which of the screens they were on, or that the others existed, without
the help screen. The current tab is drawn in reverse video and bracketed, so it reads without
colour too (NO_COLOR); every tab is clickable and shows the key that opens it (a remapped key
when settings.toml's ``[keymap]`` changed it).
"""

from __future__ import annotations

from textual.content import Content
from textual.keys import format_key
from textual.markup import escape
from textual.widgets import Static

SCREENS = (
    ("dashboard", "Dashboard", "1"),
    ("policy", "Policy", "2"),
    ("events", "Events", "3"),
    ("models", "Models", "4"),
    ("runs", "Runs", "5"),
    ("energy", "Energy", "6"),
    ("mape", "MAPE", "7"),
)


def tab_line(current: str, keymap: dict[str, str] | None = None) -> Content:
    """The tabs (pure: tested without an app); ``keymap`` is binding id -> keys."""
    keymap = keymap or {}
    pieces = []
    for mode, label, default_key in SCREENS:
        key = format_key(keymap.get(f"harmone.{mode}", default_key).split(",")[0])
        action = f"@click=app.switch_mode('{mode}')"
        if mode == current:
            pieces.append(f"[reverse bold {action}]{escape(f'[{key} {label}]')}[/]")
        else:
            pieces.append(f"[{action}] {escape(f'{key} {label}')} [/]")
    return Content.from_markup(" ".join(pieces))


class ScreenTabs(Static):
    """Which screen this is, among the six; see the module docstring."""

    DEFAULT_CSS = """
    ScreenTabs { height: 1; width: 1fr; padding: 0 1; background: $panel; color: $foreground 80%; }
    """

    def __init__(self, current: str) -> None:
        super().__init__(id="screen-tabs")
        self.current = current

    def on_mount(self) -> None:
        self.update(tab_line(self.current, getattr(self.app, "keymap", None)))
