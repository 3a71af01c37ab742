"""Every regression approach on the bundled demo stream, as ratios against single-lstm; MAPE cost.

    python benchmarks/compare_regression.py [--out DIR] [--steps N] [--skip-compare]

1. ``harmone compare`` on ``sample_data/pems_stream.csv`` (14,098 rows; drift regimes in
   sample_data/README.md) with every preset, then each approach's energy per inference and R² as
   ratios against single-lstm measured in the same run, and the HarmonE target: R² >= 0.97 x the
   best single-model-with-retraining R², at <= 0.45 x its energy per inference, with at most one
   switch per 500 steps (checked against every single+retrain baseline; the best by R² is marked).
2. The wall time of a complete ``harmone --no-ui --policy harmone`` (start-up, loading, the run and
   its retrains) from already-trained first versions.
3. MAPE time per cycle near step 1,000 and near step 100,000 of a long stream (the demo stream
   tiled), driven exactly as the runtime drives the loop: it must not grow with history.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harmone_tui import units  # noqa: E402

POLICIES = (
    "naive",
    "single-linear",
    "single-svm",
    "single-lstm",
    "single-linear+retrain",
    "single-svm+retrain",
    "single-lstm+retrain",
    "switch",
    "switch+retrain",
    "harmone",
)
PER_INFERENCE = "energy_j_per_inference"
WITH_RETRAIN = "energy_j_per_inference_incl_retrain"


def ratio_table(rows: list[dict[str, Any]]) -> str:
    ref = next(r for r in rows if r["policy"] == "single-lstm")
    head = f"{'approach':<22} {'R²':>7} {'R²/lstm':>8} {'J/inf':>10} {'E/lstm':>7}"
    lines = [f"{head} {'E+train/lstm':>13}"]
    for r in rows:
        lines.append(
            f"{r['policy']:<22} {r['r2']:>7.4f} {r['r2'] / ref['r2']:>8.3f} "
            f"{units.energy(r[PER_INFERENCE]):>10} "
            f"{r[PER_INFERENCE] / ref[PER_INFERENCE]:>7.3f} "
            f"{r[WITH_RETRAIN] / ref[WITH_RETRAIN]:>13.3f}"
        )
    return "\n".join(lines)


def target(rows: list[dict[str, Any]]) -> str:
    by = {r["policy"]: r for r in rows}
    h = by["harmone"]
    retrain = [
        r for r in rows if r["policy"].startswith("single-") and r["policy"].endswith("+retrain")
    ]
    best = max(retrain, key=lambda r: r["r2"])
    out = []
    for ref in retrain:
        label = "the best single+retrain by R²" if ref is best else "single+retrain"
        r2_ratio = h["r2"] / ref["r2"]
        e_ratio = h[PER_INFERENCE] / ref[PER_INFERENCE]
        per500 = h["switches"] / max(h["steps"], 1) * 500
        ok = r2_ratio >= 0.97 and e_ratio <= 0.45 and per500 <= 1.0
        out.append(
            f"vs {ref['policy']} ({label}): R² {h['r2']:.4f}/{ref['r2']:.4f}"
            f" = {r2_ratio:.3f} (>= 0.97),"
            f" energy {units.energy(h[PER_INFERENCE])}/{units.energy(ref[PER_INFERENCE])} ="
            f" {e_ratio:.3f} (<= 0.45), {per500:.2f} switches per 500 steps (<= 1): "
            f"{'MET' if ok else 'NOT MET'}"
        )
    return "\n".join(out)


def full_run_wall(base: Path, work: Path) -> tuple[float, dict[str, Any]]:
    data_dir = work / "full-harmone"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    shutil.copytree(base, data_dir)
    summary = work / "full-harmone.json"
    cmd = [
        sys.executable,
        "-m",
        "harmone_tui",
        "--no-ui",
        "--policy",
        "harmone",
        "--speed",
        "max",
        "--data-dir",
        str(data_dir),
        "--summary",
        str(summary),
        "--quiet",
    ]
    t0 = time.perf_counter()
    subprocess.run(
        cmd, check=True, cwd=REPO, env={**__import__("os").environ, "PYTHONPATH": str(REPO)}
    )
    return time.perf_counter() - t0, json.loads(summary.read_text())


class NullRuntime:
    """The runtime's side of the contract, minus the models: actions take effect at once."""

    def __init__(self) -> None:
        self.loop: Any = None
        self.active = "lstm"

    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        self.active = model
        self.loop.set_active(model, 1)

    def reuse_version(self, model: str, version: int, reason: str, detail: dict[str, Any]) -> None:
        self.loop.set_active(model, version)

    def start_retrain(self, model: str, values: Any, reason: str, detail: dict[str, Any]) -> bool:
        return True

    def record(self, kind: str, detail: dict[str, Any]) -> None:
        pass

    def stored_versions(self, model: str) -> list[Any]:
        return []


