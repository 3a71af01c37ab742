"""`harmone [options]`: run a policy over a stream, in the TUI or headless (`--no-ui`)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harmone_common.errors import HarmoneError
from harmone_tui import paths
from harmone_tui.energy_source import PROFILE_HELP, profile_for
from harmone_tui.outputs import is_stdout
from harmone_tui.retention import DEFAULT_KEEP, after_run, configured_keep, parse_keep
from harmone_tui.settings import RunSettings

if TYPE_CHECKING:
    from harmone_tui.carbon import CarbonFactors

DEFAULT_POLICY = {"regression": "harmone", "vision": "vision-harmone"}
# engines.vision.limits' defaults, written out: importing it would load numpy for --help
IMAGE_LIMITS = (
    "images above 50 MP are skipped, a zip of more than 4 GiB or 100,000 members is refused"
    " ($HARMONE_MAX_IMAGE_PIXELS, $HARMONE_MAX_ZIP_BYTES, $HARMONE_MAX_ZIP_MEMBERS)"
)


class SpeedAction(argparse.Action):
    """Stores --speed and remembers it was typed: the TUI's default pace differs from 'max'."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.speed_given = True


def parse_speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        message = f"expected 'max' or steps per second, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected positive steps per second, got {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def port_number(text: str) -> int:
    """A TCP port, 0 meaning any free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected 0-65535 (0: any free port), got {value}")
    return value


def positive_finite(text: str) -> float:
    """A number above 0 that is not inf or nan (float() accepts both, and a coefficient of inf
    made every energy figure inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number above 0, got {text!r}")
    return value


def add_carbon_arguments(parser: argparse.ArgumentParser) -> None:
    """--grid-intensity, --region, --pue (checked by harmone_tui.carbon.resolve)."""
    parser.add_argument(
        "--grid-intensity",
        metavar="G_PER_KWH",
        help="carbon: grid intensity in gCO2e/kWh (default: $HARMONE_GRID_INTENSITY, [carbon]"
        " in settings.toml, else the region's, else the world average 437.66; see docs/energy.md)",
    )
    parser.add_argument(
        "--region",
        metavar="CODE",
        help="carbon: the grid intensity of a region, e.g. fra, deu, usa, gbr, eu, world"
        " (Ember yearly averages)",
    )
    parser.add_argument(
        "--pue",
        metavar="PUE",
        help="carbon: power usage effectiveness of the facility, 1.0 to 5.0 (default 1.0: the"
        " machine alone; data centres average about 1.58)",
    )


def carbon_from_args(args: argparse.Namespace) -> CarbonFactors:
    """The carbon factors in force: these flags, else environment, settings.toml, defaults."""
    from harmone_tui.carbon import resolve

    return resolve(args.grid_intensity, args.region, args.pue, paths.settings_file())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-ui", action="store_true", help="run headless (no TUI)")
    parser.add_argument(
        "--policy", help="preset name, user policy name or TOML file (default: harmone)"
    )
    parser.add_argument(
        "--engine",
        metavar="ENGINE",
        help="managed system: regression, vision, an installed plug-in's name"
        " (`harmone engine list`), package.module:factory or path/to/engine.py"
        " (default: the policy's). A plug-in without --policy runs the harmone preset over all"
        " of its models",
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="stream: CSV (regression) or folder/zip of images (vision); default: bundled sample;"
        f" {IMAGE_LIMITS}",
    )
    parser.add_argument(
        "--mape",
        type=Path,
        metavar="DIR",
        help="a Harmonica custom MAPE directory (monitor.py, analyse.py, plan.py, execute.py;"
        " manage.py is not needed): its execute decides the model, in its own process"
        " (overrides the policy's [mape] custom; see docs/custom-mape.md)",
    )
    parser.add_argument("--column", default="flow", help="CSV column of the stream (default: flow)")
    parser.add_argument(
        "--train",
        type=Path,
        help="training CSV for first-use training (default: bundled flow_train.csv)",
    )
    parser.add_argument(
        "--train-column", default="flow", help="column of the training CSV (default: flow)"
    )
    parser.add_argument(
        "--gaps",
        choices=("hold", "skip", "refuse"),
        default="hold",
        help="empty cells in a CSV: 'hold' repeats the previous value, so a stream of 5-minute"
        " counts keeps its time axis (default); 'skip' drops the row (later values move up a"
        " step); 'refuse' stops with the line of the first gap",
    )
    parser.add_argument("--steps", type=positive_int, help="stop after N steps")
    parser.add_argument("--summary", type=Path, help="write the run summary JSON here (-: stdout)")
    parser.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="headless: at the end, write the run's steps (with timestamps) and events as CSV and"
        " JSON Lines, and its summary, into DIR (-: one JSON Lines stream on stdout)",
    )
    parser.add_argument(
        "--speed",
        type=parse_speed,
        default=None,
        action=SpeedAction,
        help="'max' or steps per second (default: max headless, 50 in the TUI)",
    )
    parser.set_defaults(speed_given=False)
    coefficient = parser.add_mutually_exclusive_group()
    coefficient.add_argument(
        "--j-per-cpu-s",
        type=positive_finite,
        help="energy estimate: joules per CPU-second (default by CPU family)",
    )
    coefficient.add_argument("--energy-profile", type=Path, metavar="FILE", help=PROFILE_HELP)
    add_carbon_arguments(parser)
    parser.add_argument(
        "--quiet", action="store_true", help="headless: no progress and no summary on stdout"
    )
    parser.add_argument(
        "--metrics-port",
        type=port_number,
        metavar="PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics while the run goes on"
        " (0: any free port, shown at start; needs the 'metrics' extra)",
    )
    parser.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address of the metrics endpoint (default 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--keep-steps-runs",
        type=parse_keep,
        metavar="N|all",
        default=argparse.SUPPRESS,
        help="after the run, keep the step rows of the last N runs only (default: [store]"
        f" keep_steps_runs in settings.toml, else {DEFAULT_KEEP})",
    )


