"""HarmoneApp: wiring only. Modes (screens), bindings, palette, themes, the runtime worker, a timer.

The app shows its first frame at once; the runtime (numpy, engines, TensorFlow for the LSTM) is
imported and created in a worker. A timer pulls figures into the current screen a few times a
second; the session pushes discrete facts (progress, events, the end) as messages. The controls
themselves live in :mod:`harmone_tui.ui.controls`.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from harmone_tui import signals
from harmone_tui.ui import config, themes
from harmone_tui.ui.commands import HarmoneCommands
from harmone_tui.ui.controls import CONFIRM_QUIT_AFTER_S, RunControls
from harmone_tui.ui.format import describe
from harmone_tui.ui.keymap import read_keymap
from harmone_tui.ui.messages import (
    AdaptationRecorded,
    PolicyApplied,
    PolicyEdited,
    PolicySaved,
    ProgressReported,
    RunFailed,
    RunFinished,
    RunStateChanged,
)
from harmone_tui.ui.screens.base import HarmoneScreen
from harmone_tui.ui.screens.dashboard import DashboardScreen
from harmone_tui.ui.screens.energy import EnergyScreen
from harmone_tui.ui.screens.events import EventsScreen
from harmone_tui.ui.screens.help import HelpModal
from harmone_tui.ui.screens.mape import MapeScreen
from harmone_tui.ui.screens.models import ModelsScreen
from harmone_tui.ui.screens.policy import PolicyScreen
from harmone_tui.ui.screens.runs import RunsScreen
from harmone_tui.ui.session import RunSession
from harmone_tui.ui.widgets.forecast_chart import ForecastChart

SCREENS_GROUP = Binding.Group("screens", compact=True)
SPEED_GROUP = Binding.Group("speed", compact=True)
# a policy change is not toasted: PolicyApplied says it
TOASTED = {"switch", "drift", "retrain_done", "reuse", "keep", "error"}
TOAST_GAP_S = 1.5


def _b(key: str, action: str, description: str, verb: str, tooltip: str, **kw: Any) -> Binding:
    return Binding(key, action, description, id=f"harmone.{verb}", tooltip=tooltip, **kw)


class HarmoneApp(RunControls, App[int]):
    """The HarmonE TUI over one :class:`RunSession`."""

    CSS_PATH = "app.tcss"
    TITLE = "HarmonE"
    MODES = {
        "dashboard": DashboardScreen,
        "policy": PolicyScreen,
        "events": EventsScreen,
        "models": ModelsScreen,
        "runs": RunsScreen,
        "energy": EnergyScreen,
        "mape": MapeScreen,
    }
    DEFAULT_MODE = "dashboard"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    COMMANDS = App.COMMANDS | {HarmoneCommands}
    BINDINGS = [
        _b("question_mark,f1", "help", "Help", "help", "Keys and screens"),
        _b("q", "quit", "Quit", "quit", "Stop the run (its summary is stored) and quit"),
        _b("p,space", "toggle_pause", "Pause", "pause", "Pause or resume the run"),
        _b(
            "plus,equals_sign",
            "speed(1)",
            "Faster",
            "faster",
            "Faster (steps/s up to max)",
            group=SPEED_GROUP,
        ),
        _b("minus", "speed(-1)", "Slower", "slower", "Slower", group=SPEED_GROUP),
        _b("s", "switch", "Switch", "switch", "Force a switch to a chosen model"),
        _b("r", "retrain", "Retrain", "retrain", "Force a retrain of the active model"),
        _b(
            "e",
            "export",
            "Export",
            "export",
            "Export steps CSV, summary and events JSON",
        ),
        _b(
            "1",
            "switch_mode('dashboard')",
            "Dash",
            "dashboard",
            "Dashboard: live panels and chart",
            group=SCREENS_GROUP,
        ),
        _b("2", "switch_mode('policy')", "Policy", "policy", "Policy editor", group=SCREENS_GROUP),
        _b("3", "switch_mode('events')", "Events", "events", "Event log", group=SCREENS_GROUP),
        _b("4", "switch_mode('models')", "Models", "models", "Model versions", group=SCREENS_GROUP),
        _b("5", "switch_mode('runs')", "Runs", "runs", "Earlier runs", group=SCREENS_GROUP),
        _b(
            "6",
            "switch_mode('energy')",
            "Energy",
            "energy",
            "Energy ledger: joules and carbon by stage and model",
            group=SCREENS_GROUP,
        ),
        _b(
            "7",
            "switch_mode('mape')",
            "MAPE",
            "mape",
            "Who decides: built-in plan or your MAPE files; their figures, errors, log",
            group=SCREENS_GROUP,
        ),
        _b("t", "next_theme", "Theme", "theme", "Next theme (remembered)", show=False),
        _b(
            "colon",
            "command_palette",
            "Commands",
            "palette",
            "Command palette (also ctrl+p)",
            show=False,
        ),
    ]

    def __init__(
        self, session: RunSession, *, autostart: bool = True, refresh_hz: float = 4.0
    ) -> None:
        super().__init__()
        self.session = session
        self.autostart = autostart
        self.refresh_hz = refresh_hz
        self.runtime_worker = None
        self.policy_dirty = False
        self.last_export: Path | None = None
        self.theme_problems: list[str] = []
        self.keymap: dict[str, str] = {}
        self.confirm_quit_after_s = CONFIRM_QUIT_AFTER_S
        self._last_toast = 0.0
        self._last_tick: tuple[object, ...] = ()
        self._theme_ready = False
        self._signalled: int | None = None
        self._remove_signal_handlers = lambda: None

    # start-up ---------------------------------------------------------------------------------
    def on_mount(self) -> None:
        found, self.theme_problems = themes.load_themes()
        for theme in found:
            self.register_theme(theme)
        ui = self._apply_settings()
        wanted = ui.get("theme", themes.DEFAULT_THEME)
        self.theme = wanted if wanted in self.available_themes else themes.DEFAULT_THEME
        self._theme_ready = True
        for problem in self.theme_problems:
            self.notify(problem, title="theme skipped", severity="warning")
        s = self.session
        s.on_progress = lambda text: self.post_message(ProgressReported(text))
        s.on_state = lambda state: self.post_message(RunStateChanged(state))
        s.on_event = lambda row: self.post_message(AdaptationRecorded(row))
        s.on_finished = lambda summary: self.post_message(RunFinished(summary))
        s.on_failed = lambda error: self.post_message(RunFailed(error))
        self.set_interval(1 / self.refresh_hz, self.tick)
        self._remove_signal_handlers = signals.install(asyncio.get_running_loop(), self._on_signal)
        self.call_after_refresh(self._start)

    def _apply_settings(self) -> dict[str, Any]:
        """Read settings.toml once: the keymap, the quit rule; each problem is one notification
        (the app goes on with the defaults). Returns the ``[ui]`` table."""
        data, problem = config.read()
        problems = [problem] if problem else []
        ui = data.get("ui") if isinstance(data.get("ui"), dict) else {}
        self.confirm_quit_after_s, bad = config.seconds(
            ui, "confirm_quit_after_s", CONFIRM_QUIT_AFTER_S
        )
        problems += [bad] if bad else []
        self.keymap, bad_keys = read_keymap(
            data.get("keymap"), binding_ids(), str(config.settings_file())
        )
        self.set_keymap(self.keymap)
        for line in problems + bad_keys:
            self.notify(line, title="settings.toml", severity="warning", timeout=12)
        return ui

    def on_unmount(self) -> None:
        self._remove_signal_handlers()

    def _on_signal(self, signum: int) -> None:
        """Quit as `q` does (no questions: nobody may be at the terminal any more), exit 128+n;
        a second signal leaves at once."""
        self.session.stop(signals.name(signum))
        if self._signalled is not None:
            self.exit(return_code=signals.exit_code(self._signalled))
            return
        self._signalled = signum
        self.run_worker(self._quit_on_signal(signum), group="quit")

    async def _quit_on_signal(self, signum: int) -> None:
        await self.stop_runtime()
        self.exit(return_code=signals.exit_code(signum))

    def _start(self) -> None:
        if self.autostart:
            self.runtime_worker = self.run_worker(
                self.session.start(), name="runtime", group="runtime", exit_on_error=False
            )
        self.tick()

    def tick(self) -> None:
        """Pull figures into the current screen (bounded cost whatever the inference rate)."""
        screen = self.screen
        if isinstance(screen, HarmoneScreen) and screen.data_ready:
            info = self.status_info()
            # Nothing new (paused, finished): skip the redraw, or a paused UI would re-render
            # every panel four times a second (~20% of a core measured by the TUI benchmark).
            key = (id(screen), self.size, info, len(self.session.events), self.theme)
            if key == self._last_tick:
                return
            self._last_tick = key
            screen.show_status(info)
            screen.refresh_data(self.session)

    def watch_theme(self, name: str) -> None:
        if self._theme_ready:
            self.run_worker(asyncio.to_thread(self.remember_theme, name), group="config")

    # messages ---------------------------------------------------------------------------------
    def on_progress_reported(self, message: ProgressReported) -> None:
        self.tick()

    def on_run_state_changed(self, message: RunStateChanged) -> None:
        self.tick()  # the status bar says "paused" now, not at the next timer tick

    def on_adaptation_recorded(self, message: AdaptationRecorded) -> None:
        event = message.event
        now = time.monotonic()
        if event.kind in TOASTED and (
            event.kind == "error" or now - self._last_toast > TOAST_GAP_S
        ):
            self._last_toast = now
            severity = "error" if event.kind == "error" else "information"
            self.notify(
                f"step {event.step:,}: {describe(event.kind, event.detail)}",
                severity=severity,
                timeout=4,
            )

    def on_run_finished(self, message: RunFinished) -> None:
        s = message.summary
        quality = s.get("r2", s.get("mean_confidence"))
        figure = f", quality {quality:.3f}" if isinstance(quality, float) else ""
        self.notify(
            f"run {s.get('status')}: {s.get('steps', 0):,} steps{figure}; "
            "summary stored (e exports)",
            timeout=8,
        )
        self.tick()

    def on_run_failed(self, message: RunFailed) -> None:
        self.notify(message.error, title="the run could not continue", severity="error", timeout=30)
        self.tick()

    def on_policy_applied(self, message: PolicyApplied) -> None:
        self.notify(
            f"policy {message.policy.name} applied: in force at the next MAPE cycle", timeout=4
        )

    def on_policy_saved(self, message: PolicySaved) -> None:
        self.policy_dirty = False

    def on_policy_edited(self, message: PolicyEdited) -> None:
        self.policy_dirty = message.dirty

    # help -------------------------------------------------------------------------------------
    def action_help(self) -> None:
        screen = self.screen
        groups = [
            ("everywhere", self.BINDINGS),
            (
                f"this screen ({type(screen).__name__.removesuffix('Screen').lower()})",
                type(screen).BINDINGS,
            ),
        ]
        if isinstance(screen, DashboardScreen):
            groups.append(("chart (when focused)", ForecastChart.BINDINGS))
        groups.append(
            (
                "always",
                [
                    Binding(
                        "ctrl+p",
                        "command_palette",
                        "Command palette",
                        tooltip="Command palette: every command by name",
                    ),
                    Binding(
                        "tab,shift+tab",
                        "focus_next",
                        "Focus",
                        tooltip="Move the focus between panels",
                    ),
                    Binding("ctrl+q", "quit", "Quit", tooltip="Quit (same as q)"),
                ],
            )
        )
        self.push_screen(HelpModal(getattr(screen, "HELP", "") or "", groups, self.keymap))


def binding_ids() -> set[str]:
    """Every binding id a ``[keymap]`` entry may name (app, screens, chart, dialogs)."""
    from harmone_tui.ui.screens.modals import QuitModal, SaveAsModal, SwitchModal
    from harmone_tui.ui.screens.run_detail import RunDetailScreen

    owners = [
        HarmoneApp,
        *HarmoneApp.MODES.values(),
        ForecastChart,
        RunDetailScreen,
        HelpModal,
        QuitModal,
        SaveAsModal,
        SwitchModal,
    ]
    return {b.id for owner in owners for b in owner.BINDINGS if isinstance(b, Binding) and b.id}
