"""One run, read-only: its stored summary and its events (from the runs screen; esc goes back)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static

from harmone_tui.ui.figures import summary_rows
from harmone_tui.ui.format import local_time, number
from harmone_tui.ui.widgets.event_table import EventTable

if TYPE_CHECKING:
    from mape.events import Event
    from mape.knowledge import RunRow


class RunDetailScreen(Screen[None]):
    """Summary and events of a stored run; nothing here can change it."""

    BINDINGS = [
        Binding(
            "escape,backspace",
            "app.pop_screen",
            "Back",
            id="harmone.back",
            tooltip="Back to the runs",
        ),
    ]

    def __init__(self, run: RunRow, events: list[Event]) -> None:
        super().__init__()
        self.run = run
        self.events = events

    def compose(self) -> ComposeResult:
        r = self.run
        yield Static(
            f"[b]run {r.run_id}[/b] · {r.policy} · {r.status} · "
            f"started {local_time(r.started_at, date=True)}"
            f" · ended {local_time(r.finished_at, date=True)} · read-only",
            id="run-title",
        )
        with Horizontal(id="run-body"):
            yield Static(self._summary(), id="run-summary")
            yield EventTable(id="run-events", follow=False)
        yield Footer()

    def _summary(self) -> Table:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(no_wrap=True)
        if not self.run.summary:
            table.add_row("summary", "none stored (running, or interrupted)")
        for key, value in summary_rows(self.run.summary or {}):
            table.add_row(key, number(value) if not isinstance(value, str) else value)
        return table

    def on_mount(self) -> None:
        self.query_one("#run-summary").border_title = "summary"
        events = self.query_one("#run-events", EventTable)
        events.border_title = f"{len(self.events)} events"
        events.add_events(self.events)
        events.focus()
