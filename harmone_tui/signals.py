"""The signals that end a run, and what each front end does with them.

A run ends cleanly on any signal a user or a system sends to stop a process: Ctrl-C (SIGINT),
``kill``/systemd/``timeout`` (SIGTERM), a dropped SSH session or a closed terminal (SIGHUP),
Ctrl-\\ (SIGQUIT) and SIGUSR1. Python's defaults for the last three kill the process outright, so
the run's summary was never stored and its row stayed ``running``.

Both front ends install :func:`install` on their event loop: the callback asks the run to stop
(the summary so far is stored) and the process then exits with ``128 + signal number``, the shell
convention (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP). A second signal cancels what is
still running at once. :func:`exit_watchdog` is the backstop when something cannot be cancelled
at all (a C call that never returns): the process exits anyway, and the store, a WAL journal
written in transactions, marks the run ``interrupted`` when it is next opened.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Callable

SIGNALS: tuple[signal.Signals, ...] = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
)
WATCHDOG_S = 20.0


def exit_code(signum: int) -> int:
    """The exit code of a process ended by ``signum``: 128 + its number."""
    return 128 + int(signum)


def name(signum: int) -> str:
    return signal.Signals(signum).name


def install(
    loop: asyncio.AbstractEventLoop, on_signal: Callable[[int], None]
) -> Callable[[], None]:
    """Call ``on_signal(signum)`` on the loop for each of :data:`SIGNALS`; returns the undo."""
    for sig in SIGNALS:
        loop.add_signal_handler(sig, on_signal, int(sig))

    def remove() -> None:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)

    return remove


def exit_watchdog(code: int, after_s: float = WATCHDOG_S) -> None:
    """End the process with ``code`` after ``after_s`` seconds, whatever still runs by then."""

    def expire() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed terminal (SIGHUP) cannot be flushed
                pass
        os._exit(code)

    timer = threading.Timer(after_s, expire)
    timer.daemon = True
    timer.start()
