"""The one line the terminal gets when the TUI closes: which run, how it ended, where it is kept.

The TUI's screen vanishes on exit; without this line a user had no trace of which run they had
just stopped or where to find its figures. No Textual here: it reads the session only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harmone_tui import paths

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession


def exit_line(session: RunSession) -> str:
    """``harmone: run 12 stopped at step 3,400 of 14,093; summary stored in …`` (one line)."""
    snap, summary = session.snapshot, session.summary or {}
    run_id = snap.info.run_id if snap is not None else summary.get("run_id", 0)
    if not run_id:
        reason = f": {session.error}" if session.error else ""
        return f"harmone: no run was started{reason}"
    status = str(summary.get("status") or session.state)
    steps = summary.get("steps", snap.step if snap is not None else 0)
    total = snap.info.total if snap is not None else 0
    of = f" of {total:,}" if total and steps != total else ""
    store = paths.knowledge_file(session.settings.data_dir)
    line = f"harmone: run {run_id} {status} at step {steps:,}{of}"
    if session.state == "failed" and session.error:
        line += f" ({session.error.splitlines()[0]})"
    line += f"; summary stored in {store}" if session.summary else f"; recorded in {store}"
    return line + f" (harmone runs show {run_id})"
