"""``launch(settings, policy, source, text) -> exit code``: what ``harmone`` (no ``--no-ui``) calls.

Builds the session and the app with :func:`build_app` (tests and snapshots use the same factory)
and runs it; on exit the terminal gets one line naming the run and where its summary is stored
(:mod:`harmone_tui.ui.farewell`). The TUI paces the run at a watchable speed unless ``--speed``
was given (``+``/``-`` and ``max`` change it at run time); headless mode keeps ``max``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from harmone_tui.ui.controls import DEFAULT_SPEED

if TYPE_CHECKING:
    from harmone_tui.settings import RunSettings
    from harmone_tui.ui.app import HarmoneApp
    from mape.policy import Policy


def build_app(
    settings: RunSettings, policy: Policy, source: str, text: str, *, autostart: bool = True
) -> HarmoneApp:
    """The app over a new session (the runtime itself is built in the app's worker)."""
    from harmone_tui.ui.app import HarmoneApp
    from harmone_tui.ui.session import RunSession

    return HarmoneApp(RunSession(settings, policy, source, text), autostart=autostart)


def launch(
    settings: RunSettings, policy: Policy, source: str, text: str, *, speed_given: bool = False
) -> int:
    """Run the TUI until the user quits; 0, or 1 when the run failed."""
    if settings.speed is None and not speed_given:
        settings.speed = DEFAULT_SPEED
    from harmone_tui.ui.farewell import exit_line

    app = build_app(settings, policy, source, text)
    app.run()
    print(exit_line(app.session), file=sys.stderr)
    return int(app.return_code or 0)
