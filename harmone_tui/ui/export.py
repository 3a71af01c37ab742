"""Exporting a run: steps CSV + summary JSON + events JSON in ``exports/run-<id>-<time>/``.

No Textual here (the headless side may reuse it). The telemetry holds only recent steps in
memory, so the steps come from the knowledge store, which has every step of the run:
:func:`collect` (on the event-loop thread) hands the steps not yet stored to the store's writer
and waits for them, and copies the summary and events; :func:`write` streams the rows from the
store into the CSV in a thread, so an export never stalls the UI or the run and never holds a
long run in memory.

A summary exported while the run goes on says so: ``"partial": true``, with the steps and the
running time (``wall_s``, pauses left out) up to the moment of the export.
"""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmone_tui import paths
from harmone_tui.event_text import describe
from harmone_tui.json_safe import dumps

if TYPE_CHECKING:
    from harmone_tui.runtime import Runtime
    from mape.events import Event

STEP_COLUMNS = (
    "step",
    "truth",
    "prediction",
    "model",
    "version",
    "latency_ms",
    "cpu_ms",
    "energy_mj",
    "energy_source",
)
FETCH_ROWS = 5000


@dataclass
class ExportData:
    """What one export writes, fixed at one moment: steps [0, steps) of the run in the store."""

    directory: Path
    store_path: Path
    run_id: int
    steps: int
    summary: dict[str, Any]
    events: list[dict[str, Any]]


def collect(
    runtime: Runtime,
    events: list[Event],
    elapsed_s: float | None = None,
    now: datetime | None = None,
) -> ExportData:
    """Store the pending steps and copy the summary and ``events`` (the run's, as the front end
    heard them; call on the event-loop thread).

    ``elapsed_s``: the run's running time so far when it is still going (the summary is then
    marked partial); None for a run that ended, whose summary already has its own.
    """
    runtime.store_steps()
    summary = runtime.summary()
    if elapsed_s is not None:
        summary["partial"] = True
        summary["wall_s"] = round(elapsed_s, 3)
    rows = [
        {
            "step": e.step,
            "time": datetime.fromtimestamp(e.ts).astimezone().isoformat(timespec="seconds"),
            "ts": e.ts,
            "kind": e.kind,
            "text": describe(e.kind, e.detail),
            "detail": e.detail,
        }
        for e in events
    ]
    run_id = summary["run_id"]
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    directory = paths.exports_dir(runtime.settings.data_dir) / f"run-{run_id}-{stamp}"
    return ExportData(directory, runtime.store.path, run_id, summary["steps"], summary, rows)


def write(data: ExportData) -> Path:
    """Write ``steps.csv``, ``summary.json`` and ``events.json``; return the directory."""
    data.directory.mkdir(parents=True, exist_ok=True)
    with (data.directory / "steps.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(STEP_COLUMNS)
        for rows in _stored_steps(data.store_path, data.run_id, data.steps):
            out.writerows(
                (
                    step,
                    "" if truth is None or truth != truth else truth,
                    pred,
                    model,
                    version,
                    round(lat, 6),
                    round(cpu, 6),
                    round(energy, 6),
                    source,
                )
                for step, truth, pred, model, version, lat, cpu, energy, source in rows
            )
    (data.directory / "summary.json").write_text(dumps(data.summary, indent=2) + "\n")
    (data.directory / "events.json").write_text(dumps(data.events, indent=2) + "\n")
    return data.directory


def _stored_steps(store: Path, run_id: int, steps: int) -> Any:
    """Batches of ``steps`` rows of one run, in step order, on a read-only connection of its own
    (this runs in a worker thread; the store's writers go on meanwhile: WAL)."""
    conn = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cursor = conn.execute(
            "SELECT " + ", ".join(STEP_COLUMNS) + " FROM steps WHERE run_id=? AND step<?"
            " ORDER BY step",
            (run_id, steps),
        )
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield rows
    finally:
        conn.close()
