"""The command palette's provider (ctrl+p or ``:``): every app command by name.

Switch model (one entry per model), retrain, pause/resume, speed presets, export, apply a preset
or user policy to the running loop, themes, screens. Each entry calls the same app action as its
key, so the palette and the keys cannot disagree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from harmone_tui.ui.app import HarmoneApp

SCREENS = ("dashboard", "policy", "events", "models", "runs")
SPEEDS = (10, 50, 200, None)

Command = tuple[str, Callable[[], Any], str]


def app_commands(app: HarmoneApp) -> list[Command]:
    """(name, callback, help) of every command, for the current run."""
    out: list[Command] = [
        ("Pause / resume the run", app.action_toggle_pause, "p"),
        ("Retrain the active model now", app.action_retrain, "r"),
        ("Switch model…", app.action_switch, "s: choose the model"),
        ("Export the run (CSV + JSON)", app.action_export, "e: steps.csv, summary.json, events.json"),
        ("Help: keys and screens", app.action_help, "? or F1"),
    ]
    rt = app.session.runtime
    if app.session.ready and rt is not None:
        out += [
            (f"Switch model to {m}", partial(app.switch_to, m), "from the next step")
            for m in rt.telemetry.models
            if m != rt.active_model
        ]
    for speed in SPEEDS:
        label = "max" if speed is None else f"{speed} steps/s"
        out.append((f"Speed: {label}", partial(app.set_speed, speed), "+ / - step through speeds"))
    for name in app.policy_names():
        out.append((f"Apply policy: {name}", partial(app.apply_named_policy, name), "to the running loop, next MAPE cycle"))
    for theme in sorted(app.available_themes):
        if theme.startswith("harmone") or theme.startswith("textual"):
            out.append((f"Theme: {theme}", partial(app.choose_theme, theme), "remembered in settings.toml"))
    for number, screen in enumerate(SCREENS, start=1):
        out.append((f"Screen: {screen}", partial(app.switch_mode, screen), f"key {number}"))
    return out


class HarmoneCommands(Provider):
    """The app's commands for Textual's palette."""

    @property
    def _app(self) -> HarmoneApp:
        return self.app  # type: ignore[return-value]

    async def discover(self) -> Hits:
        for name, callback, help_text in app_commands(self._app):
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for name, callback, help_text in app_commands(self._app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
