"""`harmone --no-ui`: the same Runtime as the TUI, with progress on stderr and a JSON summary.

Never imports Textual. Ctrl-C stops the run cleanly: the steps so far are stored, the summary is
written, and the process exits with 130.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from harmone_tui.event_text import describe
from harmone_tui.json_safe import dumps
from harmone_tui.outputs import is_stdout, write_output
from harmone_tui.runtime import Runtime

EXIT_INTERRUPTED = 130


class ProgressPrinter:
    """A one-line progress bar on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, stream: TextIO, total: int, quiet: bool) -> None:
        self.stream = stream
        self.total = max(total, 1)
        self.quiet = quiet
        self.tty = stream.isatty()
        self._t0 = time.perf_counter()
        self._last = 0.0
        self._every = 0.2 if self.tty else 5.0

    def start(self, total: int) -> None:
        """The run begins now: rates count from here, not from start-up."""
        self.total = max(total, 1)
        self._t0 = time.perf_counter()

    def message(self, text: str) -> None:
        if not self.quiet:
            self._clear()
            print(f"harmone: {text}", file=self.stream, flush=True)

    def steps(self, step: int, runtime: Runtime) -> None:
        now = time.perf_counter()
        if self.quiet or (now - self._last < self._every and step < self.total):
            return
        self._last = now
        rate = step / max(now - self._t0, 1e-9)
        status = runtime.loop.status()
        quality = "-" if status.quality is None else f"{status.quality:.3f}"
        text = (
            f"step {step}/{self.total} ({100 * step / self.total:.0f}%) {rate:,.0f} steps/s"
            f"  model {runtime.active_model} v{runtime.current_version(runtime.active_model)}"
            f"  quality {quality}"
        )
        if self.tty:
            width = 24
            filled = int(width * step / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {text}\x1b[K")
            self.stream.flush()
        else:
            print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")

    def done(self) -> None:
        if self.tty and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()


async def _run(runtime: Runtime, printer: ProgressPrinter) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        interrupted = True
        runtime.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    def listen(kind: str, payload: Any) -> None:
        if kind == "progress":
            printer.message(str(payload))
        elif kind == "steps":
            printer.steps(int(payload), runtime)
        elif kind == "event":
            printer.message(f"step {payload.step}: {describe(payload.kind, payload.detail)}")

    runtime.listeners.append(listen)
    try:
        await runtime.prepare()
        if interrupted:
            return {"status": "stopped"}
        printer.start(runtime.telemetry.total)
        summary = await runtime.run()
    finally:
        printer.done()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    summary["interrupted"] = interrupted
    return summary


def run_headless(runtime: Runtime, summary_path: Path | None, quiet: bool) -> int:
    """Run to the end; print the summary (stdout) and write it to ``summary_path`` if given
    (`-`: stdout, once)."""
    printer = ProgressPrinter(sys.stderr, runtime.settings.steps or 0, quiet)
    summary = asyncio.run(_run(runtime, printer))
    text = dumps(summary, indent=2)
    if summary_path is not None:
        write_output(summary_path, text + "\n")
        if not is_stdout(summary_path):
            printer.message(f"summary written to {summary_path}")
    if not quiet and not is_stdout(summary_path):
        print(text)
    return EXIT_INTERRUPTED if summary.get("interrupted") else 0
