"""`harmone locate [WHAT]`: print where things live (the rules are in :mod:`harmone_tui.paths`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from harmone_tui import paths

WHAT = (
    "data",
    "config",
    "cache",
    "logs",
    "themes",
    "models",
    "exports",
    "policies",
    "sample-data",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", choices=WHAT, help="print only this location")


def locations(data_dir: Path | None) -> dict[str, str]:
    where = paths.resolve(data_dir) if data_dir is not None else paths.current()
    root = where.data
    return {
        "data": str(root),
        "config": str(where.config),
        "cache": str(where.cache),
        "logs": str(paths.logs_dir(root)),
        "themes": str(paths.themes()),
        "models": str(paths.models_dir(root)),
        "exports": str(paths.exports_dir(root)),
        "policies": str(paths.policies_dir(root)),
        "sample-data": str(paths.sample_data()),
    }


def run(args: argparse.Namespace) -> int:
    found = locations(args.data_dir)
    if args.what:
        print(found[args.what])
    else:
        width = max(map(len, found))
        for name, where in found.items():
            print(f"{name:<{width}}  {where}")
    return 0
