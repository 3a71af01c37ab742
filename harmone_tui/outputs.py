"""Where a command writes a file, `-` means standard output (the convention scripts rely on)."""

from __future__ import annotations

import sys
from pathlib import Path

from harmone_common.errors import HarmoneError

STDOUT = "-"


class OutputError(HarmoneError):
    """An output file cannot be written; the message names it and says why."""


def is_stdout(target: Path | str | None) -> bool:
    return target is not None and str(target) == STDOUT


def write_output(target: Path | str, text: str) -> None:
    """Write ``text`` to the file ``target`` (its directory made), or to stdout for `-`."""
    if is_stdout(target):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
