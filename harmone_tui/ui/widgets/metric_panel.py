"""A small live panel: title, current value, one line of context, and a sparkline of its history.

The state classes ``-warning`` and ``-violated`` colour the border from the theme's
``$warning``/``$error``, so every theme (and NO_COLOR's monochrome) keeps the meaning readable:
the context line also says it in words.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static


class MetricPanel(Vertical):
    """One figure with its history; screens call :meth:`show`."""

    DEFAULT_CSS = """
    MetricPanel { border: round $primary 50%; height: 6; padding: 0 1; }
    MetricPanel.-warning { border: round $warning; }
    MetricPanel.-violated { border: round $error; }
    MetricPanel > .value { text-style: bold; height: 1; }
    MetricPanel > .note { color: $foreground 70%; height: 1; }
    MetricPanel > Sparkline { height: 1fr; min-height: 1; }
    MetricPanel > Sparkline > .sparkline--max-color { color: $primary; }
    MetricPanel > Sparkline > .sparkline--min-color { color: $primary 40%; }
    MetricPanel.-violated > Sparkline > .sparkline--max-color { color: $error; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._shown: tuple[str, str] = ("", "")

    def compose(self) -> ComposeResult:
        yield Static("–", classes="value")
        yield Static("", classes="note")
        yield Sparkline([], summary_function=max)

    def show(self, value: str, note: str, data: list[float], state: str = "") -> None:
        """Set the value, context line and history; ``state`` is '', 'warning' or 'violated'.

        Unchanged text is not re-set, and set text never asks for a layout (each line has a fixed
        height): at max speed the dashboard refreshes often, and every layout pass costs the
        inference thread time through the GIL.
        """
        if (value, note) != self._shown:
            self._shown = (value, note)
            self.query_one(".value", Static).update(value, layout=False)
            self.query_one(".note", Static).update(note, layout=False)
        spark = self.query_one(Sparkline)
        if list(spark.data or []) != data:
            spark.data = data
        self.set_class(state == "warning", "-warning")
        self.set_class(state == "violated", "-violated")
