"""`harmone engine list|new`: the engines harmone can run, and a new plug-in engine package.

- ``list`` shows every engine that can be named (bundled, and installed plug-ins found by the
  ``harmone.engines`` entry point), where it comes from, and why one cannot run here;
- ``new NAME [--dir DIR]`` writes a working plug-in package (``harmone_tui.engine_skeleton``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

# What a bundled engine needs that may not be installed (its extra).
BUNDLED_NEEDS = {"vision": (("torch", "ultralytics"), "vision")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="the engines harmone can run: bundled and installed plug-ins"
    )
    listing.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list: name, origin, target, available, problem",
    )
    new = actions.add_parser(
        "new",
        help="write a working plug-in engine package (pyproject, engine, test)",
        description="Writes DIR/NAME: a package whose engine forecasts a series with numpy"
        " least squares. `pip install -e DIR/NAME` it, then `harmone --engine NAME`"
        " (docs/engines.md explains every part).",
    )
    new.add_argument("name", metavar="NAME", help="engine name: lower-case letters, digits, _")
    new.add_argument(
        "--dir", type=Path, default=Path("."), help="where to write the NAME folder (default: .)"
    )


def _problem(name: str, origin: str) -> str | None:
    """Why the engine cannot be used here (None: it can), without building it."""
    if origin == "bundled":
        needs = BUNDLED_NEEDS.get(name)
        if needs is None:
            return None
        missing = [m for m in needs[0] if importlib.util.find_spec(m) is None]
        if missing:
            return f"needs {' and '.join(missing)}: pip install 'harmone-tui[{needs[1]}]'"
        return None
    from engines.base import EngineError
    from engines.registry import factory_of

    try:
        factory_of(name)
    except EngineError as exc:
        return str(exc)
    return None


def engine_rows() -> list[dict[str, Any]]:
    from engines.registry import installed

    rows = []
    for entry in installed().values():
        problem = _problem(entry.name, entry.origin)
        rows.append(
            {
                "name": entry.name,
                "origin": entry.origin,
                "target": entry.target,
                "available": problem is None,
                "problem": problem,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    if args.action == "new":
        from harmone_tui.engine_skeleton import write_skeleton

        folder = write_skeleton(args.name, args.dir)
        print(f"wrote {folder}")
        print(f"  pip install -e {folder}   # into harmone's venv")
        print(f"  harmone --engine {args.name} --no-ui --steps 2000")
        return 0
    rows = engine_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = [("ENGINE", "FROM", "FACTORY", "STATUS")] + [
        (r["name"], r["origin"], r["target"], "available" if r["available"] else r["problem"])
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for *cells, status in table:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + status)
    return 0
