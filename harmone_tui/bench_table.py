"""The `harmone bench` table: figures per scenario × policy (mean over seeds), the best fixed
policy in hindsight, every policy's regret against it, the oracle bound, and the means over the
scenarios.

*Best fixed policy in hindsight* (per scenario): of the sweep's *fixed* policies (``fixed`` in a
run's row: they never change the running model nor act on a drift; see
:func:`harmone_tui.commands.bench_sweep.is_fixed`), the one with the highest mean R² there (within
1e-6, the cheaper one): the one to pick had the stream been known. An adaptive policy is measured
against it, never against itself; a sweep without a fixed policy compares with all. *Regret*:
``r2_gap`` = its R² minus the policy's (>= 0), ``energy_ratio`` = the policy's energy over its.
``inference_ratio``: the same for the energy of inference alone (``energy_j`` is the ledger's).
*Oracle*: the best model per window in hindsight (:mod:`harmone_tui.bench_oracle`);
``headroom`` = oracle R² minus the best fixed policy's.

>>> runs = [
...     {"scenario": "s", "policy": "a", "r2": 0.9, "energy_j": 2.0, "steps": 1000,
...      "switches": 0, "retrains": 0, "reuses": 0, "drifts": 0, "seed": 7},
...     {"scenario": "s", "policy": "b", "r2": 0.8, "energy_j": 1.0, "steps": 1000,
...      "switches": 4, "retrains": 1, "reuses": 1, "drifts": 1, "seed": 7},
...     {"scenario": "s", "policy": "c", "r2": 0.95, "energy_j": 3.0, "steps": 1000, "fixed": False,
...      "switches": 4, "retrains": 1, "reuses": 1, "drifts": 1, "seed": 7},
... ]
>>> rows = scenario_rows(runs, {})
>>> [(r["policy"], r["best"], round(r["r2_gap"], 3), r["energy_ratio"]) for r in rows]
[('a', True, 0.0, 1.0), ('b', False, 0.1, 0.5), ('c', False, -0.05, 1.5)]
>>> mean_rows(rows)[1]["switches_per_500"]
2.0
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from typing import Any

COUNTS = ("switches", "retrains", "reuses", "drifts")
TIE = 1e-6
ORACLE = "oracle"


def _mean(values: Sequence[float | None]) -> float | None:
    got = [float(v) for v in values if v is not None]
    return statistics.fmean(got) if got else None


def aggregate(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (scenario, policy) in first-seen order: means over its seeds."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["scenario"], run["policy"]), []).append(run)
    rows = []
    for (scenario, policy), group in groups.items():
        r2s = [g["r2"] for g in group if g.get("r2") is not None]
        row: dict[str, Any] = {
            "scenario": scenario,
            "policy": policy,
            "seeds": len(group),
            "r2": _mean(r2s),
            "r2_sd": statistics.stdev(r2s) if len(r2s) > 1 else 0.0,
            "energy_j": _mean([g.get("energy_j") for g in group]),
            "inference_j": _mean([g.get("inference_j") for g in group]),
            "steps": int(group[0].get("steps") or 0),
            "fixed": bool(group[0].get("fixed", True)),
        }
        for count in COUNTS:
            row[count] = _mean([g.get(count, 0) for g in group])
        rows.append(row)
    return rows


def _best(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for r in rows if r["fixed"] and r["r2"] is not None] or rows
    top = max(r["r2"] for r in rows if r["r2"] is not None)
    near = [r for r in rows if r["r2"] is not None and r["r2"] >= top - TIE]
    return min(near, key=lambda r: r["energy_j"] or 0.0)


def scenario_rows(
    runs: Sequence[dict[str, Any]], oracles: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The table: per scenario its policies (``best`` marks the best fixed one), then its
    oracle row where there is one."""
    rows = aggregate(runs)
    out: list[dict[str, Any]] = []
    for scenario in dict.fromkeys(r["scenario"] for r in rows):
        mine = [r for r in rows if r["scenario"] == scenario]
        best = _best(mine)
        for r in mine:
            r["best"] = r is best
            r["best_policy"] = best["policy"]
            r["r2_gap"] = None if r["r2"] is None else best["r2"] - r["r2"]
            r["energy_ratio"] = _ratio(r["energy_j"], best["energy_j"])
            r["inference_ratio"] = _ratio(r["inference_j"], best["inference_j"])
            r["switches_per_500"] = 500.0 * (r["switches"] or 0.0) / max(r["steps"], 1)
            out.append(r)
        oracle = oracles.get(scenario)
        if oracle is not None:
            out.append(
                {
                    "scenario": scenario,
                    "policy": ORACLE,
                    "seeds": 1,
                    "r2": oracle["r2"],
                    "r2_sd": 0.0,
                    "energy_j": oracle["energy_j"],
                    "inference_j": oracle["energy_j"],
                    "steps": best["steps"],
                    "switches": oracle["switches"],
                    "best": False,
                    "best_policy": best["policy"],
                    "r2_gap": best["r2"] - oracle["r2"],
                    "energy_ratio": _ratio(oracle["energy_j"], best["energy_j"]),
                    "inference_ratio": _ratio(oracle["energy_j"], best["inference_j"]),
                    "switches_per_500": 500.0 * oracle["switches"] / max(best["steps"], 1),
                    "headroom": oracle["r2"] - best["r2"],
                }
            )
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def mean_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per policy (and the oracle), the mean over the scenarios of every figure."""
    out = []
    for policy in dict.fromkeys(r["policy"] for r in rows):
        mine = [r for r in rows if r["policy"] == policy]
        row: dict[str, Any] = {"scenario": "mean", "policy": policy, "scenarios": len(mine)}
        keys = ("r2", "r2_gap", "energy_ratio", "inference_ratio", "energy_j", "switches_per_500")
        for key in (*keys, *COUNTS):
            row[key] = _mean([r.get(key) for r in mine])
        row["best_in"] = sum(bool(r.get("best")) for r in mine)
        out.append(row)
    return out


DISPLAY = (
    ("scenario", "scenario", None),
    ("policy", "policy", None),
    ("R²", "r2", 4),
    ("±sd", "r2_sd", 4),
    ("R² gap", "r2_gap", 4),
    ("energy J", "energy_j", 3),
    ("E/best", "energy_ratio", 2),
    ("Einf/best", "inference_ratio", 2),
    ("switch", "switches", 1),
    ("/500", "switches_per_500", 2),
    ("retrain", "retrains", 1),
    ("reuse", "reuses", 1),
    ("drift", "drifts", 1),
)
MEAN_DISPLAY = (
    ("mean over scenarios", "policy", None),
    ("R²", "r2", 4),
    ("R² gap", "r2_gap", 4),
    ("E/best", "energy_ratio", 2),
    ("Einf/best", "inference_ratio", 2),
    ("/500", "switches_per_500", 2),
    ("retrain", "retrains", 2),
    ("reuse", "reuses", 2),
    ("best in", "best_in", None),
)


def _cell(row: dict[str, Any], key: str, digits: int | None) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if key == "policy" and row.get("best"):
        return f"{value} *"
    if isinstance(value, float) and digits is not None:
        return f"{value:.{digits}f}"
    return str(value)


def text_table(rows: Sequence[dict[str, Any]], shown: Sequence[tuple[str, str, Any]]) -> str:
    """Aligned columns; text left, figures right; a rule between scenarios."""
    header = [h for h, _, _ in shown]
    body = [[_cell(r, k, d) for _, k, d in shown] for r in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *body, strict=False)]
    left = {i for i, (_, k, _) in enumerate(shown) if k in ("scenario", "policy")}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths)]
    for i, cells in enumerate(body):
        if i and rows[i].get("scenario") != rows[i - 1].get("scenario"):
            lines.append("")
        lines.append(line(cells))
    return "\n".join(lines)


def report(rows: Sequence[dict[str, Any]]) -> str:
    """The terminal report: the per-scenario table, then the means over scenarios."""
    return (
        text_table(rows, DISPLAY)
        + "\n\n"
        + text_table(mean_rows(rows), MEAN_DISPLAY)
        + "\n\n* best fixed policy in hindsight (highest R² of those that never switch models nor"
        + " act on a drift);\n  R² gap and E/best against it"
        + " (E: the run's ledger total after start-up: inference, retraining, MAPE cycles, drift"
        + "\n  checks, store; Einf: inference alone);"
        + "\n  oracle: the best first-version model per window in hindsight."
    )


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """Every row and column at full precision."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()
