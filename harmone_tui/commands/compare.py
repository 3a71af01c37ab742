"""`harmone compare`: run several policies headless on the same stream and print one table.

Every policy must start from the same model versions, or the comparison measures the order of
the runs (a retrain in one run would be the start version of the next). So the models' first
versions are trained once into ``<run>/runs/_base``, and each policy runs in its own copy of that
data directory (``<run>/runs/<policy>``), whose knowledge store keeps the run for inspection.
The first versions are the user's own base versions where the data directory has them (so a
compare measures the models the user runs, and the vision engine's minutes of bootstrap training
are not repeated), and are trained otherwise. The table is printed and written as CSV, Markdown
and JSON into ``<run>``.

``<run>`` is a directory this command creates, ``<out>/compare-<time>/``, so a compare never
writes into, let alone removes, anything that was there before: ``--out`` used to be the run
directory itself, emptied and refilled, and a policy named ``..`` made that the whole of
``--out``. Policy names follow the one name rule (``mape.names``) before they become paths.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from engines.base import EngineError
from harmone_tui import paths, units
from harmone_tui.commands.run import (
    IMAGE_LIMITS,
    add_carbon_arguments,
    carbon_from_args,
    positive_finite,
    positive_int,
)
from harmone_tui.compare_report import row_from_summary, stage_table, text_table, write_outputs
from harmone_tui.compare_stats import aggregate, mark_rows, noise_pairs, noise_text
from harmone_tui.energy_source import PROFILE_HELP, profile_for
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunListener, RunSnapshot
from mape.events import Event, EventKind

DEFAULT_POLICIES = (
    "naive",
    "single-linear",
    "single-svm",
    "single-lstm",
    "single-lstm+retrain",
    "switch",
    "harmone",
)
VISION_POLICIES = (
    "vision-single-yolo_n",
    "vision-single-yolo_s",
    "vision-single-yolo_m",
    "vision-switch",
    "vision-harmone",
)
DEFAULTS_BY_ENGINE = {"regression": DEFAULT_POLICIES, "vision": VISION_POLICIES}
PROGRESS_EVERY_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=tuple(DEFAULTS_BY_ENGINE),
        default="regression",
        help="managed system; picks the default policies (default: regression)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        help=(
            "stream: CSV, or folder/zip of images for vision (default: bundled sample); "
            f"{IMAGE_LIMITS}"
        ),
    )
    parser.add_argument("--column", default="flow", help="CSV column of the stream (default: flow)")
    parser.add_argument(
        "--train", type=Path, help="training CSV for the first versions (default: bundled)"
    )
    parser.add_argument("--train-column", default="flow", help="column of the training CSV")
    parser.add_argument(
        "--policies",
        help=f"comma-separated policy names or TOML files (default: {','.join(DEFAULT_POLICIES)};"
        f" with --engine vision: {','.join(VISION_POLICIES)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results go to a new DIR/compare-<time>/ (default DIR: <data dir>/exports)",
    )
    parser.add_argument("--steps", type=positive_int, help="stop every run after N steps")
    coefficient = parser.add_mutually_exclusive_group()
    coefficient.add_argument(
        "--j-per-cpu-s", type=positive_finite, help="energy estimate: joules per CPU-second"
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        metavar="N",
        help="run every policy N times (interleaved) and report mean ± sd per policy, marking"
        " differences smaller than the noise (|Δ mean| ≤ 2 standard errors); default 1",
    )
    coefficient.add_argument("--energy-profile", type=Path, metavar="FILE", help=PROFILE_HELP)
    add_carbon_arguments(parser)


@dataclass(frozen=True)
class Entry:
    """A policy to compare, with where it came from."""

    policy: Any
    source: str
    text: str


def new_run_dir(parent: Path, stamp: str | None = None, prefix: str = "compare") -> Path:
    """A directory ``parent/<prefix>-<stamp>[-N]`` that did not exist and is created here."""
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            candidate = parent / (f"{prefix}-{stamp}" if n == 1 else f"{prefix}-{stamp}-{n}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            return candidate
    except OSError as exc:
        raise EngineError(f"--out {parent}: cannot create a directory ({exc.strerror})") from None
    raise EngineError(f"--out {parent}: no free name {prefix}-{stamp}-N")


def resolve_all(names: list[str], policies_dir: Path) -> list[Entry]:
    """Every named policy, validated before anything runs; one engine for all of them."""
    from mape.names import name_problem
    from mape.policy import PolicyError
    from mape.policy_file import resolve_policy

    entries = [Entry(*resolve_policy(n, policies_dir)) for n in names]
    for e in entries:
        problem = name_problem(e.policy.name)  # loading checks it; a Policy built in code may not
        if problem:
            raise PolicyError(problem)
    if not entries:
        raise PolicyError("--policies: name at least one policy")
    engines = {e.policy.engine for e in entries}
    if len(engines) > 1:
        raise PolicyError(
            f"--policies: the policies are for different engines ({', '.join(sorted(engines))})"
        )
    seen: set[str] = set()
    for e in entries:
        if e.policy.name in seen:
            raise PolicyError(f"--policies: {e.policy.name!r} is named twice")
        seen.add(e.policy.name)
    return entries


def _adopt_user_versions(
    user_root: Path, repo: Any, engine: str, models: list[str], say: Any
) -> None:
    """Start from the user's own base versions, where the user's data directory has them."""
    from harmone_tui.start_versions import checked_base_version
    from mape.knowledge import KnowledgeStore
    from mape.model_repo import ModelRepository

    if not paths.knowledge_file(user_root).exists():
        return
    user_store = KnowledgeStore.open(paths.knowledge_file(user_root))
    try:
        user_repo = ModelRepository(user_root, user_store)
        for model in models:
            found = checked_base_version(user_repo, engine, model, say)
            if found is not None:
                repo.adopt(found, f"{model} v{found.version} of {user_root}")
                say(f"using {model} v{found.version} from {user_root}")
    finally:
        user_store.close()


async def bootstrap(
    base: Path, user_root: Path, settings: RunSettings, entries: list[Entry], say: Any
) -> None:
    """Train (once) the first version of every model any policy uses, into ``base``."""
    from engines.energy import create_meter
    from engines.registry import create_engine
    from harmone_tui.imports import adopt_imports
    from harmone_tui.trainer_pool import TrainerPool, ensure_models
    from mape.knowledge import KnowledgeStore
    from mape.model_repo import ModelRepository
    from mape.policy import check_models
    from mape.policy_file import key_locator

    engine = await asyncio.to_thread(
        lambda: create_engine(
            settings.engine, **settings.engine_options(), **paths.engine_dirs(base)
        )
    )
    models: list[str] = []
    if paths.knowledge_file(user_root).exists():  # the user's imported models join the engine
        user_store = KnowledgeStore.open(paths.knowledge_file(user_root))
        try:
            user_repo = ModelRepository(user_root, user_store)
            for e in entries:
                adopt_imports(engine, user_repo, e.policy.models, e.source)
        finally:
            user_store.close()
    names = [m.name for m in engine.models()]
    for e in entries:
        check_models(e.policy, names, e.source, key_locator(e.text))
        models += [m for m in e.policy.models if m not in models]
    store = KnowledgeStore.open(paths.knowledge_file(base))
    repo = ModelRepository(base, store)
    pool = TrainerPool(
        repo,
        create_meter(
            settings.j_per_cpu_s, profile=settings.calibration_profile
        ).joules_for_cpu_seconds,
    )
    try:
        _adopt_user_versions(user_root, repo, engine.name, models, say)
        await ensure_models(engine, pool, models, say)
    finally:
        pool.close()
        store.close()


class _Follow(RunListener):
    """A compared run's progress (a line on ``err`` every few seconds) and retraining energy."""

    def __init__(self, label: str, err: TextIO) -> None:
        self.label, self.err, self.last = label, err, time.perf_counter()
        self.retrain_j = 0.0

    def event(self, event: Event) -> None:
        if event.kind is EventKind.RETRAIN_DONE:
            self.retrain_j += float(event.detail.get("train_energy_j") or 0.0)

    def snapshot(self, snap: RunSnapshot) -> None:
        now = time.perf_counter()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            step, total = snap.step, snap.info.total
            print(
                f"{self.label}: step {step}/{total} ({100 * step // max(total, 1)}%)",
                file=self.err,
                flush=True,
            )


