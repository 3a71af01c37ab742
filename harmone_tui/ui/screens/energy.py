"""The energy ledger of the run: a bar per stage and per model version, carbon beside each total.

Live while the run goes (the ledger's report, at most once a second: it reads a few clocks and
``/proc``), the stored summary's ``energy`` block once the run ended.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from harmone_tui.ledger_report import STAGE_HELP
from harmone_tui.ui.energy_view import energy_lines
from harmone_tui.ui.screens.base import HarmoneScreen

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession

LIVE_EVERY_S = 1.0


class EnergyScreen(HarmoneScreen):
    """Where the run's joules went; see the module docstring."""

    HELP = (
        """
## Energy
Every joule of this run's process and its trainer worker, by stage. The total is measured
(CPU time × J per CPU-second, or RAPL); the stages add up to it. Carbon = energy × grid
intensity × PUE (set by --grid-intensity, --region, --pue, the environment or settings.toml;
see docs/energy.md).

"""
        + "\n".join(f"- **{stage}**: {text}" for stage, text in STAGE_HELP.items())
        + "\n"
    )

    def __init__(self) -> None:
        super().__init__()
        self._shown_at = 0.0
        self._final = False

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="energy-body"):
            yield Static("", id="energy-text")

    def on_mount(self) -> None:
        self.query_one("#energy-body").border_title = "energy ledger"

    def refresh_data(self, session: RunSession) -> None:
        text = self.query_one("#energy-text", Static)
        final = bool(session.summary and "energy" in session.summary)
        now = time.monotonic()
        if self._final or (not final and now - self._shown_at < LIVE_EVERY_S):
            return
        block = session.energy()
        if block is None:  # no ledger before start-up made one
            text.update(session.progress or "starting")
            return
        self._shown_at, self._final = now, final
        text.update("\n".join(energy_lines(block, self.size.width or 100)))
