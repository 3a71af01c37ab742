"""`harmone runs list | show ID | prune`: earlier runs in the knowledge store.

``--json`` prints records with stable keys in base units (seconds, joules; times also as ISO
8601), the same keys for ``list`` and ``show``'s ``run``:

run_id, policy, engine, status, data, started_at, started, finished_at, wall_s, steps,
quality_metric ("r2" or "mean_confidence"), quality, r2, mae, energy_source,
energy_j_per_inference, energy_j_total (inference), energy_j_all_stages and carbon_g_all_stages
(the energy ledger's total), switches, retrains, reuses, drifts, errors, steps_stored.

A run that did not finish (interrupted, running) has no summary: its figures are null.
``prune`` deletes old runs' step rows (summaries and events stay) and compacts the file.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from harmone_tui import paths, units
from harmone_tui.commands.run import positive_int
from harmone_tui.ledger_report import per_inference_j
from harmone_tui.retention import configured_keep

COUNTERS = ("switches", "retrains", "reuses", "drifts", "errors")
DEFAULT_LIMIT = 20


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def positive_days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of days, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the latest runs, newest first")
    listing.add_argument("--json", action="store_true", help="print a JSON list of run records")
    listing.add_argument(
        "--limit",
        type=positive_int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"at most N runs (default: {DEFAULT_LIMIT})",
    )
    show = actions.add_parser("show", help="one run: settings, figures and events")
    show.add_argument("run_id", type=positive_int, metavar="ID", help="the run's id (`runs list`)")
    show.add_argument("--json", action="store_true", help="print the run as JSON")
    prune = actions.add_parser(
        "prune",
        help="delete old runs' step rows (summaries and events stay); shrink the file",
        description="Delete the step rows of old runs and compact the store. Summaries, events"
        " and model versions stay; a running run's rows are never touched.",
    )
    which = prune.add_mutually_exclusive_group()
    which.add_argument(
        "--keep",
        type=non_negative_int,
        metavar="N",
        help="keep the step rows of the newest N runs (default: [store] keep_steps_runs in"
        " settings.toml, else 20)",
    )
    which.add_argument(
        "--older-than",
        type=positive_days,
        metavar="DAYS",
        help="delete the step rows of runs started more than DAYS ago",
    )
    prune.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def record(run: Any, steps_stored: int | bool) -> dict[str, Any]:
    """A run as stable JSON keys in base units (see the module docstring)."""
    s: dict[str, Any] = run.summary or {}
    metric = "mean_confidence" if "mean_confidence" in s else "r2"
    ledger = s.get("energy") or {}
    return {
        "run_id": run.run_id,
        "policy": run.policy,
        "engine": run.engine,
        "status": run.status,
        "data": run.data,
        "started_at": run.started_at,
        "started": _iso(run.started_at),
        "finished_at": run.finished_at,
        "wall_s": s.get("wall_s"),
        "steps": s.get("steps"),
        "quality_metric": metric,
        "quality": s.get(metric),
        "r2": s.get("r2"),
        "mae": s.get("mae"),
        "energy_source": s.get("energy_source"),
        "energy_j_per_inference": per_inference_j(s),
        "energy_j_total": s.get("energy_j_total"),
        "energy_j_all_stages": ledger.get("energy_j"),
        "carbon_g_all_stages": ledger.get("carbon_g"),
        **{k: s.get(k) for k in COUNTERS},
        "steps_stored": steps_stored,
    }


def run(args: argparse.Namespace) -> int:
    root = paths.data_dir(args.data_dir)
    if args.action == "prune":
        return prune(root, args.keep, args.older_than, args.dry_run)
    from mape.knowledge import KnowledgeError, KnowledgeStore

    knowledge = paths.knowledge_file(root)
    if not knowledge.exists():
        if args.action == "show":
            raise KnowledgeError(f"{knowledge}: no knowledge store yet, so no run {args.run_id}")
        print("[]" if args.json else f"no runs yet in {root}")
        return 0
    store = KnowledgeStore.open(knowledge)
    try:
        if args.action == "list":
            runs = store.runs(limit=args.limit)
            records = [record(r, _has_steps(store, r.run_id)) for r in runs]
            print(json.dumps(records, indent=2) if args.json else list_text(records, root))
            return 0
        found = store.run(args.run_id)
        if found is None:
            latest = store.runs(limit=1)
            known = f"the latest is {latest[0].run_id}" if latest else "it has no runs"
            raise KnowledgeError(
                f"{knowledge}: no run {args.run_id} ({known}; see `harmone runs list`)"
            )
        shown = show_data(store, found)
    finally:
        store.close()
    print(json.dumps(shown, indent=2) if args.json else show_text(shown))
    return 0


def _has_steps(store: Any, run_id: int) -> bool:
    """Whether the run's step rows are stored (pruning removes a run's rows all at once)."""
    return bool(store.steps(run_id, 0, 1))


def list_text(records: list[dict[str, Any]], root: Path) -> str:
    """The runs as an aligned table (energy per inference, as the TUI shows it)."""
    from harmone_tui.event_text import number
    from harmone_tui.ui.format import local_time

    if not records:
        return f"no runs yet in {root}"
    head = (
        "RUN",
        "STARTED",
        "STATUS",
        "POLICY",
        "ENGINE",
        "STEPS",
        "QUALITY",
        "ENERGY/INF",
        "SW",
        "RT",
        "RE",
        "DR",
    )
    rows = [head] + [
        (
            str(r["run_id"]),
            local_time(r["started_at"], date=True),
            r["status"],
            r["policy"],
            r["engine"],
            number(r["steps"]) + ("" if r["steps_stored"] else "*"),
            number(r["quality"]),
            units.energy(r["energy_j_per_inference"]),
            *(number(r[k]) for k in ("switches", "retrains", "reuses", "drifts")),
        )
        for r in records
    ]
    left = {1, 2, 3, 4}
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    if any(not r["steps_stored"] and r["steps"] for r in records):
        lines.append("* step rows pruned (summary and events kept)")
    return "\n".join(lines)


def show_data(store: Any, found: Any) -> dict[str, Any]:
    """Everything stored about one run: its record, settings, summary and events."""
    rows = store.step_count(found.run_id)
    return {
        "run": record(found, rows > 0),
        "step_rows": rows,
        "settings": store.run_settings(found.run_id),
        "summary": found.summary,
        "events": [
            {"step": e.step, "ts": e.ts, "kind": e.kind, "detail": e.detail}
            for e in store.events(found.run_id)
        ],
    }


def show_text(shown: dict[str, Any]) -> str:
    from harmone_tui.event_text import describe, number
    from harmone_tui.ui.format import duration, local_time

    r = shown["run"]
    energy = r["energy_j_per_inference"]
    lines = [
        ("run", f"{r['run_id']}  {r['policy']} on {r['engine']} ({r['data']})"),
        ("status", r["status"]),
        ("started", local_time(r["started_at"], date=True)),
        ("ran for", duration(r["wall_s"])),
        ("steps", f"{number(r['steps'])} ({number(shown['step_rows'])} step rows stored)"),
        ("quality", f"{number(r['quality'])} ({r['quality_metric']})"),
        (
            "energy",
            f"{units.energy(energy)} per inference, {units.energy(r['energy_j_total'])} in"
            f" inference ({r['energy_source'] or '–'}); all stages"
            f" {units.energy_and_carbon(r['energy_j_all_stages'], r['carbon_g_all_stages'])}",
        ),
        ("adaptations", ", ".join(f"{number(r[k])} {k}" for k in COUNTERS)),
    ]
    width = max(len(k) for k, _ in lines) + 2
    out = [f"{k:<{width}}{v}" for k, v in lines]
    out.append(f"events ({len(shown['events'])}):")
    out += [f"  step {e['step']:>7,}  {describe(e['kind'], e['detail'])}" for e in shown["events"]]
    return "\n".join(out)


def prune(root: Path, keep: int | None, older_than: float | None, dry_run: bool) -> int:
    from harmone_tui.commands.doctor import human_bytes
    from mape.retention import prune_steps

    knowledge = paths.knowledge_file(root)
    if not knowledge.exists():
        print(f"no knowledge store yet in {root}: nothing to prune")
        return 0
    if keep is None and older_than is None:
        keep = configured_keep()
        if keep is None:
            print(
                f'retention is off ([store] keep_steps_runs = "all" in {paths.settings_file()});'
                " pass --keep N or --older-than DAYS"
            )
            return 0
    result = prune_steps(knowledge, keep=keep, older_than_days=older_than, dry_run=dry_run)
    which = ", ".join(map(str, result.runs))
    if not result.runs:
        print(
            f"nothing to prune: no finished run outside the kept ones has step rows"
            f" ({human_bytes(result.bytes_before)})"
        )
    elif dry_run:
        print(
            f"would delete {result.rows:,} step rows of {len(result.runs)} run(s): {which}"
            f" (store {human_bytes(result.bytes_before)}; dry run, nothing deleted)"
        )
    else:
        print(
            f"deleted {result.rows:,} step rows of {len(result.runs)} run(s): {which};"
            f" store {human_bytes(result.bytes_before)} -> {human_bytes(result.bytes_after)}"
        )
    if result.note:
        print(f"note: {result.note}")
    return 0
