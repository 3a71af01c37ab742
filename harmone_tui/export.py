"""Exporting a run: its steps (with timestamps), events, energy ledger and summary, as CSV and
JSON Lines.

One module for both front ends: the TUI's export key and headless ``--export DIR``. No Textual
here. The telemetry holds only recent steps in memory, so the steps come from the knowledge
store, which has every step of the run: :func:`collect` (on the event-loop thread) hands the
steps not yet stored to the store's writer and waits for them, and copies the summary and
events; :func:`write` (a directory) and :func:`write_stream` (one JSON Lines stream, for
``--export -``) stream the rows from the store in batches, so an export never holds a long run in
memory and can run in a thread while the run goes on.

A summary exported while the run goes on says so: ``"partial": true``, with the steps and the
running time (``wall_s``, pauses left out) up to the moment of the export.

Machine-readable figures keep the store's names, units in the name (``energy_mj``,
``latency_ms``); ``ts`` is Unix time in seconds, ``time`` the same instant in ISO 8601 (local,
with its offset). A step's time is when its prediction finished; steps stored before timestamps
were kept have none.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from harmone_tui import paths
from harmone_tui.event_text import describe
from harmone_tui.json_safe import dumps

if TYPE_CHECKING:
    from harmone_tui.runtime import Runtime
    from mape.events import Event

STORE_STEP_COLUMNS = (
    "step",
    "ts",
    "truth",
    "prediction",
    "model",
    "version",
    "latency_ms",
    "cpu_ms",
    "energy_mj",
    "energy_source",
)
STEP_COLUMNS = ("step", "time", *STORE_STEP_COLUMNS[1:])
EVENT_COLUMNS = ("step", "time", "ts", "kind", "text", "detail")
LEDGER_COLUMNS = (
    "scope",
    "stage",
    "model",
    "version",
    "origin",
    "steps",
    "cpu_s",
    "energy_j",
    "carbon_g",
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


def iso_time(ts: float | None) -> str | None:
    """Unix time as local ISO 8601 with milliseconds and the UTC offset (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")


def collect(
    runtime: Runtime,
    events: list[Event],
    elapsed_s: float | None = None,
    now: datetime | None = None,
) -> ExportData:
    """Store the pending steps and copy the summary and ``events`` (the run's, as the front end
    heard them; call on the event-loop thread) into a new ``exports/run-<id>-<time>/``.

    ``elapsed_s``: the run's running time so far when it is still going (the summary is then
    marked partial); None for a run that ended, whose summary already has its own.
    """
    runtime.store_steps()
    summary = runtime.summary()
    if elapsed_s is not None:
        summary["partial"] = True
        summary["wall_s"] = round(elapsed_s, 3)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    directory = paths.exports_dir(runtime.settings.data_dir) / f"run-{summary['run_id']}-{stamp}"
    return of_run(directory, runtime.settings.data_dir, summary, events)


def of_run(
    directory: Path, data_dir: Path, summary: dict[str, Any], events: list[Event]
) -> ExportData:
    """The export of a run whose steps are all stored (one that ended: headless ``--export``)."""
    records = [
        {
            "step": e.step,
            "time": iso_time(e.ts),
            "ts": e.ts,
            "kind": e.kind,
            "text": describe(e.kind, e.detail),
            "detail": e.detail,
        }
        for e in events
    ]
    store = paths.knowledge_file(data_dir)
    return ExportData(directory, store, summary["run_id"], summary["steps"], summary, records)


def step_records(data: ExportData) -> Iterator[dict[str, Any]]:
    """Every exported step as a dict of :data:`STEP_COLUMNS`, in step order (NaN truth: None)."""
    for rows in _stored_steps(data.store_path, data.run_id, data.steps):
        for step, ts, truth, pred, model, version, lat, cpu, energy, source in rows:
            yield {
                "step": step,
                "time": iso_time(ts),
                "ts": ts,
                "truth": None if truth is None or truth != truth else truth,
                "prediction": pred,
                "model": model,
                "version": version,
                "latency_ms": round(lat, 6),
                "cpu_ms": round(cpu, 6),
                "energy_mj": round(energy, 6),
                "energy_source": source,
            }


def ledger_records(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The energy ledger of a summary (its ``energy`` block) as rows of :data:`LEDGER_COLUMNS`:
    one per stage (``scope`` "stage", the stages sum to the run's total), then one per model
    version within inference and training (``scope`` "version"). Empty without a ledger."""
    energy = summary.get("energy")
    if not energy:
        return []
    source = energy.get("source")
    rows: list[dict[str, Any]] = [
        {"scope": "stage", "stage": stage, **figures, "energy_source": source}
        for stage, figures in energy.get("stages", {}).items()
    ]
    for stage in ("inference", "training"):
        rows += [
            {"scope": "version", "stage": stage, **item, "energy_source": source}
            for item in energy.get(stage, [])
        ]
    return [{k: row.get(k) for k in LEDGER_COLUMNS} for row in rows]


def write(data: ExportData) -> Path:
    """Write the steps, events and (when the run has one) energy ledger, ``.csv`` and
    ``.jsonl`` each, and ``summary.json`` into the export's directory; return it."""
    data.directory.mkdir(parents=True, exist_ok=True)
    _write_table(data.directory, "steps", STEP_COLUMNS, step_records(data))
    _write_table(data.directory, "events", EVENT_COLUMNS, iter(data.events))
    ledger = ledger_records(data.summary)
    if ledger:
        _write_table(data.directory, "ledger", LEDGER_COLUMNS, iter(ledger))
    (data.directory / "summary.json").write_text(dumps(data.summary, indent=2) + "\n")
    return data.directory


def write_stream(data: ExportData, out: TextIO) -> None:
    """The same export as one JSON Lines stream (``--export -``): every record names its kind
    (``"record": "step" | "event" | "ledger" | "summary"``); the summary comes last."""
    for step in step_records(data):
        out.write(dumps({"record": "step", **step}) + "\n")
    for event in data.events:
        out.write(dumps({"record": "event", **event}) + "\n")
    for row in ledger_records(data.summary):
        out.write(dumps({"record": "ledger", **row}) + "\n")
    out.write(dumps({"record": "summary", **data.summary}) + "\n")
    out.flush()


def _write_table(
    directory: Path, name: str, columns: tuple[str, ...], records: Iterator[dict[str, Any]]
) -> None:
    """``<name>.csv`` (nested values as JSON text, None as an empty cell) and ``<name>.jsonl``."""
    with (
        (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as table,
        (directory / f"{name}.jsonl").open("w", encoding="utf-8") as lines,
    ):
        out = csv.writer(table)
        out.writerow(columns)
        for record in records:
            out.writerow(_cell(record.get(c)) for c in columns)
            lines.write(dumps(record) + "\n")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return dumps(value, sort_keys=True)
    return value


def _stored_steps(store: Path, run_id: int, steps: int) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of ``steps`` rows of one run, in step order, on a read-only connection of its own
    (this runs in a worker thread; the store's writers go on meanwhile: WAL)."""
    conn = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cursor = conn.execute(
            "SELECT " + ", ".join(STORE_STEP_COLUMNS) + " FROM steps WHERE run_id=? AND step<?"
            " ORDER BY step",
            (run_id, steps),
        )
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield rows
    finally:
        conn.close()
