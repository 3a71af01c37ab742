"""Model versions per model: when and why each was created, on what data, how good, which runs.

The table lists every stored version of the engine's models (knowledge store + files on disk);
▶ marks the version running now, ● the version each other model would run if switched to. The
panel below describes the highlighted version: training-data summary (size, mean, std and its
histogram over the engine's fixed edges, which is what reuse compares), metrics from its meta.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Sparkline, Static

from harmone_tui.ui.format import local_time, number
from harmone_tui.ui.screens.base import HarmoneScreen

if TYPE_CHECKING:
    from harmone_tui.ui.session import RunSession
    from mape.model_repo import StoredVersion


def version_cells(v: StoredVersion, marker: str) -> list[Text]:
    """One table row for a stored version."""
    meta = v.meta
    data = meta.get("data_summary") or {}
    stats = f"{number(data.get('mean'))} ± {number(data.get('std'))}" if data else "–"
    return [
        Text(marker),
        Text(v.model, style="bold" if marker == "▶" else ""),
        Text(f"v{v.version}", justify="right"),
        Text(local_time(v.created_at, date=True)),
        Text(v.reason),
        Text(number(meta.get("train_rows") or data.get("size")), justify="right"),
        Text(stats),
        Text(number(meta.get("validation_r2")), justify="right"),
        Text(number(meta.get("train_cpu_s"), 2), justify="right"),
    ]


def describe_version(v: StoredVersion) -> str:
    """The detail text of a version: metrics and hyper-parameters from its meta."""
    meta: dict[str, Any] = v.meta
    lines = [f"[b]{v.model} v{v.version}[/b] · {v.reason} · {local_time(v.created_at, date=True)}"]
    figures = [
        f"{k} {number(meta[k])}"
        for k in (
            "validation_r2",
            "persistence_validation_r2",
            "train_rows",
            "train_cpu_s",
            "train_energy_j",
        )
        if meta.get(k) is not None
    ]
    if figures:
        lines.append(" · ".join(figures))
    if meta.get("hyperparameters"):
        hp = meta["hyperparameters"]
        shown = (
            {k: val for k, val in hp.items() if not isinstance(val, dict)}
            if isinstance(hp, dict)
            else hp
        )
        lines.append(f"hyper-parameters {shown}")
    data = meta.get("data_summary")
    if data:
        lines.append(
            f"training data: {number(data.get('size'))} values, mean {number(data.get('mean'))},"
            f" std {number(data.get('std'))}; histogram:"
        )
    return "\n".join(lines)


LEGEND = (
    "▶ the version running now   ● the version a model runs when switched to   "
    "why: first use, drift or periodic retrain   ↑/↓ select"
)


class ModelsScreen(HarmoneScreen):
    """Stored model versions; see the module docstring."""

    HELP = """
## Models
Every stored version of each model: when and why it was created (first use, drift retrain,
periodic retrain), its training data and validation metrics. ▶ runs now; ● is the version a
model would run if switched to. ↑/↓ select a version to see its training-data histogram.
"""

    def __init__(self) -> None:
        super().__init__()
        self._versions: list[StoredVersion] = []
        self._key: tuple[Any, ...] = ()

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
        yield Static(LEGEND, id="versions-legend", classes="legend")
        with Vertical(id="version-detail"):
            yield Static("", id="version-text")
            yield Sparkline([], id="version-hist")

    def on_mount(self) -> None:
        table = self.query_one("#versions", DataTable)
        for label in (
            "",
            "model",
            "ver",
            "created",
            "why",
            "rows",
            "data mean ± std",
            "val R²",
            "CPU-s",
        ):
            table.add_column(label)
        self.query_one("#version-detail").border_title = "version"

    def refresh_data(self, session: RunSession) -> None:
        snap = session.snapshot
        if snap is None:
            self.query_one("#version-text", Static).update(session.progress)
            return
        versions, current = snap.stored_versions, snap.versions
        key = (versions, snap.active_model, tuple(sorted(current.items())))
        if key == self._key:
            return
        self._key, self._versions = key, list(versions)
        table = self.query_one("#versions", DataTable)
        row = table.cursor_row
        table.clear()
        for v in versions:
            marker = (
                "▶"
                if v.model == snap.active_model and current.get(v.model) == v.version
                else ("●" if current.get(v.model) == v.version else "")
            )
            table.add_row(*version_cells(v, marker))
        if versions:
            table.move_cursor(row=min(max(row, 0), len(versions) - 1))
            self._detail(table.cursor_row)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)

    def _detail(self, row: int) -> None:
        if not 0 <= row < len(self._versions):
            return
        v = self._versions[row]
        self.query_one("#version-text", Static).update(describe_version(v))
        hist = (v.meta.get("data_summary") or {}).get("hist") or []
        self.query_one("#version-hist", Sparkline).data = [float(h) for h in hist]
