"""The help screen (``?`` / F1): the current screen's notes, then every key binding with its id.

The table is built from the Binding objects themselves (app, screens, chart) and the keymap in
force, so it cannot drift from what the keys do; the ids (``harmone.<verb>``) are what a user
remaps in settings.toml's ``[keymap]`` (the notes at the end say how).
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

from harmone_tui.ui import config
from harmone_tui.ui.format import duration


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


KEYMAP_NOTES = """
## Remapping keys
Give any id of the table above other keys in **{settings}**, under `[keymap]`:
`"harmone.pause" = "z"` or `"harmone.help" = ["f1", "h"]`. An entry that cannot work is
reported once when the app starts, and the others still apply.

## Quitting
**q** stops the run (its summary is stored; a run cannot be resumed) and quits. While a run is
still going and has run for {quit_after} or more, **q** asks first: **q** again or **y** quits,
**esc** stays (`[ui] confirm_quit_after_s` in settings.toml; 0 always asks). A finished run
quits at once. On exit the terminal gets one line with the run id and where its summary is.
"""


def binding_table(
    groups: list[tuple[str, Iterable[BindingType]]],
    app_display: object,
    keymap: dict[str, str] | None = None,
) -> Table:
    """A table of (key, what, id) per group; ``app_display`` formats key names
    (App.get_key_display); ``keymap`` (binding id -> keys) gives the keys in force where the
    user remapped them."""
    keymap = keymap or {}
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
            bound = keymap.get(b.id or "", b.key)
            keys = ", ".join(
                app_display(Binding(key.strip(), b.action)) for key in bound.split(",")
            )  # type: ignore[operator]
            table.add_row(keys, b.tooltip or b.description, b.id or "")
    return table


class HelpModal(ModalScreen[None]):
    """Help for the screen it was opened from; esc, ? or q closes it."""

    BINDINGS = [
        Binding(
            "escape,question_mark,f1,q",
            "dismiss",
            "Close",
            id="harmone.close_help",
            tooltip="Close the help",
        ),
    ]

    def __init__(
        self,
        notes: str,
        groups: list[tuple[str, Iterable[BindingType]]],
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.notes = notes
        self.groups = groups
        self.keymap = keymap or {}

    def compose(self) -> ComposeResult:
        quit_after = getattr(self.app, "confirm_quit_after_s", 60.0)
        with VerticalScroll(classes="dialog help"):
            yield Markdown(self.notes.strip() or "## HarmonE")
            yield Static(binding_table(self.groups, self.app.get_key_display, self.keymap))
            yield Markdown(
                KEYMAP_NOTES.format(
                    settings=config.settings_file(), quit_after=duration(quit_after)
                )
            )

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = "help · esc closes"
        self.query_one(VerticalScroll).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
