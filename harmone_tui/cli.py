"""The `harmone` command line: parse, then hand over to one sub-command module.

`harmone [run options]` runs the managed system (TUI, or headless with `--no-ui`) and is the
same as `harmone run [run options]`; `harmone COMMAND ...` runs a sub-command. Global options
(`--data-dir`) go before or after the command (see :mod:`harmone_tui.argparsing`). Only the named
command's module is imported, and heavy modules (Textual, TensorFlow, torch) only on the paths
that need them, so `--help` and `--version` return at once.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from harmone_common.errors import HarmoneError
from harmone_tui import __version__, paths
from harmone_tui.argparsing import HELP_OPTIONS, Parser, scan, value_options_of
from harmone_tui.commands import COMMANDS

DEFAULT_COMMAND = "run"
DESCRIPTION = (
    "Run an ML system that keeps itself healthy: a HarmonE MAPE-K loop switches, retrains and\n"
    "reuses models under a policy, with energy measured. A terminal UI, or headless (--no-ui)."
)
EPILOG = """\
`harmone` alone is `harmone run`: the TUI on the bundled demo stream. Run options go straight
after `harmone` (e.g. `harmone --no-ui --policy switch --steps 5000`); `harmone run --help`
lists them. `harmone COMMAND --help` describes a command. Global options (--data-dir) go before
or after the command.
"""


def build_parser(command: str | None = None) -> Parser:
    """The parser tree. Only ``command``'s options are added (every command's when None), so a
    command line imports just the module it runs."""
    top = Parser(
        prog="harmone",
        top=True,
        description=DESCRIPTION,
        epilog=EPILOG,
        usage="%(prog)s [-h] [--version] [--data-dir DIR] [COMMAND] [options ...]",
    )
    top.add_argument("--version", action="version", version=f"harmone {__version__}")
    commands = top.add_subparsers(
        dest="command", title="commands", metavar="COMMAND", prog="harmone", required=True
    )
    for name, (module, help_text) in COMMANDS.items():
        parser = commands.add_parser(name, help=help_text, description=help_text)
        if command is None or name == command:
            importlib.import_module(module).add_arguments(parser)
    return top


def _run_value_options() -> tuple[list[str], list[str]]:
    """(run options that take a value, every run option): to tell a value from a command word."""
    parser = Parser(prog="harmone run")
    importlib.import_module(COMMANDS[DEFAULT_COMMAND][0]).add_arguments(parser)
    return value_options_of(parser)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line, `run` when no command is named (`harmone --no-ui` runs).

    argparse exits (2) with the usage and one error line on bad input.
    """
    argv = list(argv)
    index, before = scan(argv, *_run_value_options())
    if index is None:
        head = argv[: argv.index("--")] if "--" in argv else argv
        if not any(token in HELP_OPTIONS for token in head):
            argv, index, before = [DEFAULT_COMMAND, *argv], 0, []
    command = argv[index] if index is not None else ""
    parser = build_parser(command)
    if before and command in COMMANDS:
        parser.error(
            f"{before[0]} is an option of a command: put it after the command"
            f" (`harmone {command} ... {before[0]}`); only --data-dir goes before it"
        )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run the command with its ``--data-dir`` applied to every location
    (:func:`paths.using`); a :class:`HarmoneError` is the user's to fix: its line (and hint) on
    stderr, exit 2. Anything else is a bug and keeps its traceback."""
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        with paths.using(args.data_dir):
            return int(module.run(args) or 0)
    except HarmoneError as exc:
        print(f"harmone: error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `harmone ... | head` closed the pipe: not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush stays quiet
        return 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left


if __name__ == "__main__":
    raise SystemExit(main())
