"""Earlier runs from the knowledge store with their summary figures; enter opens one read-only.

A run's figures come from the summary stored when it ended (Runtime.run's finally), so a run
interrupted by a crash shows as ``interrupted`` without figures, never with made-up ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from harmone_tui.ui.format import local_time, number
from harmone_tui.ui.screens.base import HarmoneScreen

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession
    from mape.knowledge import RunRow

COLUMNS = (
    "run",
    "started",
    "status",
    "policy",
    "data",
    "steps",
    "quality",
    "µJ/inf",
    "sw",
    "rt",
    "re",
    "dr",
)


def run_cells(run: RunRow, narrow: bool = False) -> list[Text]:
    """One table row for a run (figures from its stored summary, dashes when none)."""
    s: dict[str, Any] = run.summary or {}
    quality = s.get("r2", s.get("mean_confidence"))
    energy = s.get("energy_mj_per_inference")
    data = Path(run.data).name if run.data and run.data != "bundled sample" else run.data
    cells = [
        Text(str(run.run_id), justify="right"),
        Text(local_time(run.started_at, date=True)),
        Text(run.status),
        Text(run.policy),
        Text(data or "–"),
        Text(number(s.get("steps")), justify="right"),
        Text(number(quality), justify="right"),
        Text(number(energy * 1e3 if energy is not None else None), justify="right"),
        *(
            Text(number(s.get(k)), justify="right")
            for k in ("switches", "retrains", "reuses", "drifts")
        ),
    ]
    if narrow:  # the data column goes first: the figures matter more at 80 columns
        del cells[COLUMNS.index("data")]
    return cells


LEGEND = (
    "quality: R² (regression) or mean box confidence (vision)   µJ/inf: energy per inference   "
    "sw switches  rt retrains  re reuses  dr drifts   enter opens a run"
)


class RunsScreen(HarmoneScreen):
    """The runs table; enter opens the highlighted run."""

    HELP = """
## Runs
Every run in the knowledge store with its summary: quality (R² or confidence), energy per
inference, and the counters (sw switches, rt retrains, re reuses, dr drifts).
**enter** opens a run read-only (summary and events).
"""
    BINDINGS = [
        Binding(
            "enter",
            "open_run",
            "Open run",
            id="harmone.open_run",
            tooltip="Show the run's summary and events",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._runs: list[RunRow] = []
        self._key: tuple[Any, ...] = ()
        self._asked: tuple[Any, ...] = ()

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(LEGEND, id="runs-legend", classes="legend")

    def on_mount(self) -> None:
        self.query_one("#runs", DataTable).focus()

    def on_screen_resume(self) -> None:
        self._asked = ()  # shown again: other processes may have added or ended runs

    def refresh_data(self, session: RunSession) -> None:
        """Read the runs from the store when this run's state changed or the screen is shown
        again, not on every tick (a UI tick never queries SQLite)."""
        store = session.store
        asked = (self.narrow, session.state, session.ready)
        if store is None or asked == self._asked:
            return
        self._asked = asked
        runs = store.runs()
        key = (self.narrow, *((r.run_id, r.status) for r in runs))
        if key == self._key:
            return
        self._key, self._runs = key, runs
        table = self.query_one("#runs", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        for label in COLUMNS:
            if not (self.narrow and label == "data"):
                table.add_column(label)
        for run in runs:
            table.add_row(*run_cells(run, self.narrow), key=str(run.run_id))
        if runs:
            table.move_cursor(row=min(max(row, 0), len(runs) - 1))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        from harmone_tui.ui.screens.run_detail import RunDetailScreen

        table = self.query_one("#runs", DataTable)
        store = self.app.session.store  # type: ignore[attr-defined]
        if store is None or not self._runs or not 0 <= table.cursor_row < len(self._runs):
            return
        run = self._runs[table.cursor_row]
        self.app.push_screen(RunDetailScreen(run, store.events(run.run_id)))
