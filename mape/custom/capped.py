"""The user's code's output, bounded: a log file the TUI can show, never the terminal.

Each call may print ``per_call`` characters; the rest is counted and dropped (the log says how
much), so a flood neither fills the disk nor slows the run for long. The file is rotated (to
``<name>.1``) when it passes ``total`` characters. Output written below Python (C code writing
to fd 1 or 2) goes to the same file unbounded: ``sys.stdout``/``sys.stderr`` are the usual way.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

PER_CALL_CHARS = 1_000_000
TOTAL_CHARS = 4_000_000


class CappedLog(io.TextIOBase):
    """A text stream writing to ``path`` within the limits above (see the module docstring)."""

    def __init__(self, path: Path, per_call: int = PER_CALL_CHARS, total: int = TOTAL_CHARS):
        self.path = path
        self.per_call = per_call
        self.total = total
        self.call_chars = 0  # printed during the current call, kept or not
        self._file = self._open()

    def _open(self) -> io.TextIOWrapper:
        f = self.path.open("a", encoding="utf-8", errors="replace")
        for fd in (1, 2):  # output from below Python lands here too
            os.dup2(f.fileno(), fd)
        return f

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._file.fileno()

    def write(self, text: str) -> int:
        n = len(text)
        room = self.per_call - self.call_chars
        self.call_chars += n
        if room > 0:
            self._file.write(text[:room])
        return n

    def flush(self) -> None:
        self._file.flush()

    def begin_call(self) -> None:
        self.call_chars = 0

    def end_call(self) -> int:
        """Close the call's output; the characters it printed (kept and dropped)."""
        printed = self.call_chars
        if printed > self.per_call:
            self._file.write(
                f"\n[harmone] {printed - self.per_call:,} more characters of this call's output"
                f" dropped (limit {self.per_call:,} per call)\n"
            )
        self._file.flush()
        if self._file.tell() > self.total:
            self._file.close()
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            self._file = self._open()
        self.call_chars = 0
        return printed

    def note(self, line: str) -> None:
        """A line of harmone's own in the log."""
        self._file.write(f"[harmone] {line}\n")
        self._file.flush()
