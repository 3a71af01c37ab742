"""The event log: every adaptation of the run with step, local time, kind and its figures.

``/`` opens the filter (kinds or words; ``switch|drift`` for either), ``esc`` clears it and
leaves. Counters in the title are counted from the events themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from harmone_tui.ui.screens.base import HarmoneScreen
from harmone_tui.ui.widgets.event_table import EventTable
from mape.events import ADAPTATIONS, counts

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession


class EventsScreen(HarmoneScreen):
    """The whole event log of the current run, filterable."""

    HELP = """
## Event log
Every adaptation with its step, local time, reason and figures.
**/** filters (e.g. `drift`, `switch|reuse`, `lstm`); **esc** clears the filter.
"""
    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="harmone.filter",
            tooltip="Filter events by kind or text",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id="harmone.clear_filter",
            tooltip="Show every event",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        yield Input(
            placeholder="/ filter: kind or text, e.g. drift or switch|reuse (esc clears)",
            id="filter",
            compact=True,
        )
        yield Static("", id="event-counts")
        yield EventTable(id="log")
        yield Static("", id="event-detail")

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one("#log").focus()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.query_one("#log", EventTable).set_filter("")
        self.query_one("#log").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.query_one("#log", EventTable).set_filter(event.value)
            self._counts()

    def on_data_table_row_highlighted(self, event: EventTable.RowHighlighted) -> None:
        """The whole sentence of the highlighted event (long ones are cut in the table)."""
        table = self.query_one("#log", EventTable)
        row = table.shown_event(event.cursor_row)
        text = "" if row is None else f"step {row[0].step:,} · {row[0].kind} · {row[1]}"
        self.query_one("#event-detail", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.query_one("#log").focus()

    def refresh_data(self, session: RunSession) -> None:
        table = self.query_one("#log", EventTable)
        if len(session.events) > table.seen:
            table.add_events(session.events[table.seen :])
            self._counts(session)

    def _counts(self, session: RunSession | None = None) -> None:
        table = self.query_one("#log", EventTable)
        events = session.events if session is not None else table.events
        counters = counts(e.kind for e in events)
        text = "  ".join(f"{k} {counters[k]}" for k in ADAPTATIONS)
        shown = f"showing {table.shown} of {table.seen}"
        if table.filter_text:
            shown += f" matching “{table.filter_text}”"
        self.query_one("#event-counts", Static).update(f"{text}   ·   {shown}")
