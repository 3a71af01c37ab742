"""`harmone --no-ui`: the same Runtime as the TUI, with progress on stderr and a JSON summary.

Never imports Textual. Ctrl-C and the other stopping signals (:mod:`harmone_tui.signals`) stop
the run cleanly: the steps so far are stored, the summary is written, and the process exits with
128 + the signal's number (130 for Ctrl-C). A run that failed writes its summary too (status
``failed``) before the error is reported.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from harmone_tui import signals
from harmone_tui.event_text import describe
from harmone_tui.json_safe import dumps
from harmone_tui.outputs import OutputError, is_stdout, write_output
from harmone_tui.runtime import Runtime
from harmone_tui.snapshot import RunListener, RunSnapshot
from mape.events import Event

STOP_GRACE_S = 3.0  # after a signal, the step in progress may end this long before it is cancelled


class ProgressPrinter(RunListener):
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

    def progress(self, text: str) -> None:
        self.message(text)

    def event(self, event: Event) -> None:
        self.message(f"step {event.step}: {describe(event.kind, event.detail)}")

    def snapshot(self, snap: RunSnapshot) -> None:
        now, step = time.perf_counter(), snap.step
        if self.quiet or (now - self._last < self._every and step < self.total):
            return
        self._last = now
        rate = step / max(now - self._t0, 1e-9)
        quality = "-" if snap.quality is None else f"{snap.quality:.3f}"
        text = (
            f"step {step}/{self.total} ({100 * step / self.total:.0f}%) {rate:,.0f} steps/s"
            f"  model {snap.active_model} v{snap.active_version}  quality {quality}"
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


async def _run(runtime: Runtime, printer: ProgressPrinter, received: list[int]) -> dict[str, Any]:
    """Prepare and run; a signal stops the run (or cancels the start-up) and is kept in
    ``received``. Returns the summary, also when a signal cancelled the work."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None

    def on_signal(signum: int) -> None:
        received.append(signum)
        printer.message(f"{signals.name(signum)}: stopping the run")
        runtime.stop(signals.name(signum))
        if len(received) > 1 or runtime.status in ("created", "ready"):
            main.cancel()  # start-up (reading, training, loading) has nothing to finish
        else:  # a step in progress may end; a predict that never returns is cancelled
            loop.call_later(STOP_GRACE_S, main.cancel)

    runtime.listeners.append(printer)
    remove = signals.install(loop, on_signal)
    try:
        await runtime.prepare()
        printer.start(runtime.telemetry.total)
        return await runtime.run()
    except asyncio.CancelledError:
        if not received or runtime.final_summary is None:
            raise
        main.uncancel()
        return runtime.final_summary
    finally:
        printer.done()
        remove()


def write_summary(
    summary: dict[str, Any], summary_path: Path | None, printer: ProgressPrinter
) -> bool:
    """Write ``--summary``; False (and one line on stderr) when it cannot be written."""
    if summary_path is None:
        return True
    try:
        write_output(summary_path, dumps(summary, indent=2) + "\n")
    except OutputError as exc:
        print(f"harmone: error: {exc}", file=sys.stderr)
        return False
    if not is_stdout(summary_path):
        printer.message(f"summary written to {summary_path}")
    return True


def run_headless(runtime: Runtime, summary_path: Path | None, quiet: bool) -> int:
    """Run to the end; print the summary (stdout) and write it to ``summary_path`` if given
    (`-`: stdout, once).

    Returns 0, 128 + n after signal n, or 1 when the summary could not be written. A run that
    failed has its summary written and the error raised (the CLI reports it in one line).
    """
    printer = ProgressPrinter(sys.stderr, runtime.settings.steps or 0, quiet)
    received: list[int] = []
    try:
        summary = asyncio.run(_run(runtime, printer, received))
    except BaseException:
        if runtime.final_summary is not None and runtime.run_id:
            write_summary(runtime.final_summary, summary_path, printer)
        raise
    written = write_summary(summary, summary_path, printer)
    if not quiet and not is_stdout(summary_path):
        print(dumps(summary, indent=2))
    if received:
        return signals.exit_code(received[0])
    return 0 if written else 1
