"""The run's controls as app actions: pause, speed, switch, retrain, export, policy, theme, quit.

A mixin of :class:`harmone_tui.ui.app.HarmoneApp`, kept apart so ``app.py`` stays wiring. Every
control goes through the Runtime's public methods (pause/resume/set_speed/request_switch/
request_retrain/apply_policy/stop); nothing here computes what the loop should do.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmone_tui import paths
from harmone_tui.ui import config, export
from harmone_tui.ui.format import duration, energy_source
from harmone_tui.ui.widgets.status_bar import StatusInfo

if TYPE_CHECKING:
    from textual.worker import Worker

    from harmone_tui.ui.session import RunSession

SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)
DEFAULT_SPEED = 50.0
STOP_TIMEOUT_S = 5.0
CONFIRM_QUIT_AFTER_S = 60.0  # default of settings.toml [ui] confirm_quit_after_s


class RunControls:
    """Actions on the run; mixed into the App (``self`` is the App)."""

    session: RunSession
    runtime_worker: Worker[None] | None
    policy_dirty: bool
    last_export: Path | None
    confirm_quit_after_s: float

    # status -----------------------------------------------------------------------------------
    def status_info(self) -> StatusInfo:
        """What the status bar shows now."""
        s = self.session
        snap = s.snapshot
        if snap is None:
            return StatusInfo(
                state=s.state if s.state != "running" else "preparing",
                progress=s.error or s.progress,
            )
        state = "paused" if s.state == "running" and snap.state == "paused" else s.state
        note = f"retraining {snap.retraining}…" if snap.retraining else ""
        return StatusInfo(
            state=state,
            progress=note or s.progress,
            step=snap.step,
            total=snap.info.total,
            rate=s.steps_per_s(),
            speed=snap.speed,
            model=snap.active_model + (f" ({note})" if note else ""),
            version=snap.active_version,
            policy=snap.policy.name,
            energy=energy_source(snap.info.energy_source),
        )

    def _require_live(self) -> Any:
        if not self.session.live or self.session.runtime is None:
            self.notify(f"the run is {self.session.state}", severity="warning", timeout=3)  # type: ignore[attr-defined]
            return None
        return self.session.runtime

    # run controls -----------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        rt = self._require_live()
        if rt is None:
            return
        if rt.paused:
            rt.resume()
        else:
            rt.pause()
        self.notify("paused: p resumes" if rt.paused else "resumed", timeout=2)  # type: ignore[attr-defined]

    def set_speed(self, speed: float | None) -> None:
        rt = self.session.runtime
        if rt is None:
            self.session.settings.speed = speed
            return
        rt.set_speed(speed)

    def action_speed(self, direction: int) -> None:
        rt = self.session.runtime
        current = rt.speed if rt is not None else self.session.settings.speed
        if current is None:
            index = len(SPEEDS) - 1
        else:
            index = min(range(len(SPEEDS) - 1), key=lambda i: abs((SPEEDS[i] or 0) - current))
        self.set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, index + direction))])

    def action_switch(self) -> None:
        from harmone_tui.ui.screens.modals import SwitchModal

        rt = self._require_live()
        if rt is not None:
            snap = self.session.snapshot
            self.push_screen(
                SwitchModal(list(snap.info.models), snap.active_model), self._switch_chosen
            )  # type: ignore[attr-defined]

    def _switch_chosen(self, model: str | None) -> None:
        if model:
            self.switch_to(model)

    def switch_to(self, model: str) -> None:
        rt = self._require_live()
        if rt is None:
            return
        if model == self.session.snapshot.active_model:
            self.notify(f"{model} is already active", timeout=2)  # type: ignore[attr-defined]
            return
        rt.request_switch(model)
        self.notify(f"switching to {model} at the next step", timeout=3)  # type: ignore[attr-defined]

    def action_retrain(self) -> None:
        rt = self._require_live()
        if rt is None:
            return
        if rt.request_retrain():
            self.notify(
                f"retraining {self.session.snapshot.active_model} in the background", timeout=3
            )  # type: ignore[attr-defined]
        else:
            self.notify("a retrain is already running", severity="warning", timeout=3)  # type: ignore[attr-defined]

    async def action_export(self) -> None:
        rt = self.session.runtime
        if rt is None or not self.session.ready:
            self.notify("nothing to export yet", severity="warning", timeout=3)  # type: ignore[attr-defined]
            return
        live = self.session.live
        data = export.collect(rt, self.session.elapsed_s() if live else None)
        path = await asyncio.to_thread(export.write, data)
        self.last_export = path
        so_far = " so far (summary marked partial)" if live else ""
        self.notify(f"exported {data.steps:,} steps{so_far} to\n{path}", title="export", timeout=12)  # type: ignore[attr-defined]

    # policies and themes ----------------------------------------------------------------------
    def policy_names(self) -> list[str]:
        from mape.policy_file import preset_names, user_policy_names

        return sorted(
            set(preset_names())
            | set(user_policy_names(paths.policies_dir(self.session.settings.data_dir)))
        )

    def apply_named_policy(self, name: str) -> None:
        from mape.policy import PolicyError
        from mape.policy_file import resolve_policy

        rt = self._require_live()
        if rt is None:
            return
        try:
            policy, source, text = resolve_policy(
                name, paths.policies_dir(self.session.settings.data_dir)
            )
            missing = [m for m in policy.models if m not in self.session.snapshot.info.models]
            if missing:
                raise PolicyError(f"{name} needs {', '.join(missing)}, not loaded in this run")
            rt.apply_policy(policy, text, source)
        except PolicyError as exc:
            self.notify(str(exc), severity="error", timeout=8)  # type: ignore[attr-defined]
            return
        self.notify(f"policy {policy.name} applied: in force at the next MAPE cycle", timeout=4)  # type: ignore[attr-defined]

    def choose_theme(self, name: str) -> None:
        self.theme = name  # type: ignore[attr-defined]

    def action_next_theme(self) -> None:
        names = sorted(n for n in self.available_themes if n.startswith("harmone"))  # type: ignore[attr-defined]
        current = self.theme  # type: ignore[attr-defined]
        self.theme = (
            names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        )  # type: ignore[attr-defined]
        self.notify(f"theme {self.theme}", timeout=2)  # type: ignore[attr-defined]

    def remember_theme(self, name: str) -> None:
        try:
            config.remember("theme", name)
        except OSError as exc:
            self.notify(f"cannot remember the theme: {exc}", severity="warning")  # type: ignore[attr-defined]

    # quitting ---------------------------------------------------------------------------------
    async def stop_runtime(self) -> None:
        """Stop the run so its summary is stored; cancel a prepare (first-use training)."""
        self.session.stop()
        worker = self.runtime_worker
        if worker is None or not worker.is_running:
            return
        if self.session.state in ("starting", "preparing"):
            worker.cancel()
            self.session.abandon()
            return
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while worker.is_running and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if worker.is_running:  # waiting on a retrain to swap in: cancel; run()'s finally stores
            worker.cancel()
            await asyncio.sleep(0.05)
        self.session.abandon()

    def quit_question(self) -> str | None:
        """What to ask before quitting, or None to quit at once.

        The rule: ask when the policy has unapplied edits, or when the run is still going and
        has run for ``confirm_quit_after_s`` seconds or more (settings.toml ``[ui]``, default
        60; 0 always asks). A finished, stopped or failed run, or a younger one, quits at once.
        """
        s = self.session
        parts = []
        if self.policy_dirty:
            parts.append("The policy has unsaved, unapplied edits.")
        snap = s.snapshot
        if snap is not None and s.live and s.elapsed_s() >= self.confirm_quit_after_s:
            parts.append(
                f"Run {snap.info.run_id} has run for {duration(s.elapsed_s())} (step"
                f" {snap.step:,} of {snap.info.total:,}). Quitting stops it for good: a run"
                " cannot be resumed (start a new one); its summary so far is stored."
            )
        return "\n".join(parts) + "\nQuit?" if parts else None

    async def action_quit(self) -> None:
        from harmone_tui.ui.screens.modals import QuitModal

        question = self.quit_question()
        if question is not None:
            self.push_screen(QuitModal(question), self._quit_confirmed)  # type: ignore[attr-defined]
            return
        await self._quit_confirmed(True)

    async def _quit_confirmed(self, yes: bool | None) -> None:
        if not yes:
            return
        self.notify("stopping the run…", timeout=2)  # type: ignore[attr-defined]
        await self.stop_runtime()
        self.exit(return_code=1 if self.session.state == "failed" else 0)  # type: ignore[attr-defined]
