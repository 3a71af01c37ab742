"""`harmone [options]`: run a policy over a stream, in the TUI or headless (`--no-ui`)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from harmone_common.errors import HarmoneError
from harmone_tui import paths
from harmone_tui.energy_source import PROFILE_HELP, profile_for
from harmone_tui.retention import DEFAULT_KEEP, after_run, configured_keep, parse_keep
from harmone_tui.settings import RunSettings

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-ui", action="store_true", help="run headless (no TUI)")
    parser.add_argument(
        "--policy", help="preset name, user policy name or TOML file (default: harmone)"
    )
    parser.add_argument(
        "--engine", choices=("regression", "vision"), help="managed system (default: the policy's)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="stream: CSV (regression) or folder/zip of images (vision); default: bundled sample;"
        f" {IMAGE_LIMITS}",
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
    parser.add_argument(
        "--quiet", action="store_true", help="headless: no progress and no summary on stdout"
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
    from mape.policy_file import resolve_policy

    if not args.no_ui:
        from harmone_tui.ui.launch import terminal_problem

        problem = terminal_problem()
        if problem:
            raise HarmoneError(problem)
    root = paths.data_dir(args.data_dir)
    policy_name = args.policy or DEFAULT_POLICY[args.engine or "regression"]
    policy, source, text = resolve_policy(policy_name, paths.policies_dir(root))
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
    )
    if args.no_ui:
        from harmone_tui.headless import run_headless
        from harmone_tui.runtime import Runtime

        code = run_headless(Runtime(settings, policy, source, text), args.summary, args.quiet)
    else:
        from harmone_tui.ui.launch import launch

        code = launch(settings, policy, source, text, speed_given=args.speed_given)

    def say(line: str) -> None:
        if not args.quiet:
            print(f"harmone: {line}", file=sys.stderr)

    after_run(root, keep, say)
    return code
