"""`harmone bench`: every policy × every scenario × N seeds, one table and one picture.

The first versions are trained (or taken from the user's data directory) once, as `harmone
compare` does, into ``<run>/runs/_base``; every run starts from a copy of them in
``<run>/runs/<scenario>/<policy>-seed<N>``, whose knowledge store keeps the run. The runs, and
one oracle pass per scenario (:mod:`harmone_tui.bench_oracle`), go to a local process pool
(``--jobs``) or to Ray (``--ray``). ``<run>`` is a new ``<out>/bench-<time>/``: nothing that was
there before is written into or removed. It receives ``bench.csv`` (the table), ``bench_runs.csv``
(every run), ``bench.json`` (both, the means, the oracles and the settings) and ``bench.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from harmone_tui import paths
from harmone_tui.bench_scenarios import BenchError, Scenario, resolve_scenarios
from harmone_tui.bench_table import csv_text, mean_rows, report, scenario_rows
from harmone_tui.commands.bench_sweep import (
    OracleTask,
    Task,
    connect_ray,
    run_local,
    run_ray,
    run_tasks,
)
from harmone_tui.commands.compare import (
    DEFAULT_POLICIES,
    Entry,
    bootstrap,
    new_run_dir,
    resolve_all,
)
from harmone_tui.commands.run import positive_finite, positive_int
from harmone_tui.energy_source import PROFILE_HELP, profile_for
from harmone_tui.settings import RunSettings

BENCH_POLICIES = (
    *DEFAULT_POLICIES[:-1],
    "single-linear+retrain",
    "single-svm+retrain",
    "switch+retrain",
    DEFAULT_POLICIES[-1],
)
ORACLE_WINDOW = 267  # the presets' quality window


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenarios",
        help="comma-separated bundled scenario names, scenario directories (with scenarios.json,"
        " as scripts/make_scenarios.py writes) or CSV files (default: every bundled scenario)",
    )
    parser.add_argument(
        "--policies",
        help=f"comma-separated policy names or TOML files (default: {','.join(BENCH_POLICIES)})",
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=1,
        metavar="N",
        help="runs per policy and scenario, with the policy's seed, seed+1, ... (default: 1)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes of the local pool (default: the CPU count)",
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run the sweep on Ray: a cluster's ADDRESS, or alone for RAY_ADDRESS or a new local"
        " instance (needs the ray extra; the workers must see --out and the scenarios)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results go to a new DIR/bench-<time>/ (default DIR: <data dir>/exports)",
    )
    parser.add_argument("--steps", type=positive_int, help="stop every run after N steps")
    parser.add_argument(
        "--oracle-window",
        type=positive_int,
        default=ORACLE_WINDOW,
        metavar="STEPS",
        help=f"the oracle picks the best model per window of STEPS (default: {ORACLE_WINDOW})",
    )
    parser.add_argument(
        "--train", type=Path, help="training CSV for the first versions (default: bundled)"
    )
    parser.add_argument(
        "--column", default="flow", help="CSV column of the streams (default: flow)"
    )
    coefficient = parser.add_mutually_exclusive_group()
    coefficient.add_argument(
        "--j-per-cpu-s", type=positive_finite, help="energy estimate: joules per CPU-second"
    )
    coefficient.add_argument("--energy-profile", type=Path, metavar="FILE", help=PROFILE_HELP)
    parser.add_argument("--no-picture", action="store_true", help="skip bench.png")


def base_versions(base: Path, models: list[str]) -> tuple[tuple[str, int, Path], ...]:
    """The first version (model, number, directory) of each model in the base store."""
    from mape.knowledge import KnowledgeStore
    from mape.model_repo import ModelRepository

    store = KnowledgeStore.open(paths.knowledge_file(base))
    try:
        repo = ModelRepository(base, store)
        found = []
        for model in models:
            stored = repo.versions("regression", model)
            if not stored:
                raise BenchError(f"{base}: no first version of {model} was trained")
            found.append((model, stored[0].version, stored[0].directory))
        return tuple(found)
    finally:
        store.close()


def bench(
    scenarios: list[Scenario],
    entries: list[Entry],
    out: Path,
    settings: RunSettings,
    *,
    seeds: int = 1,
    jobs: int = 1,
    ray: str | None = None,
    oracle_window: int = ORACLE_WINDOW,
) -> dict[str, Any]:
    """Run the sweep into ``out`` (new or empty); return the runs, the table, the means and
    the oracles. ``ray``: None for the local pool, else an address ("" for the default)."""
    say = lambda text: print(f"harmone bench: {text}", file=sys.stderr, flush=True)  # noqa: E731
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True)
    base = runs_dir / "_base"
    if any(e.policy.engine != "regression" for e in entries):
        raise BenchError("harmone bench runs regression policies (the scenarios are streams)")
    base_settings = replace(settings, data=scenarios[0].path, data_dir=base, speed=None)
    asyncio.run(bootstrap(base, settings.data_dir, base_settings, entries, say))
    models = list(dict.fromkeys(m for e in entries for m in e.policy.models))
    versions = base_versions(base, models)
    tasks: list[Task] = list(run_tasks(scenarios, entries, seeds, runs_dir, settings))
    tasks += [
        OracleTask(
            s.name,
            versions,
            oracle_window,
            replace(settings, data=s.path, data_dir=runs_dir / s.name / "_oracle"),
        )
        for s in scenarios
    ]
    where = "the local pool" if ray is None else f"Ray {ray or '(local or RAY_ADDRESS)'}"
    say(
        f"{len(tasks)} tasks ({len(scenarios)} scenarios × {len(entries)} policies × {seeds}"
        f" seeds, + {len(scenarios)} oracle passes) on {where}; results in {out}"
    )
    count = [0]

    def done(_: int, result: dict[str, Any]) -> None:
        count[0] += 1
        if "oracle" in result:
            o = result["oracle"]
            text = f"{result['scenario']} oracle: R² {o['r2']:.4f}, {o['switches']} switches"
        else:
            r2 = "-" if result.get("r2") is None else f"{result['r2']:.4f}"
            text = (
                f"{result['scenario']} {result['policy']} seed {result['seed']}: R² {r2},"
                f" {result['energy_j']:.3f} J, {result['switches']} switches,"
                f" {result['retrains']} retrains, {result['reuses']} reuses"
            )
        say(f"[{count[0]}/{len(tasks)}] {text}")

    results = run_local(tasks, jobs, done) if ray is None else run_ray(tasks, ray or None, done)
    runs = [r for r in results if "oracle" not in r]
    oracles = {r["scenario"]: r["oracle"] for r in results if "oracle" in r}
    rows = scenario_rows(runs, oracles)
    result = {"runs": runs, "table": rows, "means": mean_rows(rows), "oracles": oracles}
    write_outputs(out, result, settings, [s.name for s in scenarios], seeds)
    return result


def write_outputs(
    out: Path, result: dict[str, Any], settings: RunSettings, scenarios: list[str], seeds: int
) -> None:
    (out / "bench.csv").write_text(csv_text(result["table"]), encoding="utf-8")
    (out / "bench_runs.csv").write_text(csv_text(result["runs"]), encoding="utf-8")
    meta = {"scenarios": scenarios, "seeds": seeds, "steps": settings.steps}
    (out / "bench.json").write_text(
        json.dumps({"settings": meta, **result}, indent=2, default=str), encoding="utf-8"
    )


def run(args: argparse.Namespace) -> int:
    root = paths.data_dir(args.data_dir)
    scenarios = resolve_scenarios(args.scenarios)
    chosen = args.policies or ",".join(BENCH_POLICIES)
    entries = resolve_all(
        [n.strip() for n in chosen.split(",") if n.strip()], paths.policies_dir(root)
    )
    if args.ray is not None and args.jobs is not None:
        raise BenchError("--jobs is for the local pool; with --ray, Ray places the tasks")
    profile = profile_for(args.energy_profile, args.j_per_cpu_s)
    ray = connect_ray(args.ray or None) if args.ray is not None else None  # before any output
    try:
        return _run(args, root, scenarios, entries, profile)
    finally:
        if ray is not None:
            ray.shutdown()


def _run(
    args: argparse.Namespace,
    root: Path,
    scenarios: list[Scenario],
    entries: list[Entry],
    profile: Any,
) -> int:
    out = new_run_dir(args.out or paths.exports_dir(root), prefix="bench")
    settings = RunSettings(
        data_dir=root,
        column=args.column,
        train=args.train,
        steps=args.steps,
        speed=None,
        j_per_cpu_s=args.j_per_cpu_s,
        calibration_profile=profile,
    )
    result = bench(
        scenarios,
        entries,
        out,
        settings,
        seeds=args.seeds,
        jobs=args.jobs or os.cpu_count() or 1,
        ray=args.ray,
        oracle_window=args.oracle_window,
    )
    print(report(result["table"]))
    if not args.no_picture:
        from harmone_tui.bench_plot import write_png

        write_png(result["table"], out / "bench.png")
    written = ", ".join(str(out / n) for n in ("bench.csv", "bench.json", "bench_runs.csv"))
    print(
        f"\nwritten: {written}" + ("" if args.no_picture else f", {out / 'bench.png'}"),
        file=sys.stderr,
    )
    return 0
