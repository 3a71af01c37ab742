"""The parent's side of the user's MAPE process: start it, call into it, end it.

Every call has a timeout. What can go wrong becomes a failed :class:`CallResult`, never an
exception or a wait without end: the code raises (the error and the innermost line of the user's
files), hangs (the process is killed when the timeout passes), crashes or exits (the pipe
closes), or prints more than its share (the call counts as failed; the log keeps the start). A
dead process is started afresh at the next call, which imports the user's modules again.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from mape.custom import child
from mape.custom.capped import PER_CALL_CHARS

START_TIMEOUT_S = 60.0  # spawning and importing pandas on a loaded 2-core machine takes seconds
KILL_WAIT_S = 5.0


@dataclass(frozen=True)
class CallResult:
    """One call into the user's code: its value, or what went wrong."""

    ok: bool
    value: Any = None
    error: str | None = None
    printed: int = 0  # characters printed during the call
    cpu_s: float = 0.0  # CPU time of the call in the user's process


class CustomProcess:
    """The user's MAPE code in a ``spawn`` process (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        log_path: Path,
        timeout_s: float,
        seed: int = 7,
        j_per_cpu_s: float = 15.0,
        per_call_chars: int = PER_CALL_CHARS,
    ) -> None:
        self.root = root
        self.log_path = log_path
        self.timeout_s = timeout_s
        self.seed = seed
        self.j_per_cpu_s = j_per_cpu_s
        self.per_call_chars = per_call_chars
        self.pyrapl = ""  # which pyRAPL the process uses, as its log says
        self.import_problems: dict[str, str] = {}
        self.starts = 0
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> CallResult:
        """Start the process and import the user's modules; failed if that goes wrong."""
        with self._lock:
            return self._start()

    def _start(self) -> CallResult:
        self._end()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        process = ctx.Process(
            target=child.main,
            args=(
                theirs,
                str(self.root),
                str(self.log_path),
                os.getpid(),
                self.seed,
                self.j_per_cpu_s,
                self.per_call_chars,
            ),
            name="harmone-custom-mape",
            daemon=True,
        )
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        self.starts += 1
        reply = self._receive(max(START_TIMEOUT_S, self.timeout_s), "start and import its modules")
        if not reply.ok:
            return reply
        _, self.pyrapl, self.import_problems = reply.value
        if self.import_problems:
            listed = "; ".join(f"{m}.py: {e}" for m, e in self.import_problems.items())
            return CallResult(False, error=f"importing failed: {listed}")
        return CallResult(True)

    def call(self, module: str, function: str, *args: Any) -> CallResult:
        """``module.function(*args)`` in the user's process, within the timeout."""
        with self._lock:
            if not self.alive:
                started = self._start()
                if not started.ok:
                    return started
            assert self._conn is not None
            try:
                self._conn.send(("call", module, function, args))
            except (OSError, ValueError) as exc:
                self._end()
                return CallResult(False, error=f"the process is gone ({exc})")
            reply = self._receive(self.timeout_s, f"return from {module}.{function}()")
            if not reply.ok:
                return reply
            ok, value, error, printed, cpu_s = reply.value
            if printed > self.per_call_chars:
                return CallResult(
                    False,
                    value,
                    f"{module}.{function}() printed {printed:,} characters (limit"
                    f" {self.per_call_chars:,} per call; the log keeps the first ones)",
                    printed,
                    cpu_s,
                )
            return CallResult(ok, value, error, printed, cpu_s)

    def _receive(self, timeout_s: float, what: str) -> CallResult:
        conn, process = self._conn, self._process
        assert conn is not None and process is not None
        try:
            if conn.poll(timeout_s):
                return CallResult(True, conn.recv())
        except (EOFError, OSError):
            process.join(KILL_WAIT_S)
            code = process.exitcode
            self._end()
            return self._lost(f"the process ended (exit code {code}) instead of: {what}")
        self._end()
        return self._lost(f"did not {what} within {timeout_s:g} s; process killed")

    def _lost(self, error: str) -> CallResult:
        """A failed call whose process is gone; the log says so too (the process cannot)."""
        try:
            with self.log_path.open("a", encoding="utf-8") as log:
                log.write(f"[harmone] {error}\n")
        except OSError:
            pass
        return CallResult(False, error=error)

    def _end(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            try:
                conn.send(("quit",))
            except (OSError, ValueError):
                pass
            conn.close()
        if process is not None:
            process.join(0.2)
            if process.is_alive():
                process.kill()
                process.join(KILL_WAIT_S)

    def kill(self) -> None:
        """Kill the process now, from any thread: a call waiting on it returns at once, failed."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def close(self) -> None:
        """End the process (a quit request, then kill if it does not go)."""
        with self._lock:
            self._end()
