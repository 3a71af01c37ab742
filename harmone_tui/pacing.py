"""Pacing a run at a chosen number of steps per second, from an anchor that each change resets.

The runtime runs a paced batch, then waits until the anchor says the next step is due. Two faults
froze a TUI run that was slowed down: the anchor (time and step the pace counts from) was kept
across speed changes, so after 15 s at 100/s a change to 10/s asked the next step to wait for
the ~1,350 steps "run too early" (minutes); and the wait was a bare sleep that neither pause nor
a new speed could end. Here every speed change (and every resume) restarts the pace, and the wait
is an event wait that :meth:`Pacer.wake` (pause, stop, speed change) ends at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

PACE_SLICE_S = 0.1  # a paced batch holds about this much time's worth of steps


class Pacer:
    """When the next step is due at ``speed`` steps/s (None: no pacing, ``max``)."""

    def __init__(self, speed: float | None) -> None:
        self.speed = speed
        self._t0 = time.perf_counter()
        self._step = 0
        self._wake = asyncio.Event()

    def restart(self, step: int) -> None:
        """Count the pace from ``step``, now."""
        self._t0, self._step = time.perf_counter(), step

    def set_speed(self, speed: float | None, step: int) -> None:
        self.speed = speed
        self.restart(step)
        self.wake()

    def wake(self) -> None:
        """End a wait in progress (the caller re-checks pause and stop)."""
        self._wake.set()

    def batch_end(self, step: int, end: int) -> int:
        """``end`` cut to one slice of steps when paced."""
        if not self.speed:
            return end
        return min(end, step + max(1, int(self.speed * PACE_SLICE_S)))

    async def wait(self, step: int, held: Callable[[], bool]) -> None:
        """Wait until ``step`` is due or a :meth:`wake`; yield to the loop when not paced.

        ``held()`` (paused or stopping) is checked after earlier wakes are forgotten, so a pause
        that came during the batch is not lost.
        """
        if not self.speed:
            await asyncio.sleep(0)
            return
        ahead = self._t0 + (step - self._step) / self.speed - time.perf_counter()
        self._wake.clear()
        if ahead <= 0 or held():
            return
        try:
            await asyncio.wait_for(self._wake.wait(), ahead)
        except TimeoutError:
            pass
