"""Build the drift-scenario library (sample_data/scenarios/) from real PeMS station weeks.

    python scripts/make_scenarios.py --weeks DIR|FILE... [--measure] [--only NAME...]
        [--train FILE] [--out DIR] [--readme FILE] [--seed N] [--scale X] [--models-cache DIR]

Each scenario is one CSV (``timestamp,flow,regime,true_flow``: the stream as the engine reads
it, a per-row regime label, and what a working sensor would have reported) plus an entry in
``scenarios.json`` (segments, the weeks used, parameters, sha256, and with ``--measure`` the R²
each model loses). ``--measure`` trains linear/svm/lstm/naive with the engine's own code (a
minute or two for the LSTM) and rewrites the table in the README between the scenario markers.
Deterministic: the same weeks, seed and scale give the same bytes. Without ``--measure`` the
recorded figures of a scenario whose file did not change are kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import zlib
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engines.base import EngineError  # noqa: E402
from engines.regression.data import read_series  # noqa: E402
from scripts.scenario_faults import BUILDERS, Layout, Scenario  # noqa: E402
from scripts.scenario_readme import update_readme  # noqa: E402
from scripts.scenario_source import Pool, ScenarioError, read_pool  # noqa: E402

OUT = ROOT / "sample_data" / "scenarios"
MANIFEST = "scenarios.json"
TRAIN = ROOT / "sample_data" / "flow_train.csv"
COLUMNS = {
    "timestamp": "the reading's time (PeMS '5 Minutes', local time)",
    "flow": "vehicles per 5 minutes as the sensor reports them; blank = no reading",
    "regime": "'clean' or the fault in force on this row",
    "true_flow": "the station's real total flow (what a working sensor reports)",
}


def segments(regime: np.ndarray) -> list[dict[str, Any]]:
    """Runs of one label: ``{"regime", "start", "end"}`` with ``end`` exclusive, rows from 0."""
    change = np.flatnonzero(regime[1:] != regime[:-1]) + 1
    edges = [0, *change.tolist(), len(regime)]
    return [{"regime": str(regime[lo]), "start": lo, "end": hi} for lo, hi in pairwise(edges)]


def _number(value: float) -> str:
    return "" if np.isnan(value) else f"{value:g}"


def csv_bytes(pool: Pool, scenario: Scenario) -> bytes:
    lines = ["timestamp,flow,regime,true_flow"]
    stamps = pool.stamps[scenario.start : scenario.end]
    for stamp, flow, regime, true in zip(
        stamps, scenario.flow, scenario.regime, scenario.true_flow, strict=True
    ):
        lines.append(f"{stamp},{_number(flow)},{regime},{_number(true)}")
    return ("\n".join(lines) + "\n").encode()


def build(pool: Pool, names: list[str], seed: int, layout: Layout) -> list[Scenario]:
    """Build the named scenarios; each draws from its own generator (seed, name)."""
    built = []
    for name in names:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        built.append(BUILDERS[name](pool, layout, rng))
    return built


def entry(pool: Pool, scenario: Scenario, data: bytes) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "file": f"{scenario.name}.csv",
        "description": scenario.description,
        "rows": len(scenario.flow),
        "first": pool.stamps[scenario.start],
        "last": pool.stamps[scenario.end - 1],
        "weeks": pool.weeks_of(scenario.start, scenario.end),
        "segments": segments(scenario.regime),
        "params": scenario.params,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _old_entries(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        return {e["name"]: e for e in json.loads(path.read_text())["scenarios"]}
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ScenarioError(f"{path}: not a scenario manifest; move it away to rebuild") from None


def write_library(
    pool: Pool,
    scenarios: list[Scenario],
    out: Path,
    header: dict[str, Any],
    hurt: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Write each scenario's CSV and the manifest; keep entries of scenarios not rebuilt."""
    out.mkdir(parents=True, exist_ok=True)
    old = _old_entries(out / MANIFEST)
    entries = dict(old)
    for scenario in scenarios:
        data = csv_bytes(pool, scenario)
        (out / f"{scenario.name}.csv").write_bytes(data)
        new = entry(pool, scenario, data)
        if hurt is not None:
            new["hurt"] = hurt[scenario.name]
        else:
            previous = old.get(scenario.name, {})
            if previous.get("sha256") == new["sha256"] and "hurt" in previous:
                new["hurt"] = previous["hurt"]
        entries[scenario.name] = new
    order = [n for n in BUILDERS if n in entries] + [n for n in entries if n not in BUILDERS]
    manifest = {**header, "columns": COLUMNS, "scenarios": [entries[n] for n in order]}
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (out / MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def _measure(
    scenarios: list[Scenario], train: np.ndarray, cache: Path | None, seed: int
) -> dict[str, dict[str, Any]]:
    from scripts.scenario_hurt import measure, reuse_gain, train_models

    with tempfile.TemporaryDirectory(prefix="scenario-models-") as scratch:
        models = train_models(train, cache or Path(scratch), seed)
        out = {}
        for s in scenarios:
            print(f"measuring {s.name} ({len(s.flow)} rows)", file=sys.stderr)
            out[s.name] = measure(s.flow, s.true_flow, s.regime, models, train)
            reuse = reuse_gain(s.flow, s.regime, models, train, Path(scratch) / s.name, seed)
            if reuse:
                out[s.name]["reuse"] = reuse
        return out


def _default_weeks() -> list[Path]:
    env = os.environ.get("HARMONE_PEMS_DIR")
    for candidate in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data" / "pems"]:
        if candidate.is_dir():
            return [candidate]
    raise ScenarioError("--weeks: give the PeMS weeks (a directory of week*.csv or the files)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--weeks", type=Path, nargs="+", help="directory of week*.csv, or files")
    parser.add_argument("--train", type=Path, default=TRAIN, help="training set (column flow)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--readme", type=Path, help="README whose scenario table to rewrite")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(BUILDERS),
        metavar="NAME",
        help=f"build only these ({', '.join(BUILDERS)})",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="shrink every duration (e.g. 0.2 for one or two weeks of data)",
    )
    parser.add_argument(
        "--measure",
        action="store_true",
        help="train the models and record how much each scenario hurts them",
    )
    parser.add_argument("--models-cache", type=Path, help="keep the trained models here")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 4:
        parser.error(f"--scale {args.scale}: must be above 0 and at most 4")
    return args


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    try:
        train = read_series(args.train, "flow", min_rows=20)
    except EngineError as exc:
        raise ScenarioError(f"--train: {exc}") from None
    pool = read_pool(args.weeks or _default_weeks(), train)
    layout = Layout(args.scale)
    scenarios = build(pool, args.only or list(BUILDERS), args.seed, layout)
    hurt = _measure(scenarios, train, args.models_cache, args.seed) if args.measure else None
    header = {
        "format": 1,
        "built_by": "python scripts/make_scenarios.py (see sample_data/README.md)",
        "seed": args.seed,
        "scale": args.scale,
        "source": {
            "weeks": list(pool.files),
            "train": args.train.name,
            "rows_left_out": pool.skipped_train_rows,
        },
    }
    manifest = write_library(pool, scenarios, args.out, header, hurt)
    readme = args.readme
    if readme is None and args.out.resolve() == OUT:
        readme = ROOT / "sample_data" / "README.md"
    if readme is not None:
        update_readme(readme, manifest)
    for item in manifest["scenarios"]:
        print(f"{item['file']}: {item['rows']} rows, {len(item['segments'])} segments")
    return manifest


def main(argv: list[str] | None = None) -> int:
    try:
        run(argv)
    except ScenarioError as exc:
        print(f"make_scenarios: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
