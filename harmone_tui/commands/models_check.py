"""`harmone models check|remove`: find damaged model versions, delete them, tidy leftovers.

``check`` looks at every stored version: its row's path stays inside ``models/``, its directory
and ``meta.json`` are there and agree with the store, every file has its recorded sha256, and the
engine can read it (scaler, a pickle our models could have written, a Keras archive, a checkpoint
the restricted loader accepts). It also lists leftovers of crashed processes, which ``--fix``
removes. Exit code 1 when something is damaged, so scripts can act on it.

``remove ENGINE MODEL VERSION`` deletes one version (its row, and its directory when that is
inside ``models/``: nothing outside is ever removed); ``remove --damaged`` deletes every version
``check`` reports as damaged.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harmone_common.errors import HarmoneError
from harmone_tui import paths

EXIT_DAMAGED = 1
EXIT_USAGE = 2


def add_arguments(actions: Any) -> None:
    """The ``check`` and ``remove`` sub-commands of ``harmone models``."""
    check = actions.add_parser("check", help="report each stored version as ok or damaged, and why")
    check.add_argument("--engine", help="only this engine's versions")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument(
        "--fix",
        action="store_true",
        help="remove leftovers of crashed runs (staging and unrecorded version directories)",
    )
    remove = actions.add_parser(
        "remove",
        help="delete a stored version (its directory and its row)",
        description="Delete ENGINE MODEL VERSION, or with --damaged every damaged version.",
    )
    remove.add_argument("engine", nargs="?", help="regression or vision")
    remove.add_argument("model", nargs="?", help="e.g. linear, lstm, yolo_n")
    remove.add_argument("version", nargs="?", help="the version number (3 or v3)")
    remove.add_argument("--damaged", action="store_true", help="every version check reports")


def run(root: Path, args: argparse.Namespace) -> int:
    if args.action == "remove":
        if args.damaged == any(v is not None for v in (args.engine, args.model, args.version)):
            raise HarmoneError("models remove: give ENGINE MODEL VERSION, or --damaged")
        if not args.damaged and None in (args.engine, args.model, args.version):
            raise HarmoneError(
                "models remove: give ENGINE MODEL VERSION",
                hint="e.g. harmone models remove regression linear 3",
            )
    if not paths.knowledge_file(root).exists():
        if args.action == "remove" and not args.damaged:
            raise HarmoneError(
                f"no version {args.engine} {args.model} v{args.version} in {root}: "
                "it holds no model versions",
                hint="check --data-dir (or $HARMONE_DATA_DIR)",
            )
        print(f"no model versions in {root}")
        return 0
    if args.action == "check":
        return check(root, args.engine, args.json, args.fix)
    return remove(root, args)


def _open(root: Path) -> Any:
    from mape.knowledge import KnowledgeStore
    from mape.model_repo import ModelRepository

    return ModelRepository(root, KnowledgeStore.open(paths.knowledge_file(root)))


def inspect(root: Path, engine: str | None) -> tuple[list[dict[str, Any]], list[Path], Any]:
    """Every version's report row, the leftovers, and the open repository."""
    from harmone_tui.start_versions import engine_problem

    repo = _open(root)
    report = []
    for state in repo.states(engine, verify=True):
        row = state.row
        problem = state.problem
        if problem is None and state.directory is not None:
            problem = engine_problem(row.engine, row.model, state.directory, root)
        report.append(
            {
                "engine": row.engine,
                "model": row.model,
                "version": row.version,
                "path": row.path,
                "status": "ok" if problem is None else "damaged",
                "problem": problem,
                "checksums": "files" in row.meta,
                "state": state,
            }
        )
    return report, repo.leftovers(), repo


def check(root: Path, engine: str | None, as_json: bool, fix: bool) -> int:
    report, leftovers, repo = inspect(root, engine)
    removed = repo.clean_leftovers() if fix else []
    repo.store.close()
    damaged = [r for r in report if r["status"] == "damaged"]
    if as_json:
        rows = [{k: v for k, v in r.items() if k != "state"} for r in report]
        print(
            json.dumps(
                {
                    "data_dir": str(root),
                    "versions": rows,
                    "leftovers": [str(p) for p in leftovers],
                    "removed": [str(p) for p in removed],
                },
                indent=2,
            )
        )
        return EXIT_DAMAGED if damaged else 0
    for r in report:
        label = f"{r['engine']} {r['model']} v{r['version']}"
        if r["problem"] is None:
            note = "" if r["checksums"] else "  (no checksums: stored by an older harmone)"
            print(f"{label:28} ok{note}")
        else:
            print(f"{label:28} DAMAGED  {r['problem']}")
    for path in leftovers:
        done = "removed" if path in removed else "leftover"
        print(f"{done}: {path}")
    if not report:
        print(f"no model versions in {root}" + (f" for engine {engine}" if engine else ""))
    if damaged:
        print(
            f"{len(damaged)} of {len(report)} versions damaged: runs pass over them;"
            " `harmone models remove --damaged` deletes them"
        )
    if leftovers and not fix:
        print(
            f"{len(leftovers)} leftover directories of crashed runs:"
            " `harmone models check --fix` removes them"
        )
    return EXIT_DAMAGED if damaged else 0


def remove(root: Path, args: argparse.Namespace) -> int:
    if args.damaged:
        report, _, repo = inspect(root, None)
        targets = [r["state"] for r in report if r["status"] == "damaged"]
    else:
        text = str(args.version).removeprefix("v")
        if not text.isdigit():
            raise HarmoneError(f"models remove: VERSION must be a number, not {args.version!r}")
        repo = _open(root)
        targets = [s for s in repo.states(args.engine, args.model) if s.row.version == int(text)]
        if not targets:
            repo.store.close()
            raise HarmoneError(
                f"no version {args.engine} {args.model} v{text} in {root}",
                hint="`harmone models list` shows the stored versions",
            )
    try:
        for state in targets:
            repo.remove(state)
            where = state.directory if state.directory is not None else "row only: path outside"
            print(f"removed {state.label} ({where})")
    finally:
        repo.store.close()
    if not targets:
        print("no damaged versions")
    return 0
