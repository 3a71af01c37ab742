"""The `harmone` command line: parse, then hand over to one sub-command module.

`harmone [run options]` runs the managed system (TUI, or headless with `--no-ui`);
`harmone COMMAND ...` runs a sub-command. Heavy modules (Textual, TensorFlow, torch) are imported
only on the paths that need them, so `--help` and `--version` return at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from harmone_tui import __version__
from harmone_tui.commands import COMMANDS


def _epilog() -> str:
    lines = ["commands:"]
    lines += [f"  {name:<10} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    lines.append("")
    lines.append("`harmone COMMAND --help` describes a command; with no command, `harmone` runs.")
    return "\n".join(lines)


def build_parser(command: str) -> argparse.ArgumentParser:
    module = importlib.import_module(COMMANDS[command][0])
    prog = "harmone" if command == "run" else f"harmone {command}"
    parser = argparse.ArgumentParser(
        prog=prog,
        description=COMMANDS[command][1],
        epilog=_epilog() if command == "run" else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if command == "run":
        parser.add_argument("--version", action="version", version=f"harmone {__version__}")
    module.add_arguments(parser)
    return parser


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions whose message is for the user: printed plainly, never as a traceback."""
    from engines.base import EngineError
    from engines.energy import EnergyError
    from mape.knowledge import KnowledgeError
    from mape.policy import PolicyError

    return (EngineError, EnergyError, KnowledgeError, PolicyError)


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    command = args_in[0] if args_in and args_in[0] in COMMANDS else "run"
    rest = args_in[1:] if args_in and args_in[0] == command else args_in
    parser = build_parser(command)
    args = parser.parse_args(rest)
    module = importlib.import_module(COMMANDS[command][0])
    errors = user_errors()
    try:
        return int(module.run(args) or 0)
    except errors as exc:
        print(f"harmone: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
