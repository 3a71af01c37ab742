"""Who decides the run: harmone's built-in plan, or a Harmonica user's MAPE files.

For a custom MAPE (``--mape DIR``): its state, what it decided last, the figures its
``monitor_mape()``/``monitor_drift()`` returned, its last error, and the tail of what it printed
(the log file is read only when it changed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Log, Static

from harmone_tui.ui.mape_text import decider_lines, log_tail
from harmone_tui.ui.screens.base import HarmoneScreen

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession


class MapeScreen(HarmoneScreen):
    """The deciding logic and, for a custom MAPE, its figures, errors and log."""

    HELP = """
## MAPE
Which logic decides the run: harmone's built-in plan, or your own Harmonica MAPE files
(`harmone --mape DIR`). For your files: their state, last decision, the figures
`monitor_mape()` and `monitor_drift()` returned, the last error (also in the event log) and what
they printed (**tab** to the log, then arrows / page keys to scroll).
"""

    _shown = ""
    _log_stamp: tuple[float, int] | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="mape-info")
        yield Log(id="mape-log", max_lines=1000)

    def on_mount(self) -> None:
        self.query_one("#mape-info", Static).border_title = "who decides"
        self.query_one("#mape-log", Log).border_title = "custom MAPE output"

    def refresh_data(self, session: RunSession) -> None:
        snap = session.snapshot
        view = snap.custom_mape if snap is not None else None
        policy = snap.policy if snap is not None else session.policy
        text = "\n".join(decider_lines(view, policy.name, policy.mape.custom))
        if text != self._shown:
            self._shown = text
            self.query_one("#mape-info", Static).update(text)
        log = self.query_one("#mape-log", Log)
        log.display = view is not None
        if view is not None:
            self._show_log(log, Path(view.log))

    def _show_log(self, log: Log, path: Path) -> None:
        try:
            stat = path.stat()
        except OSError:
            return
        stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._log_stamp:
            return
        self._log_stamp = stamp
        log.clear()
        log.write_lines(log_tail(path))
