"""What every full screen shares: the status bar and screen tabs on top, the footer below, a
pull hook.

The app calls :meth:`HarmoneScreen.refresh_data` on the current screen a few times a second
(a bounded cost whatever the inference rate: STYLE b.8); screens copy what they need from the
session into their widgets. Nothing here touches the runtime's controls: those are app actions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from harmone_tui.ui.widgets.screen_tabs import ScreenTabs
from harmone_tui.ui.widgets.status_bar import StatusBar, StatusInfo

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession


class HarmoneScreen(Screen[None]):
    """A full screen with the status bar and footer; subclasses yield their body."""

    data_ready = False
    """True once the children are mounted (the app's timer only feeds ready screens)."""

    def on_mount(self) -> None:
        self.call_after_refresh(self._became_ready)

    def _became_ready(self) -> None:
        self.data_ready = True
        self.first_data()

    def first_data(self) -> None:
        """Called once when the screen can take data (children mounted)."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        modes = getattr(self.app, "MODES", {})
        yield ScreenTabs(next((m for m, cls in modes.items() if type(self) is cls), ""))
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    def show_status(self, info: StatusInfo) -> None:
        """Show ``info`` in the status bar; a no-op while the app tears the screen down (a tick
        or a worker's message can still arrive after the bar was removed)."""
        for bar in self.query(StatusBar):
            bar.show(info, self.narrow)

    def refresh_data(self, session: RunSession) -> None:
        """Copy what this screen shows from the session (called on a UI timer)."""
