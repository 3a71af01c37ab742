"""The `harmone compare` table: one row per policy, as text for the terminal, CSV and Markdown.

Rows are plain dicts built from run summaries (:func:`row_from_summary`), so the benchmark script
and tests read the same figures the table shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from harmone_tui import units
from harmone_tui.ledger_report import STAGES

BASE_COLUMNS = (
    "policy",
    "r2",
    "mae",
    "mean_confidence",
    "energy_j_per_inference",
    "energy_source",
    "energy_j_per_inference_incl_retrain",
    "energy_j_total",
    "carbon_g_total",
    *(f"energy_j_{stage}" for stage in STAGES),
    "latency_ms_mean",
    "latency_ms_p95",
    "switches",
    "retrains",
    "reuses",
    "drifts",
    "errors",
    "steps",
    "wall_s",
)


def row_from_summary(name: str, summary: dict[str, Any], retrain_energy_j: float) -> dict[str, Any]:
    """The figures of one run, in base units (J, g). Energy incl. retraining spreads the
    retraining (the ledger's training stage: the worker's whole CPU time, start-up included)
    over the steps; ``energy_j_total`` is the ledger's total, every stage of the run.

    >>> s = {"steps": 10, "r2": 0.9, "mae": 1.0, "energy_j_per_inference": 0.0005,
    ...      "energy_j_total": 0.005, "energy_source": "estimated", "model_share": {"a": 1.0}}
    >>> row_from_summary("p", s, 0.005)["energy_j_per_inference_incl_retrain"]
    0.001
    """
    steps = int(summary.get("steps") or 0)
    ledger = summary.get("energy") or {}
    stages = ledger.get("stages") or {}
    if stages:
        retrain_energy_j = float(stages["training"]["energy_j"])
    inference_j = float(summary.get("energy_j_total") or 0.0)
    row: dict[str, Any] = {
        "policy": name,
        "r2": summary.get("r2"),
        "mae": summary.get("mae"),
        "mean_confidence": summary.get("mean_confidence"),
        "energy_j_per_inference": summary.get("energy_j_per_inference"),
        "energy_source": summary.get("energy_source", ""),
        "energy_j_per_inference_incl_retrain": (inference_j + retrain_energy_j) / steps
        if steps
        else None,
        "energy_j_total": ledger.get("energy_j"),
        "carbon_g_total": ledger.get("carbon_g"),
        **{f"energy_j_{s}": (stages.get(s) or {}).get("energy_j") for s in STAGES},
        "latency_ms_mean": summary.get("latency_ms_mean"),
        "latency_ms_p95": summary.get("latency_ms_p95"),
        "switches": summary.get("switches", 0),
        "retrains": summary.get("retrains", 0),
        "reuses": summary.get("reuses", 0),
        "drifts": summary.get("drifts", 0),
        "errors": summary.get("errors", 0),
        "steps": steps,
        "wall_s": summary.get("wall_s"),
        "retrain_energy_j": retrain_energy_j,
    }
    for model, share in dict(summary.get("model_share") or {}).items():
        row[f"share_{model}"] = share
    return row


def columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The CSV columns: the fixed ones, then one ``share_<model>`` per model seen."""
    shares: list[str] = []
    for row in rows:
        shares += [k for k in row if k.startswith("share_") and k not in shares]
    return [*BASE_COLUMNS, "retrain_energy_j", *shares]


def _fmt(value: Any, digits: int | str) -> str:
    """``digits`` decimals, or a unit (``"J"``, ``"g"``): the prefix its magnitude calls for."""
    if value is None:
        return "-"
    if digits == "J":
        return units.energy(float(value))
    if digits == "g":
        return units.carbon(float(value))
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def share_text(row: dict[str, Any]) -> str:
    """``linear 80% lstm 20%``: the models a run used, largest share first.

    >>> share_text({"share_a": 0.25, "share_b": 0.75, "share_c": 0.0})
    'b 75% a 25%'
    """
    parts = [(k[len("share_") :], v) for k, v in row.items() if k.startswith("share_") and v]
    parts.sort(key=lambda kv: -kv[1])
    return " ".join(f"{m} {round(100 * v)}%" for m, v in parts)


DISPLAY = (
    ("policy", "policy", None),
    ("R²", "r2", 4),
    ("MAE", "mae", 2),
    ("energy/inf", "energy_j_per_inference", "J"),
    ("source", "energy_source", None),
    ("/inf+retrain", "energy_j_per_inference_incl_retrain", "J"),
    ("total", "energy_j_total", "J"),
    ("CO₂e", "carbon_g_total", "g"),
    ("retraining", "energy_j_training", "J"),
    ("lat ms", "latency_ms_mean", 3),
    ("p95 ms", "latency_ms_p95", 3),
    ("switch", "switches", None),
    ("retrain", "retrains", None),
    ("reuse", "reuses", None),
    ("drift", "drifts", None),
    ("models", None, None),
    ("wall s", "wall_s", 1),
)


CONFIDENCE = ("confidence", "mean_confidence", 4)


def display(rows: Sequence[dict[str, Any]]) -> tuple[tuple[str, str | None, int | str | None], ...]:
    """The table's columns: R² and MAE for regression, mean confidence for vision.

    >>> [h for h, _, _ in display([{"r2": None, "mean_confidence": 0.2}])][:3]
    ['policy', 'confidence', 'energy/inf']
    """
    if any(r.get("r2") is not None for r in rows) or not any(
        r.get("mean_confidence") is not None for r in rows
    ):
        return DISPLAY
    return (DISPLAY[0], CONFIDENCE, *DISPLAY[3:])


Shown = Sequence[tuple[str, str | None, int | str | None]]


def _cells(row: dict[str, Any], shown: Shown) -> list[str]:
    return [share_text(row) if key is None else _fmt(row.get(key), d or 0) for _, key, d in shown]


def text_table(rows: Sequence[dict[str, Any]]) -> str:
    """An aligned plain-text table for the terminal."""
    return _aligned(display(rows), rows)


def _aligned(shown: Shown, rows: Sequence[dict[str, Any]]) -> str:
    header = [h for h, _, _ in shown]
    body = [_cells(r, shown) for r in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *body, strict=False)]
    left = {i for i, (h, _, _) in enumerate(shown) if h in ("policy", "source", "models")}
    lines = [
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        for cells in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def stage_table(rows: Sequence[dict[str, Any]]) -> str:
    """Each policy's energy by ledger stage (the CSV has them as ``energy_j_<stage>``).

    >>> print(stage_table([{"policy": "p", "energy_j_inference": 0.002, "energy_j_other": 1.5}]))
    policy  inference  mape  drift  training  store  frontend  startup   other
    ------  ---------  ----  -----  --------  -----  --------  -------  ------
    p         2.00 mJ     -      -         -      -         -        -  1.50 J
    """
    shown = [("policy", "policy", None), *((s, f"energy_j_{s}", "J") for s in STAGES)]
    return _aligned(shown, rows)


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The same table as Markdown (energy with its source, as every figure must carry it)."""
    shown = display(rows)
    header = [h for h, _, _ in shown]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(_cells(r, shown)) + " |" for r in rows]
    return "\n".join(out) + "\n"


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """Every column at full precision, one row per policy."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns(rows), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()
