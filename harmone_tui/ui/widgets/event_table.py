"""The event table: step, local time, kind and a sentence with the figures; filterable.

It keeps every event it was given and shows the ones matching the filter: alternatives separated
by ``,`` or ``|``, each matched as a substring of "kind sentence" (``drift``, ``switch|reuse``,
``lstm``). Rows are added incrementally, so a long run does not rebuild the table each refresh.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from harmone_tui.ui.format import KIND_LABELS, describe, local_time

if TYPE_CHECKING:
    from mape.events import Event

STRONG = {"switch", "drift", "retrain_done", "reuse", "error"}


def matches(filter_text: str, kind: str, sentence: str) -> bool:
    """Whether an event passes the filter (pure; see the module docstring)."""
    options = [o.strip().lower() for o in re.split(r"[,|]", filter_text) if o.strip()]
    if not options:
        return True
    haystack = f"{kind} {sentence}".lower()
    return any(option in haystack for option in options)


class EventTable(DataTable[Text]):
    """Adaptation events of a run, newest last."""

    DEFAULT_CSS = """
    EventTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, follow: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.follow = follow
        self.filter_text = ""
        self._events: list[tuple[Event, str]] = []
        self._shown: list[tuple[Event, str]] = []

    def on_mount(self) -> None:
        self.add_column("step", key="step")
        self.add_column("time", key="time")
        self.add_column("kind", key="kind")
        self.add_column("what", key="what")
        self.watch(self, "virtual_size", self._keep_following, init=False)

    def on_resize(self) -> None:
        self._keep_following()

    def _keep_following(self) -> None:
        """Scroll the newest row into view again once the table knows its new size.

        DataTable sizes itself when idle, so a cursor moved to a just-added row may be scrolled to
        with the old size (under load, the table then stayed scrolled short of the newest event).
        """
        if self.follow and self.row_count and self.cursor_row == self.row_count - 1:
            self.move_cursor(row=self.row_count - 1, animate=False)

    @property
    def seen(self) -> int:
        """How many events were given (the caller adds only newer ones)."""
        return len(self._events)

    @property
    def events(self) -> list[Event]:
        """Every event given, filtered or not."""
        return [event for event, _ in self._events]

    @property
    def shown(self) -> int:
        return self.row_count

    def add_events(self, events: list[Event]) -> None:
        """Append events; those matching the filter become rows."""
        for event in events:
            sentence = describe(event.kind, event.detail)
            self._events.append((event, sentence))
            if matches(self.filter_text, event.kind, sentence):
                self._add_row(event, sentence)
        if events and self.follow and self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def set_filter(self, text: str) -> None:
        """Show only events matching ``text`` (empty: all)."""
        if text == self.filter_text:
            return
        self.filter_text = text
        self.clear()
        self._shown = []
        for event, sentence in self._events:
            if matches(text, event.kind, sentence):
                self._add_row(event, sentence)

    def shown_event(self, row: int) -> tuple[Event, str] | None:
        """(event, sentence) on show at ``row``, or None."""
        return self._shown[row] if 0 <= row < len(self._shown) else None

    def _add_row(self, event: Event, sentence: str) -> None:
        self._shown.append((event, sentence))
        style = "bold" if event.kind in STRONG else ""
        self.add_row(
            Text(f"{event.step:,}", justify="right"),
            Text(local_time(event.ts)),
            Text(KIND_LABELS.get(event.kind, event.kind), style=style),
            Text(sentence),
        )
