"""Per-model panel: active marker, current version, EMA score (bar + value), share of steps.

Counters (switches, retrains, reuses, drifts) sit under the table; they are counted from the
run's events by the screen, never kept apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

BAR = 10


@dataclass(frozen=True)
class ModelRow:
    """One model's line."""

    name: str
    version: int | None
    ema: float | None
    share: float
    active: bool


def bar(value: float | None, width: int = BAR) -> str:
    """A block bar for a value in [0, 1] (clipped)."""
    if value is None:
        return " " * width
    filled = max(0.0, min(1.0, value)) * width
    full = int(filled)
    part = " ▏▎▍▌▋▊▉"[int((filled - full) * 8)] if full < width else ""
    return ("█" * full + part).ljust(width)


class ModelScores(Static):
    """The models table; the screen calls :meth:`show`."""

    DEFAULT_CSS = """
    ModelScores { border: round $primary 50%; padding: 0 1; height: auto; }
    """

    def on_mount(self) -> None:
        self.border_title = "models"

    _shown: tuple[object, ...] = ()

    def show(self, rows: list[ModelRow], counters: dict[str, int], narrow: bool = False) -> None:
        """Draw the table, unless what it would show (to the digits shown) is unchanged."""
        key = (
            tuple(
                (
                    r.name,
                    r.version,
                    None if r.ema is None else round(r.ema, 3),
                    round(100 * r.share),
                    r.active,
                )
                for r in rows
            ),
            tuple(counters.items()),
            narrow,
        )
        if key == self._shown:
            return
        self._shown = key
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column("", width=1)
        table.add_column("model", no_wrap=True)
        table.add_column("ver", justify="right", no_wrap=True)
        if not narrow:
            table.add_column("EMA", no_wrap=True)
        table.add_column("EMA", justify="right", no_wrap=True)
        table.add_column("share", justify="right", no_wrap=True)
        header = ["", "model", "ver"] + ([""] if not narrow else []) + ["EMA", "steps"]
        table.add_row(*(Text(h, style="dim") for h in header))
        for r in rows:
            style = "bold" if r.active else ""
            cells = [
                Text("▶" if r.active else " ", style=style),
                Text(r.name, style=style),
                Text("–" if r.version is None else f"v{r.version}", style=style),
            ]
            if not narrow:
                cells.append(Text(bar(r.ema), style=style))
            cells.append(Text("–" if r.ema is None else f"{r.ema:.3f}", style=style))
            cells.append(Text(f"{100 * r.share:.0f}%", style=style))
            table.add_row(*cells)
        counts = "  ".join(f"{k} {v}" for k, v in counters.items())
        outer = Table.grid(expand=True)
        outer.add_row(table)
        outer.add_row(Text(counts, style="dim" if not any(counters.values()) else ""))
        self.update(outer)
