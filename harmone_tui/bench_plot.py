"""The `harmone bench` picture: two heat maps, policy × scenario, of the regret against the best
fixed policy in hindsight: the R² gap (with the oracle's, negative where model choice has
headroom) and the energy ratio. A PNG written with matplotlib's Agg back end (no display needed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harmone_tui.bench_scenarios import BenchError


def _grid(
    rows: Sequence[dict[str, Any]], key: str, policies: list[str], scenarios: list[str]
) -> list[list[float]]:
    found = {(r["policy"], r["scenario"]): r.get(key) for r in rows}
    return [
        [math.nan if found.get((p, s)) is None else float(found[(p, s)]) for s in scenarios]
        for p in policies
    ]


def write_png(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Draw the two maps of ``rows`` (:func:`harmone_tui.bench_table.scenario_rows`) to ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BenchError(
            "the bench picture needs matplotlib, which is not installed",
            hint="pip install 'harmone-tui[bench]', or pass --no-picture",
        ) from None
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    panels = (
        ("R² gap to the best fixed policy (lower is better)", "r2_gap", "RdYlGn_r", 3),
        ("energy / best fixed policy's", "energy_ratio", "PuOr_r", 2),
    )
    width = 2.2 + 0.9 * len(scenarios)
    fig, axes = plt.subplots(1, 2, figsize=(2 * width, 1.2 + 0.45 * len(policies)))
    for ax, (title, key, cmap, digits) in zip(axes, panels, strict=True):
        grid = _grid(rows, key, policies, scenarios)
        finite = [abs(v) for line in grid for v in line if not math.isnan(v)] or [1.0]
        if key == "r2_gap":
            span = min(max(finite), 0.1) or 0.01
            image = ax.imshow(grid, cmap=cmap, vmin=-span, vmax=span, aspect="auto", alpha=0.7)
        else:
            span = max(abs(math.log2(v)) for v in finite if v > 0) if any(finite) else 1.0
            logs = [[math.log2(v) if v > 0 else math.nan for v in line] for line in grid]
            image = ax.imshow(logs, cmap=cmap, vmin=-span, vmax=span, aspect="auto", alpha=0.7)
        for i, line in enumerate(grid):
            for j, value in enumerate(line):
                if not math.isnan(value):
                    ax.text(j, i, f"{value:.{digits}f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(scenarios)), scenarios, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(policies)), policies, fontsize=8)
        ax.set_title(title, fontsize=9)
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label("R² gap" if key == "r2_gap" else "log2 of the ratio", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
