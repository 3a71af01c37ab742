"""``launch(settings, policy, source, text) -> exit code``: what ``harmone`` (no ``--no-ui``) calls.

Builds the session and the app with :func:`build_app` (tests and snapshots use the same factory)
and runs it; on exit the terminal gets one line naming the run and where its summary is stored
(:mod:`harmone_tui.ui.farewell`). The TUI paces the run at a watchable speed unless ``--speed``
was given (``+``/``-`` and ``max`` change it at run time); headless mode keeps ``max``.
:func:`terminal_problem` says why there is no terminal to run it in (checked before anything
else, and without importing Textual).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from harmone_tui.settings import RunSettings
    from harmone_tui.ui.app import HarmoneApp
    from mape.policy import Policy


STREAMS = (("standard input", "stdin"), ("standard output", "stdout"), ("standard error", "stderr"))


def terminal_problem(streams: dict[str, TextIO | None] | None = None) -> str | None:
    """Why the TUI cannot run here, or None.

    Textual reads keys from stdin and draws on stderr; without a terminal there (cron, a pipe,
    ``</dev/null``) it wrote escape codes into a file and never exited. A redirected stdout means a
    script or a pipe (``| less`` fights the TUI for the terminal), so it is refused too, and so is
    ``TERM=dumb``, which cannot draw a full-screen UI.
    """
    found = streams if streams is not None else {name: getattr(sys, name) for _, name in STREAMS}
    for label, name in STREAMS:
        stream = found.get(name)
        if stream is None or not stream.isatty():
            return (
                f"the TUI needs a terminal, and {label} is not one (a pipe, a file, cron?);"
                " run headless with --no-ui"
            )
    if os.environ.get("TERM") == "dumb":
        return "the TUI cannot draw on TERM=dumb; run headless with --no-ui, or set TERM"
    return None


def build_app(
    settings: RunSettings, policy: Policy, source: str, text: str, *, autostart: bool = True
) -> HarmoneApp:
    """The app over a new session (the runtime itself is built in the app's worker)."""
    from harmone_tui.ui.app import HarmoneApp
    from harmone_tui.ui.session import RunSession

    settings.mode = "tui"
    return HarmoneApp(RunSession(settings, policy, source, text), autostart=autostart)


def launch(
    settings: RunSettings, policy: Policy, source: str, text: str, *, speed_given: bool = False
) -> int:
    """Run the TUI until the user quits; 0, or 1 when the run failed."""
    from harmone_tui.ui.controls import DEFAULT_SPEED
    from harmone_tui.ui.farewell import exit_line

    if settings.speed is None and not speed_given:
        settings.speed = DEFAULT_SPEED
    app = build_app(settings, policy, source, text)
    app.run()
    print(exit_line(app.session), file=sys.stderr)
    return int(app.return_code or 0)
