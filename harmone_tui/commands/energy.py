"""`harmone energy calibrate|show`: calibration profiles for the energy estimate (docs/energy.md).

- ``calibrate`` (on a machine with RAPL) fits joules per CPU-second from real inference of the
  regression models against the package counter and writes a profile, by default into the data
  dir; without RAPL it says so in one line and exits 2, writing nothing;
- ``show [FILE]`` validates a profile and prints it (default: the data dir's).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from harmone_tui import paths


def _positive(kind: type, least: float) -> object:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value >= least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {text!r}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from engines.energy import POWERCAP_ROOT

    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    cal = actions.add_parser(
        "calibrate",
        help="fit J per CPU-second against RAPL and write a profile (needs RAPL)",
        description="Runs the regression models' inference in windows of low to full load,\n"
        "reads the RAPL package energy and the process CPU time of each, and fits\n"
        "E = P_idle x wall + k x CPU-s by least squares, pooled and per model. The fit error\n"
        "is measured on held-out rounds. Keep the machine otherwise quiet while it runs.\n"
        "Use the profile elsewhere with --energy-profile FILE (docs/energy.md).",
    )
    cal.add_argument(
        "--models",
        metavar="LIST",
        help="comma-separated regression models (default: linear,svm,lstm, those installed)",
    )
    cal.add_argument(
        "--window",
        type=_positive(float, 0.05),
        default=1.0,
        metavar="S",
        help="seconds per window (default 1)",
    )
    cal.add_argument(
        "--rounds",
        type=_positive(int, 2),
        default=3,
        metavar="N",
        help="rounds of windows (default 3)",
    )
    cal.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="profile file (default: <data dir>/energy-profile.json)",
    )
    cal.add_argument(
        "--powercap",
        type=Path,
        default=POWERCAP_ROOT,
        metavar="DIR",
        help=f"the powercap tree to read (default {POWERCAP_ROOT})",
    )
    cal.add_argument(
        "--data", type=Path, metavar="FILE", help="CSV stream of inputs (default: bundled sample)"
    )
    cal.add_argument(
        "--train", type=Path, metavar="FILE", help="training CSV (default: bundled flow_train.csv)"
    )
    show = actions.add_parser("show", help="validate a profile and print it")
    show.add_argument("file", type=Path, nargs="?", help="default: <data dir>/energy-profile.json")


def _calibrate(args: argparse.Namespace) -> int:
    from engines.energy_profile import check_writable, save_profile
    from engines.registry import create_engine
    from harmone_tui.energy_calibration import available_models, calibrate, open_rapl

    meter = open_rapl(args.powercap)  # before anything is trained: no RAPL, nothing done
    root = paths.data_dir(args.data_dir)
    out = args.out or paths.energy_profile_file(root)
    check_writable(out)  # before a minute of measuring, not after
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {text}", file=sys.stderr, flush=True)

    engine = create_engine("regression", data=args.data, train=args.train)
    models = (
        [m.strip() for m in args.models.split(",") if m.strip()]
        if args.models
        else available_models(engine)
    )
    profile, fit, _ = calibrate(engine, meter, models, args.window, args.rounds, say)
    save_profile(profile, out)
    print(f"J per CPU-second   {fit.j_per_cpu_s:.4g} (pooled over {', '.join(models)})")
    print(f"idle power         {fit.idle_watts:.3g} W (reported apart, not in the coefficient)")
    print(f"fit error          {fit.relative_error:.1%} of a window's energy (held-out rounds)")
    if len(models) > 1:
        per = ", ".join(f"{m} {v:.4g}" for m, v in fit.per_model.items())
        chosen = "used" if fit.use_per_model else "not better, pooled used"
        print(f"per model          {per}: error {fit.per_model_relative_error:.1%} ({chosen})")
    print(f"R²                 {fit.r2:.4f} over {fit.windows} windows")
    print(f"written            {out}")
    print(f"use it elsewhere   harmone --energy-profile {out} ...")
    return 0


def _show(args: argparse.Namespace) -> int:
    from engines.energy_profile import load_profile
    from harmone_tui.energy_source import mismatch_warning

    path = args.file or paths.energy_profile_file(paths.data_dir(args.data_dir))
    profile = load_profile(path)
    print(json.dumps(profile.to_json(), indent=2))
    warning = mismatch_warning(profile)
    if warning:
        print(f"harmone: {warning}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    return _calibrate(args) if args.action == "calibrate" else _show(args)
