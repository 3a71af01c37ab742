"""Exporting a run: steps CSV + summary JSON + events JSON in ``exports/run-<id>-<time>/``.

No Textual here (the headless side may reuse it). :func:`collect` copies what is needed on the
event-loop thread (numpy slices are copied in microseconds); :func:`write` does the disk work and
runs in a thread, so an export never stalls the UI or the run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harmone_tui import paths
from harmone_tui.json_safe import dumps

if TYPE_CHECKING:
    from harmone_tui.runtime import Runtime

STEP_COLUMNS = (
    "step", "truth", "prediction", "model", "version", "latency_ms", "cpu_ms", "energy_mj",
    "energy_source",
)


@dataclass
class ExportData:
    """A consistent copy of one run, taken at one moment."""

    directory: Path
    columns: dict[str, np.ndarray]
    models: tuple[str, ...]
    energy_source: str
    summary: dict[str, Any]
    events: list[dict[str, Any]]


def collect(runtime: Runtime, now: datetime | None = None) -> ExportData:
    """Copy the run's steps, summary and events (call on the event-loop thread)."""
    tel = runtime.telemetry
    n = tel.count
    columns = {
        "truth": tel.truth[:n].copy(),
        "prediction": tel.prediction[:n].copy(),
        "model_index": tel.model_index[:n].copy(),
        "version": tel.version[:n].copy(),
        "latency_ms": tel.latency_ms[:n].copy(),
        "cpu_ms": tel.cpu_ms[:n].copy(),
        "energy_mj": tel.energy_mj[:n].copy(),
    }
    events = [
        {
            "step": e.step,
            "time": datetime.fromtimestamp(e.ts).astimezone().isoformat(timespec="seconds"),
            "ts": e.ts,
            "kind": e.kind,
            "detail": e.detail,
        }
        for e in runtime.store.events(runtime.run_id)
    ]
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    directory = paths.exports_dir(runtime.settings.data_dir) / f"run-{runtime.run_id}-{stamp}"
    return ExportData(
        directory, columns, tel.models, runtime.meter.source, runtime.summary(), events
    )


def write(data: ExportData) -> Path:
    """Write ``steps.csv``, ``summary.json`` and ``events.json``; return the directory."""
    data.directory.mkdir(parents=True, exist_ok=True)
    cols = data.columns
    with (data.directory / "steps.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(STEP_COLUMNS)
        rows = zip(
            cols["truth"].tolist(), cols["prediction"].tolist(), cols["model_index"].tolist(),
            cols["version"].tolist(), cols["latency_ms"].tolist(), cols["cpu_ms"].tolist(),
            cols["energy_mj"].tolist(), strict=True,
        )
        for step, (truth, pred, model, version, lat, cpu, energy) in enumerate(rows):
            out.writerow(
                (step, "" if truth != truth else truth, pred, data.models[model], version,
                 round(lat, 6), round(cpu, 6), round(energy, 6), data.energy_source)
            )
    (data.directory / "summary.json").write_text(dumps(data.summary, indent=2) + "\n")
    (data.directory / "events.json").write_text(dumps(data.events, indent=2) + "\n")
    return data.directory
