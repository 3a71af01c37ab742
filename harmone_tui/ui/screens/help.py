"""The help screen (``?`` / F1): the current screen's notes, then every key binding with its id.

The table is built from the Binding objects themselves (app, screens, chart), so it cannot drift
from what the keys do; the ids (``harmone.<verb>``) are what a user remaps in a keymap.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


def binding_table(groups: list[tuple[str, Iterable[BindingType]]], app_display: object) -> Table:
    """A table of (key, what, id) per group; ``app_display`` formats key names (App.get_key_display)."""
    table = Table(expand=True, show_edge=False, box=None, padding=(0, 1))
    table.add_column("key", no_wrap=True, style="bold", width=14)
    table.add_column("what", ratio=1)
    table.add_column("id", style="dim", no_wrap=True)
    for title, items in groups:
        bindings = _bindings(items)
        if not bindings:
            continue
        table.add_row("", Text(title, style="bold underline"), "")
        for b in bindings:
            keys = ", ".join(app_display(Binding(key.strip(), b.action)) for key in b.key.split(","))  # type: ignore[operator]
            table.add_row(keys, b.tooltip or b.description, b.id or "")
    return table


class HelpModal(ModalScreen[None]):
    """Help for the screen it was opened from; esc, ? or q closes it."""

    BINDINGS = [
        Binding("escape,question_mark,f1,q", "dismiss", "Close", id="harmone.close_help", tooltip="Close the help"),
    ]

    def __init__(self, notes: str, groups: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.notes = notes
        self.groups = groups

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Markdown(self.notes.strip() or "## HarmonE")
            yield Static(binding_table(self.groups, self.app.get_key_display))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = "help · esc closes"
        self.query_one(VerticalScroll).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
