"""Small modal dialogs: confirm, quit, save-as (policy name), choose a model to switch to.

Each is a ``ModalScreen[Result]``: the caller passes a callback and gets the result, or None
when the user pressed esc. Everything works from the keyboard (enter confirms, esc cancels).
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from mape.names import name_problem

CANCEL = Binding(
    "escape", "cancel", "Cancel", id="harmone.cancel", tooltip="Close without doing anything"
)


class QuitModal(ModalScreen[bool]):
    """Quit a run that is still going? ``q`` again, ``y`` or enter quits; ``n`` or esc stays."""

    BINDINGS = [
        Binding(
            "q,y,enter",
            "answer(True)",
            "Quit",
            id="harmone.quit_yes",
            tooltip="Stop the run and quit",
        ),
        Binding(
            "n,escape", "answer(False)", "Stay", id="harmone.quit_no", tooltip="Go back to the run"
        ),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question)
            yield Label(
                "[b]q[/b] or [b]y[/b] quit   [b]esc[/b] or [b]n[/b] stay", classes="dialog-keys"
            )

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class SaveAsModal(ModalScreen[str | None]):
    """Ask for a policy name; warns when the file exists (saving overwrites it)."""

    BINDINGS = [CANCEL]

    def __init__(self, suggested: str, folder: Path) -> None:
        super().__init__()
        self.suggested = suggested
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Save policy as (user policies directory):")
            yield Input(self.suggested, id="name")
            yield Static("", id="name-hint")
            yield Label("[b]enter[/b] save   [b]esc[/b] cancel", classes="dialog-keys")

    def on_mount(self) -> None:
        self._hint(self.suggested)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._hint(event.value)

    def _hint(self, name: str) -> None:
        problem = name_problem(name)
        path = self.folder / f"{name}.toml"
        text = (
            f"✖ {problem}"
            if problem
            else f"→ {path}" + (" (exists: overwrites)" if path.exists() else "")
        )
        hint = self.query_one("#name-hint", Static)
        hint.update(text)
        hint.set_class(bool(problem), "-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if name_problem(event.value) is None:
            self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SwitchModal(ModalScreen[str | None]):
    """Choose the model to force a switch to (the active one is marked)."""

    BINDINGS = [CANCEL]

    def __init__(self, models: list[str], active: str) -> None:
        super().__init__()
        self.models = models
        self.active = active

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Switch to model (from the next step):")
            yield OptionList(
                *(
                    Option(f"{m}{'  (active)' if m == self.active else ''}", id=m)
                    for m in self.models
                ),
                id="models",
            )
            yield Label("[b]enter[/b] switch   [b]esc[/b] cancel", classes="dialog-keys")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        others = [i for i, m in enumerate(self.models) if m != self.active]
        options.highlighted = others[0] if others else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
