"""Blocking calls of the runtime (reading data, loading, calibrating, predicting) off the loop.

``asyncio.to_thread`` has two faults for a run that must end on a signal within seconds:
- its threads belong to the loop's default executor, which ``asyncio.run`` joins on the way out
  and the interpreter joins again at exit, so one predict or read that never returns holds the
  process forever after the run has stored its summary;
- a call that raises ``StopIteration`` (``next()`` on a stream shorter than promised) cannot be
  set on an asyncio future: the loop logs a ``TypeError`` and the awaiting task waits forever.

:func:`in_thread` runs the call on a daemon thread that nothing joins (an abandoned call is left
to finish or die with the process) and turns a ``StopIteration`` into a ``RuntimeError``. Idle
threads are reused, so a batch costs what ``to_thread`` costs.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class DaemonThreads:
    """Daemon threads sharing one job queue; a new thread starts only when all are busy."""

    def __init__(self, name: str = "harmone-call") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._count = 0

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, fn, args))
        if not self._idle.acquire(blocking=False):
            with self._lock:
                self._count += 1
                name = f"{self._name}-{self._count}"
            threading.Thread(target=self._work, name=name, daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except StopIteration as exc:  # would leave the awaiting task pending forever
                    future.set_exception(RuntimeError(f"{fn!r} raised StopIteration: {exc}"))
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                    future.set_exception(exc)
            del future, fn, args
            self._idle.release()


_THREADS = DaemonThreads()


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``await asyncio.to_thread(fn, ...)`` on a thread that never holds up the process's exit.

    Cancelling the awaiting task returns at once; the call itself runs on until it returns.
    """
    return await asyncio.wrap_future(_THREADS.submit(functools.partial(fn, *args, **kwargs)))
