"""`harmone --no-ui`: the same Runtime as the TUI, with progress on stderr and a JSON summary.

Never imports Textual. Ctrl-C and the other stopping signals (:mod:`harmone_tui.signals`) stop
the run cleanly: the steps so far are stored, the summary is written, and the process exits with
128 + the signal's number (130 for Ctrl-C). A run that failed writes its summary too (status
``failed``) before the error is reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from harmone_tui import export, signals, units
from harmone_tui.event_text import describe
from harmone_tui.json_safe import dumps
from harmone_tui.outputs import OutputError, is_stdout, write_output
from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunListener, RunSnapshot
from mape.events import Event
from mape.policy_schema import Policy

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
        self.summary: dict[str, Any] | None = None  # the run's, once it ended

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

    def finished(self, summary: dict[str, Any]) -> None:
        self.summary = summary

    def snapshot(self, snap: RunSnapshot) -> None:
        now, step = time.perf_counter(), snap.step
        if (
            self.quiet
            or snap.state != "running"
            or (now - self._last < self._every and step < self.total)
        ):
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


async def _run(
    start: Callable[[], Awaitable[Runtime]], printer: ProgressPrinter, received: list[int]
) -> dict[str, Any]:
    """Start and run; a signal stops the run (or cancels the start-up) and is kept in
    ``received``. Returns the summary, also when a signal cancelled the work."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    running: list[Runtime] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        printer.message(f"{signals.name(signum)}: stopping the run")
        if len(received) > 1 or not running:  # start-up (reading, training) has nothing to finish
            main.cancel(signals.name(signum))  # the message is the stored stop reason
            return
        running[0].stop(signals.name(signum))
        loop.call_later(STOP_GRACE_S, main.cancel)  # a predict that never returns is cancelled

    remove = signals.install(loop, on_signal)
    try:
        runtime = await start()
        running.append(runtime)
        printer.start(runtime.snapshot.info.total)
        return await runtime.run()
    except asyncio.CancelledError:
        if not received or printer.summary is None:
            raise
        main.uncancel()
        return printer.summary
    finally:
        printer.done()
        remove()


def energy_line(block: dict[str, Any]) -> str:
    """The ledger in one line: the total with its carbon, then each stage that spent anything."""
    stages = ", ".join(
        f"{stage} {units.energy(figures['energy_j'])}"
        for stage, figures in block["stages"].items()
        if figures["energy_j"] > 0
    )
    total = units.energy_and_carbon(block["energy_j"], block["carbon_g"])
    return f"energy {total} ({block['source']}): {stages}"


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


class EventLog(RunListener):
    """The events of a run as heard, in order (what ``--export`` writes)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def event(self, event: Event) -> None:
        self.events.append(event)


def write_export(
    target: Path | None, settings: RunSettings, summary: dict[str, Any], log: EventLog,
    printer: ProgressPrinter,
) -> bool:  # fmt: skip
    """Write ``--export`` (a directory, or `-`: JSON Lines on stdout); False (and one line on
    stderr) when it cannot be written."""
    if target is None or not summary.get("run_id"):
        return True
    data = export.of_run(target, settings.data_dir, summary, log.events)
    try:
        if is_stdout(target):
            export.write_stream(data, sys.stdout)
            return True
        export.write(data)
    except BrokenPipeError:
        raise  # `--export - | head`: the reader left; the CLI ends with 141, no error line
    except OSError as exc:
        print(f"harmone: error: --export {target}: cannot write ({exc.strerror})", file=sys.stderr)
        return False
    printer.message(f"steps, events, energy ledger and summary exported to {target}")
    return True


def run_headless(
    settings: RunSettings,
    policy: Policy,
    source: str,
    text: str,
    summary_path: Path | None,
    quiet: bool,
    export_to: Path | None = None,
    listeners: Sequence[RunListener] = (),
) -> int:
    """Run ``policy`` to the end; print the summary (stdout) and write it to ``summary_path`` if
    given (`-`: stdout, once); export the run to ``export_to`` if given (`-`: stdout).
    ``listeners`` hear the run besides the progress printer.

    Returns 0, 128 + n after signal n, or 1 when the summary could not be written. A run that
    failed has its summary written and the error raised (the CLI reports it in one line).
    """
    printer = ProgressPrinter(sys.stderr, settings.steps or 0, quiet)
    received: list[int] = []
    log = EventLog()

    def start() -> Awaitable[Runtime]:
        return Runtime.create(settings, policy, source, text, [printer, log, *listeners])

    try:
        summary = asyncio.run(_run(start, printer, received))
    except BaseException:
        if printer.summary is not None and printer.summary.get("run_id"):
            write_summary(printer.summary, summary_path, printer)
            with contextlib.suppress(Exception):  # the error that ended the run is the one told
                write_export(export_to, settings, printer.summary, log, printer)
        raise
    if "energy" in summary:
        printer.message(energy_line(summary["energy"]))
    written = write_summary(summary, summary_path, printer)
    written = write_export(export_to, settings, summary, log, printer) and written
    if not quiet and not is_stdout(summary_path) and not is_stdout(export_to):
        print(dumps(summary, indent=2))
    if received:
        return signals.exit_code(received[0])
    return 0 if written else 1