def run(args: argparse.Namespace) -> int:
    from mape.custom.folder import with_folder
    from mape.policy_file import resolve_policy

    if args.export is not None and not args.no_ui:
        raise HarmoneError("--export is for headless runs (--no-ui); in the TUI, press e")
    if is_stdout(args.export) and is_stdout(args.summary):
        raise HarmoneError("--export - and --summary -: only one of them can be standard output")
    if not args.no_ui:
        from harmone_tui.ui.launch import terminal_problem

        problem = terminal_problem()
        if problem:
            raise HarmoneError(problem)
    root = paths.data_dir(args.data_dir)
    policy_name = args.policy or DEFAULT_POLICY.get(args.engine or "regression", "harmone")
    policy, source, text = resolve_policy(policy_name, paths.policies_dir(root))
    policy = with_folder(policy, source, args.mape)
    engine = args.engine or policy.engine
    keep = vars(args)["keep_steps_runs"] if "keep_steps_runs" in vars(args) else configured_keep()
    settings = RunSettings(
        data_dir=root,
        engine=engine,
        data=args.data,
        column=args.column,
        train=args.train,
        train_column=args.train_column,
        steps=args.steps,
        speed=args.speed,
        j_per_cpu_s=args.j_per_cpu_s,
        calibration_profile=profile_for(args.energy_profile, args.j_per_cpu_s),
        gaps=args.gaps,
        fit_policy=args.policy is None and engine not in DEFAULT_POLICY,
        mode="headless" if args.no_ui else "tui",
        carbon=carbon_from_args(args),
        # headless: this process exists for this run, so its ledger counts it from the start
        ledger_from_process_start=args.no_ui,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
    )
    if args.no_ui:
        from harmone_tui.headless import run_headless

        code = run_headless(settings, policy, source, text, args.summary, args.quiet, args.export)
    else:
        from harmone_tui.ui.launch import launch

        code = launch(settings, policy, source, text, speed_given=args.speed_given)

    def say(line: str) -> None:
        if not args.quiet:
            print(f"harmone: {line}", file=sys.stderr)

    after_run(root, keep, say)
    return code
