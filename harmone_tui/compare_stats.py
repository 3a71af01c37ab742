"""`harmone compare --repeat N`: mean and spread per policy, and which differences are noise.

Energy per inference measured from CPU time moves by tens of percent from one run to the next
on a shared machine (two policies that both ran the LSTM for every step printed 0.82 and 1.02
mJ), so one run per policy cannot tell a real difference from noise. With N runs per policy
each figure gets its mean and sample standard deviation (n - 1), and every pair of policies is
judged on the judged figures (:data:`JUDGED`: energy per inference and quality):

    a difference is **within the noise** when |mean_a - mean_b| <= 2 * SE,
    SE = sqrt(sd_a² / n_a + sd_b² / n_b)   (the standard error of the difference, as Welch's test)

Two standard errors is about the 95 % level for normal noise; with few runs it is a screen, not
a significance test. A figure that does not vary (R² of a deterministic policy) has sd 0: any
difference in it is real, and equal values are "within the noise". With one run there is no
spread and nothing is judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from statistics import fmean, stdev
from typing import Any

from harmone_tui import units

JUDGED = ("energy_j_per_inference", "r2", "mean_confidence")
NOISE_SE = 2.0
LABELS = {"energy_j_per_inference": "energy/inference", "r2": "R²", "mean_confidence": "confidence"}


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def aggregate(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One policy's row from its runs' rows: every numeric figure's mean, its ``<key>_sd``
    (None for one run), ``n_runs``; text figures as the first run had them.

    >>> row = aggregate([{"policy": "p", "r2": 0.5, "steps": 10}, {"policy": "p", "r2": 0.7,
    ...                  "steps": 10}])
    >>> row["n_runs"], round(row["r2"], 6), round(row["r2_sd"], 6), row["steps"], row["steps_sd"]
    (2, 0.6, 0.141421, 10.0, 0.0)
    """
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for run in runs for k in run):
        values = [run.get(key) for run in runs]
        numbers = [v for v in values if _numeric(v)]
        if numbers and len(numbers) == len(values):
            out[key] = fmean(numbers)
            out[f"{key}_sd"] = stdev(numbers) if len(numbers) > 1 else None
        else:
            out[key] = next((v for v in values if v is not None), None)
    out["n_runs"] = len(runs)
    return out


def judge(a: dict[str, Any], b: dict[str, Any], key: str) -> dict[str, Any] | None:
    """Whether two policies' ``key`` differ by more than the noise (None: cannot tell).

    >>> judge({"policy": "a", "x": 1.0, "x_sd": 0.1, "n_runs": 4},
    ...       {"policy": "b", "x": 1.05, "x_sd": 0.1, "n_runs": 4}, "x")["within_noise"]
    True
    >>> judge({"policy": "a", "x": 0.9, "x_sd": 0.0, "n_runs": 3},
    ...       {"policy": "b", "x": 0.8, "x_sd": 0.0, "n_runs": 3}, "x")["within_noise"]
    False
    """
    sd_a, sd_b = a.get(f"{key}_sd"), b.get(f"{key}_sd")
    if not (_numeric(a.get(key)) and _numeric(b.get(key)) and _numeric(sd_a) and _numeric(sd_b)):
        return None
    difference = abs(a[key] - b[key])
    noise = NOISE_SE * math.sqrt(sd_a**2 / a["n_runs"] + sd_b**2 / b["n_runs"])
    return {
        "figure": key,
        "a": a["policy"],
        "b": b["policy"],
        "difference": difference,
        "noise": noise,
        "within_noise": difference <= noise,
    }


def noise_pairs(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every pair of policies judged on every judged figure both have."""
    judged = (judge(a, b, key) for key in JUDGED for a, b in combinations(rows, 2))
    return [j for j in judged if j is not None]


def mark_rows(rows: list[dict[str, Any]], pairs: Sequence[dict[str, Any]]) -> None:
    """Add ``<figure>_within_noise_of``: the other policies whose figure is indistinguishable."""
    for row in rows:
        for key in JUDGED:
            same = [
                p["b"] if p["a"] == row["policy"] else p["a"]
                for p in pairs
                if p["figure"] == key and p["within_noise"] and row["policy"] in (p["a"], p["b"])
            ]
            if any(p["figure"] == key for p in pairs):
                row[f"{key}_within_noise_of"] = ";".join(same)


def _figure(key: str, value: float) -> str:
    return units.energy(value) if key.startswith("energy_j") else f"{value:.3g}"


def noise_text(pairs: Sequence[dict[str, Any]], runs: int) -> str:
    """The differences smaller than the noise, one line per figure, with the criterion."""
    if not pairs:
        return f"{runs} run per policy: no spread, so no difference can be judged (--repeat 2+)"
    lines = [
        f"{runs} runs per policy; mean ± sd. A difference is within the noise when"
        f" |Δ mean| ≤ {NOISE_SE:g}·SE, SE = √(sd_a²/n_a + sd_b²/n_b):"
    ]
    for key in JUDGED:
        of_key = [p for p in pairs if p["figure"] == key]
        if not of_key:
            continue
        same = [p for p in of_key if p["within_noise"]]
        listed = ", ".join(
            f"{p['a']} ≈ {p['b']} (Δ {_figure(key, p['difference'])} ≤ {_figure(key, p['noise'])})"
            for p in same
        )
        lines.append(f"  {LABELS[key]}: {listed or 'every difference is larger than the noise'}")
    return "\n".join(lines)