def run_one(settings: RunSettings, entry: Entry, label: str, err: TextIO) -> dict[str, Any]:
    """One headless run; returns its table row."""
    from harmone_tui.runtime import Runtime

    follow = _Follow(label, err)

    async def run() -> dict[str, Any]:
        runtime = await Runtime.create(settings, entry.policy, entry.source, entry.text, [follow])
        try:
            return await runtime.run()
        finally:
            runtime.store.close()

    summary = asyncio.run(run())
    return row_from_summary(entry.policy.name, summary, follow.retrain_j)


def compare_policies(
    names: list[str],
    out: Path,
    settings: RunSettings,
    policies_dir: Path,
    err: TextIO | None = None,
    repeat: int = 1,
) -> list[dict[str, Any]]:
    """Run every policy on the same stream from the same first versions; write and return the rows.

    ``out`` is this comparison's own directory: new, or without a ``runs/`` (nothing in it is
    removed or overwritten but the result files).
    """
    return compare_entries(resolve_all(names, policies_dir), out, settings, err, repeat)


def compare_entries(
    entries: list[Entry],
    out: Path,
    settings: RunSettings,
    err: TextIO | None = None,
    repeat: int = 1,
) -> list[dict[str, Any]]:
    """:func:`compare_policies` for policies already resolved and validated.

    With ``repeat`` > 1 every policy runs that many times, in rounds (each policy once, then
    again), so a change of the machine's load during the comparison spreads over every policy
    instead of falling on the last ones; each run has its own store under
    ``runs/<policy>/run-<k>``, and the rows returned are per policy (mean, spread, noise marks;
    :mod:`harmone_tui.compare_stats`).
    """
    err = err or sys.stderr
    engine = entries[0].policy.engine
    runs = out / "runs"
    base = runs / "_base"
    out.mkdir(parents=True, exist_ok=True)
    try:
        runs.mkdir()
    except FileExistsError:
        raise EngineError(f"{out}: holds an earlier comparison's runs/; give a new one") from None
    times = f" x {repeat} runs" if repeat > 1 else ""
    print(
        f"harmone compare: {len(entries)} policies{times}; results in {out}", file=err, flush=True
    )
    base_settings = replace(settings, engine=engine, data_dir=base)
    asyncio.run(
        bootstrap(
            base,
            settings.data_dir,
            base_settings,
            entries,
            lambda t: print(f"harmone compare: {t}", file=err, flush=True),
        )
    )
    by_policy: dict[str, list[dict[str, Any]]] = {e.policy.name: [] for e in entries}
    every_run: list[dict[str, Any]] = []  # in the order they ran
    total = len(entries) * repeat
    for k in range(1, repeat + 1):
        for i, entry in enumerate(entries, start=1):
            n = (k - 1) * len(entries) + i
            name = entry.policy.name
            label = f"[{n}/{total}] {name}" + (f" (run {k}/{repeat})" if repeat > 1 else "")
            # names are unique, follow the name rule, and never start with "_" (never "_base")
            run_dir = runs / name if repeat == 1 else runs / name / f"run-{k}"
            shutil.copytree(base, run_dir)
            print(f"{label}: running", file=err, flush=True)
            run_settings = replace(base_settings, data_dir=run_dir, speed=None, mode="compare")
            row = run_one(run_settings, entry, label, err)
            by_policy[name].append(row)
            every_run.append({"policy": name, "run": k, **row})
            r2 = "-" if row["r2"] is None else f"{row['r2']:.4f}"
            print(
                f"{label}: done in {row['wall_s']:.1f} s: R² {r2}, "
                f"{units.energy(row['energy_j_per_inference'])}/inference,"
                f" {units.energy_and_carbon(row['energy_j_total'], row['carbon_g_total'])} in all,"
                f" {row['switches']} switches, "
                f"{row['retrains']} retrains, {row['reuses']} reuses",
                file=err,
                flush=True,
            )
    if repeat == 1:
        rows = [policy_runs[0] for policy_runs in by_policy.values()]
        write_outputs(out, rows, settings)
        return rows
    rows = [aggregate(policy_runs) for policy_runs in by_policy.values()]
    pairs = noise_pairs(rows)
    mark_rows(rows, pairs)
    write_outputs(out, rows, settings, {"runs": every_run, "noise": pairs, "repeat": repeat})
    return rows


def run(args: argparse.Namespace) -> int:
    root = paths.data_dir(args.data_dir)
    chosen = args.policies or ",".join(DEFAULTS_BY_ENGINE[args.engine])
    names = [n.strip() for n in chosen.split(",") if n.strip()]
    entries = resolve_all(names, paths.policies_dir(root))  # before anything is created
    profile = profile_for(args.energy_profile, args.j_per_cpu_s)
    out = new_run_dir(args.out or paths.exports_dir(root))
    settings = RunSettings(
        data_dir=root,
        engine=args.engine,
        data=args.data,
        column=args.column,
        train=args.train,
        train_column=args.train_column,
        steps=args.steps,
        speed=None,
        j_per_cpu_s=args.j_per_cpu_s,
        carbon=carbon_from_args(args),
        calibration_profile=profile,
    )
    rows = compare_entries(entries, out, settings, repeat=args.repeat)
    print(text_table(rows))
    print(f"\nenergy by stage (carbon: {settings.carbon.describe()}):")
    print(stage_table(rows))
    if args.repeat > 1:
        print("\n" + noise_text(noise_pairs(rows), args.repeat))
    print(f"\nwritten: {out / 'compare.csv'}, {out / 'compare.md'}", file=sys.stderr)
    return 0
