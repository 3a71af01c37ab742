"""What every `harmone` parser shares: the global options, "did you mean", the default command.

Global options (``--data-dir``) are accepted before the command, after it, and after a sub-action
(``harmone --data-dir D policy list`` = ``harmone policy list --data-dir D``). Every parser the
tree is built from is a :class:`Parser` (argparse builds sub-parsers with ``type(parent)``), so
each declares them itself; sub-parsers declare them with a suppressed default, because argparse
copies a sub-parser's values over the parent's and a default would erase a value typed before the
command. Sub-command modules need not declare ``--data-dir``; a declaration is ignored.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

GLOBAL_VALUE_OPTIONS = ("--data-dir",)
HELP_OPTIONS = ("-h", "--help", "--version")
DATA_DIR_HELP = (
    "knowledge store, model versions, user policies, exports, logs, and (unless"
    " $HARMONE_CONFIG_DIR is set) config and caches: a run writes nothing outside it"
    " (default: $HARMONE_DATA_DIR, else the platform's user data dir)"
)


def add_global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """The options every command accepts; only the top parser gives them a default."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        default=None if top else argparse.SUPPRESS,
        help=DATA_DIR_HELP,
    )


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with the global options and a suggestion for a mistyped choice."""

    def __init__(self, *args: Any, top: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self._top = top
        add_global_options(self, top)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """A module that still declares a global option gets the one already there, instead of
        argparse's conflict error (and instead of a default that would erase the typed value)."""
        known = self._option_string_actions
        if args and set(args) <= set(GLOBAL_VALUE_OPTIONS) and args[0] in known:
            return known[args[0]]
        return super().add_argument(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """A command or sub-action (a parser without sub-commands below it) refuses what it does
        not know itself, so the usage shown is its own (``usage: harmone models remove ...``),
        not the top parser's, which lists none of its options."""
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and not self._top and self._subparsers is None:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        """Unknown commands, sub-actions and choices get the closest name (difflib)."""
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(c) for c in choices]
        close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = f"{hint} (choose from {', '.join(names)})"
        if isinstance(action, argparse._SubParsersAction):  # a command or a sub-action
            kind = (action.metavar or "command").lower()
            raise argparse.ArgumentError(None, f"unknown {kind} {value!r}{listed}")
        raise argparse.ArgumentError(action, f"invalid choice {value!r}{listed}")


def _option_takes_value(token: str, value_options: Iterable[str], known: Iterable[str]) -> bool:
    """Whether ``token`` (``--name``, or an unambiguous prefix of it as argparse allows) takes a
    value from the next argument."""
    if "=" in token or not token.startswith("--"):
        return False
    values = set(value_options)
    if token in values:
        return True
    matches = [name for name in known if name.startswith(token)]
    return len(matches) == 1 and matches[0] in values


def scan(
    argv: Sequence[str], value_options: Iterable[str], known: Iterable[str]
) -> tuple[int | None, list[str]]:
    """Where the command word is in ``argv`` (None if absent), and the non-global options before it.

    ``value_options`` are the options (global and run) that take a value, so ``harmone --policy
    switch`` has no command: ``switch`` is the value of ``--policy``.
    """
    known, allowed = list(known), {*GLOBAL_VALUE_OPTIONS, *HELP_OPTIONS}
    before: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return None, before
        if not token.startswith("-") or token == "-":
            return i, before
        name = token.split("=", 1)[0]
        if name not in allowed:
            before.append(name)
        i += 2 if _option_takes_value(token, value_options, known) else 1
    return None, before


def value_options_of(parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """(options that take a value, every option string) of a parser."""
    takes, every = [], []
    for action in parser._actions:
        every += action.option_strings
        if action.option_strings and action.nargs != 0:
            takes += action.option_strings
    return takes, every