def cycle_cost(total: int = 101_000) -> dict[str, float]:
    """Mean time of loop.cycle() (and of observe() per step) near step 1k and near step 100k."""
    import numpy as np

    from engines.metrics import r2
    from engines.regression.data import read_series
    from mape.loop import MapeLoop
    from mape.policy_file import resolve_policy

    def quality(p: Any, t: Any) -> float:
        return r2(np.asarray(t, dtype=float), np.asarray(p, dtype=float))

    stream = read_series(REPO / "sample_data" / "pems_stream.csv")
    truths = np.resize(stream, total)
    preds = truths + np.random.default_rng(0).normal(0, 15, total)
    policy = resolve_policy("harmone")[0]
    rt = NullRuntime()
    loop = MapeLoop(policy, quality, rt, "lstm", 1)
    rt.loop = loop
    loop.set_energy_profile({"linear": 200.0, "svm": 300.0, "lstm": 1500.0})
    energy = np.full(total, 500.0)
    tile = len(stream)  # same offset in the tiled stream = same data, same detector phase
    zones = {
        "1k": (500, 1600),
        "100k": (total - 1100, total),
        "tile 2": (tile, tile + 10_000),
        "tile 7": (6 * tile, 6 * tile + 10_000),
    }
    cycles: dict[str, list[float]] = {z: [] for z in zones}
    work: dict[str, float] = {z: 0.0 for z in zones}
    step, due = 0, loop.next_due(0)
    while step < total:
        inside = [z for z, (a, b) in zones.items() if a <= step < b]
        if step >= due:
            t0 = time.perf_counter()
            loop.cycle(step)
            spent = time.perf_counter() - t0
            for zone in inside:
                cycles[zone].append(spent)
                work[zone] += spent
            due = loop.next_due(step)
        end = min(total, due, step + 2000)
        end = min(
            [end] + [x for bounds in zones.values() for x in bounds if x > step]
        )  # zone edges
        t0 = time.perf_counter()
        loop.observe(
            step, rt.active, preds[step:end], truths[step:end], truths[step:end], energy[step:end]
        )
        for zone in inside:
            work[zone] += time.perf_counter() - t0
        step = end
    out: dict[str, float] = {}
    for z, (a, b) in zones.items():
        out[f"cycle_ms_{z}"] = 1e3 * float(np.mean(cycles[z]))
        out[f"cycle_ms_max_{z}"] = 1e3 * float(np.max(cycles[z]))
        out[f"mape_us_per_step_{z}"] = 1e6 * work[z] / (b - a)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, help="output directory (default: a new temporary one)")
    parser.add_argument("--steps", type=int, help="limit every run to N steps")
    parser.add_argument("--skip-compare", action="store_true", help="only the MAPE cost part")
    args = parser.parse_args()
    if not args.skip_compare:
        from harmone_tui.commands.compare import compare_policies
        from harmone_tui.compare_report import text_table
        from harmone_tui.settings import RunSettings

        out = args.out or Path(tempfile.mkdtemp(prefix="harmone-bench-"))
        settings = RunSettings(data_dir=out, steps=args.steps, speed=None)
        rows = compare_policies(list(POLICIES), out, settings, out / "policies")
        print(text_table(rows))
        print("\nratios against single-lstm (same run):")
        print(ratio_table(rows))
        print("\nHarmonE target:")
        print(target(rows))
        wall, summary = full_run_wall(out / "runs" / "_base", out)
        print(
            f"\nfull headless harmone run (start-up, loading, {summary['steps']} steps, "
            f"{summary['retrains']} retrains, {summary['reuses']} reuses): {wall:.1f} s wall "
            f"(the run itself {summary['wall_s']:.1f} s)"
        )
    cost = cycle_cost()
    print("\nMAPE cost, harmone policy on the demo stream tiled to 101,000 steps (drift checks")
    print("every 20 steps, switch cycles every 267; the KL statistic is computed in observe every")
    print("20 steps):")
    for z in ("1k", "100k"):
        mean, most = cost[f"cycle_ms_{z}"], cost[f"cycle_ms_max_{z}"]
        print(f"  cycle near step {z:>4}: {mean:.3f} ms mean, {most:.3f} ms max")
    for z, where in (("tile 2", "steps 14,098-24,097"), ("tile 7", "steps 84,588-94,587")):
        per_step = cost[f"mape_us_per_step_{z}"]
        print(f"  all MAPE work (observe + cycle), {where} (same data): {per_step:.2f} µs per step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
