"""The command palette's provider (ctrl+p or ``:``): every app command by name.

Switch model (one entry per model), retrain, pause/resume, speed presets, export, apply a preset
or user policy to the running loop, themes, screens. Each entry calls the same app action as its
key, so the palette and the keys cannot disagree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession


class HarmoneApp(Protocol):
    """What the palette calls on the app (``harmone_tui.ui.app.HarmoneApp`` is one).

    A protocol rather than an import: the app registers this provider, so importing the app here
    would make the two modules import each other.
    """

    session: RunSession
    available_themes: Any

    def action_toggle_pause(self) -> Any: ...

    def action_retrain(self) -> Any: ...

    def action_switch(self) -> Any: ...

    def action_export(self) -> Any: ...

    def action_help(self) -> Any: ...

    def switch_to(self, model: str) -> Any: ...

    def set_speed(self, speed: float | None) -> Any: ...

    def policy_names(self) -> list[str]: ...

    def apply_named_policy(self, name: str) -> Any: ...

    def choose_theme(self, theme: str) -> Any: ...

    def switch_mode(self, mode: str) -> Any: ...


SCREENS = ("dashboard", "policy", "events", "models", "runs", "energy", "mape")
SPEEDS = (10, 50, 200, None)

Command = tuple[str, Callable[[], Any], str]


def app_commands(app: HarmoneApp) -> list[Command]:
    """(name, callback, help) of every command, for the current run."""
    out: list[Command] = [
        ("Pause / resume the run", app.action_toggle_pause, "p"),
        ("Retrain the active model now", app.action_retrain, "r"),
        ("Switch model…", app.action_switch, "s: choose the model"),
        (
            "Export the run (CSV + JSON)",
            app.action_export,
            "e: steps, events, energy ledger (.csv, .jsonl), summary.json",
        ),
        ("Help: keys and screens", app.action_help, "? or F1"),
    ]
    snap = app.session.snapshot
    if snap is not None:
        out += [
            (f"Switch model to {m}", partial(app.switch_to, m), "from the next step")
            for m in snap.info.models
            if m != snap.active_model
        ]
    for speed in SPEEDS:
        label = "max" if speed is None else f"{speed} steps/s"
        out.append((f"Speed: {label}", partial(app.set_speed, speed), "+ / - step through speeds"))
    for name in app.policy_names():
        out.append(
            (
                f"Apply policy: {name}",
                partial(app.apply_named_policy, name),
                "to the running loop, next MAPE cycle",
            )
        )
    for theme in sorted(app.available_themes):
        if theme.startswith("harmone") or theme.startswith("textual"):
            out.append(
                (f"Theme: {theme}", partial(app.choose_theme, theme), "remembered in settings.toml")
            )
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
