"""How a run tells its front ends what happens, and stores its events on the way.

One :class:`Announcer` per run, from the first progress line of start-up to the summary: the
start-up and the runtime both speak through it, so listeners hear one ordered story whichever
part is talking, and the counters (``mape.events.COUNTERS``) are counted once, as events are
stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from mape.events import COUNTERS, Event, EventKind

if TYPE_CHECKING:
    from harmone_tui.snapshot import RunListener, RunSnapshot
    from mape.knowledge import KnowledgeStore


class Announcer:
    """The listeners of one run, and where its events go once the run exists."""

    def __init__(self, listeners: Iterable[RunListener] = ()) -> None:
        self.listeners: list[RunListener] = list(listeners)
        self.counters = dict.fromkeys(COUNTERS.values(), 0)
        self._store: KnowledgeStore | None = None
        self._run_id = 0
        self._step: Callable[[], int] = lambda: 0
        self.stage: Callable[[str], contextlib.AbstractContextManager[None]] = lambda _name: (
            contextlib.nullcontext()
        )  # the energy ledger's stage blocks, once the start-up made the ledger

    def charge_to(self, stage: Callable[[str], contextlib.AbstractContextManager[None]]) -> None:
        """Charge what the listeners and the event store cost to the ledger from now on."""
        self.stage = stage

    def run_created(self, store: KnowledgeStore, run_id: int) -> None:
        """From now on events are stored under ``run_id`` (at step 0 until :meth:`steps_from`)."""
        self._store, self._run_id = store, run_id

    def steps_from(self, step: Callable[[], int]) -> None:
        """Events are stored at the step ``step()`` says (the runtime's current step)."""
        self._step = step

    def progress(self, text: str) -> None:
        with self.stage("frontend"):
            for listener in list(self.listeners):
                listener.progress(text)

    def event(self, kind: EventKind, detail: dict[str, Any]) -> Event:
        """Store an event at the current step, count it, and tell the listeners."""
        if self._store is None:
            raise RuntimeError("an event before the run was created")
        with self.stage("store"):
            row = self._store.add_event(self._run_id, self._step(), kind, detail)
        counter = COUNTERS.get(row.kind)
        if counter is not None:
            self.counters[counter] += 1
        with self.stage("frontend"):
            for listener in list(self.listeners):
                listener.event(row)
        return row

    def snapshot(self, snap: RunSnapshot) -> None:
        with self.stage("frontend"):
            for listener in list(self.listeners):
                listener.snapshot(snap)

    def finished(self, summary: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener.finished(summary)
