"""The UI's handle on one Runtime: builds it off the event loop, listens to it, keeps histories.

No Textual here. The app runs :meth:`RunSession.start` as a worker; the runtime calls the
session's listener on the event-loop thread, so the session only appends to lists and calls the
callbacks the app set (which post Textual messages). Dense data (the telemetry arrays) is pulled by
the screens on a timer; only discrete facts (progress, events, the end) are pushed.

The runtime module (numpy, engines, and later TensorFlow for the LSTM) is imported in a thread, so
the first frame appears before any of it is loaded.
"""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harmone_common.errors import HarmoneError
from harmone_tui.snapshot import RunListener, RunSnapshot

if TYPE_CHECKING:
    from harmone_tui.runtime import Runtime
    from harmone_tui.settings import RunSettings
    from mape.events import Event
    from mape.knowledge import KnowledgeStore
    from mape.policy import Policy

STATES = ("paused", "running")  # the changes of state the UI is told of (on_state)


def start_process_helpers() -> None:
    """Start multiprocessing's resource tracker while ``sys.stderr`` is still the real one.

    Textual replaces ``sys.stderr`` with an object whose ``fileno()`` is -1; the tracker, started
    lazily by the first spawn (the trainer pool), would then fail with "bad value(s) in
    fds_to_keep". Starting it before the app runs avoids that; it costs one small process.
    """
    from multiprocessing import resource_tracker

    try:
        resource_tracker.ensure_running()
    except (OSError, ValueError):  # no spawn support here: training will report its own error
        pass


FRONT_END_THREADS = ("textual-output", "textual-input")  # Textual's driver threads


def watch_front_end_threads(runtime: Runtime) -> None:
    """Charge Textual's writer and input threads to the ledger's front-end stage (the event
    loop's thread is charged as the ledger's residue, see harmone_tui/ledger.py)."""
    for thread in threading.enumerate():
        if thread.name in FRONT_END_THREADS:
            runtime.ledger.watch_thread("frontend", thread)


class RunSession:
    """One run as the UI sees it: state, progress text, events so far, loop-status histories."""

    def __init__(self, settings: RunSettings, policy: Policy, source: str, text: str) -> None:
        self.settings = settings
        self.policy = policy
        self.source = source
        self.text = text
        self.runtime: Runtime | None = None
        self.state = "starting"  # starting, preparing, running, finished, stopped, failed
        self.progress = "starting"
        self.error: str | None = None
        self.details: str = ""
        self.events: list[Event] = []
        self.summary: dict[str, Any] | None = None
        self.snapshot: RunSnapshot | None = None  # the run as last published (None: not ready)
        self.drift: list[tuple[int, float]] = []
        self.ema: dict[str, list[tuple[int, float]]] = {}
        self.on_progress: Callable[[str], None] | None = None
        self.on_state: Callable[[str], None] | None = None  # paused / running, once it happened
        self.on_event: Callable[[Event], None] | None = None
        self.on_finished: Callable[[dict[str, Any]], None] | None = None
        self.on_failed: Callable[[str], None] | None = None
        self.after_prepare: Callable[[Runtime], None] | None = None  # a seam for scripted tests
        self._stop_requested = False
        self._stop_reason: str | None = None
        self._creating: asyncio.Future[Any] | None = None  # Runtime.create, during start-up
        self._rate: deque[tuple[float, int]] = deque(maxlen=40)
        self._clock: dict[str, float] = {}  # started, paused_at, paused_s, ended (monotonic s)
        start_process_helpers()

    # life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the run and run it to the end; a failure is kept for the UI, never raised.

        The runtime module (the slow import) is imported in a thread; the runtime exists once
        it is ready (``Runtime.create``), so a stop asked for during start-up is passed on then.
        """
        try:
            self._set_progress("loading the runtime")
            module = await asyncio.to_thread(
                __import__, "harmone_tui.runtime", fromlist=["Runtime"]
            )
            self.state = "preparing"
            self._creating = asyncio.ensure_future(
                module.Runtime.create(
                    self.settings, self.policy, self.source, self.text, [_Listener(self)]
                )
            )
            runtime = self.runtime = await self._creating
            watch_front_end_threads(runtime)
            if self._stop_requested:
                runtime.stop(self._stop_reason)
            if self.after_prepare is not None:
                self.after_prepare(runtime)
            self.state = "running"  # run() ends at once, as stopped, if a stop came meanwhile
            self._clock = {"started": time.monotonic(), "paused_s": 0.0}
            await runtime.run()
        except asyncio.CancelledError:
            self.state = "stopped"
            raise
        except HarmoneError as exc:  # the user's to fix: its line (and hint), no traceback
            self._failed(str(exc) if exc.hint is None else f"{exc} (hint: {exc.hint})", "")
        except Exception as exc:  # a bug: shown with its traceback; the app must not crash
            self._failed(f"{type(exc).__name__}: {exc}", traceback.format_exc())

    def _failed(self, error: str, details: str) -> None:
        self.state = "failed"
        self.error, self.details = error, details
        if self.runtime is not None:
            self.runtime.pool.close()
        if self.on_failed:
            self.on_failed(error)

    def stop(self, reason: str | None = None) -> None:
        """Ask the run to end (``reason``, e.g. a signal's name, goes in its summary); the
        runtime stores the summary however the run ends."""
        self._stop_requested = True
        self._stop_reason = self._stop_reason or reason
        if self.runtime is not None:
            self.runtime.stop(self._stop_reason)
        elif self._creating is not None and not self._creating.done():
            # the start-up ends the run as stopped, with this reason (a worker's cancel has none)
            self._creating.cancel(self._stop_reason)

    def abandon(self) -> None:
        """After a cancelled run: end the trainer process so quitting is immediate (a cancelled
        start-up ends its own).

        A first-use LSTM training takes tens of seconds; closing the pool alone would make the
        interpreter wait for it at exit. The half-trained version stays in a staging directory,
        which the next start removes (ModelRepository.clean_leftovers).
        """
        if self.runtime is not None:
            self.runtime.pool.terminate()

    # what the UI asks -----------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True once the runtime is ready and published its first snapshot."""
        return self.snapshot is not None

    @property
    def store(self) -> KnowledgeStore | None:
        """The run's knowledge store once the run started, else None."""
        return self.runtime.store if self.runtime is not None else None

    def energy(self) -> dict[str, Any] | None:
        """The run's energy ledger now (the summary's ``energy`` block once the run ended),
        None before start-up made the ledger. Reads a few clocks and /proc: not every tick."""
        if self.summary and "energy" in self.summary:
            return dict(self.summary["energy"])
        ledger = getattr(self.runtime, "ledger", None)
        return None if ledger is None else ledger.report().to_dict()

    @property
    def live(self) -> bool:
        """True while the run can still be controlled."""
        return self.ready and self.state == "running"

    def elapsed_s(self) -> float:
        """The run's running time so far, pauses left out (as the runtime counts ``wall_s``)."""
        c = self._clock
        if "started" not in c:
            return 0.0
        now = c.get("ended") or c.get("paused_at") or time.monotonic()
        return now - c["started"] - c["paused_s"]

    def _clock_state(self, state: str) -> None:
        c, now = self._clock, time.monotonic()
        if "started" not in c:
            return
        if state == "paused":
            c.setdefault("paused_at", now)
        elif state == "running" and "paused_at" in c:
            c["paused_s"] += now - c.pop("paused_at")
        elif state == "finished":
            c.setdefault("ended", now)

    def steps_per_s(self) -> float | None:
        """The measured rate over the last few seconds (None until two samples exist)."""
        snap = self.snapshot
        if snap is None or not self.live:
            return None
        now = time.monotonic()
        self._rate.append((now, snap.step))
        while len(self._rate) > 2 and now - self._rate[0][0] > 3.0:
            self._rate.popleft()
        (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
        return (s1 - s0) / (t1 - t0) if t1 - t0 > 0.2 else None

    # listener -------------------------------------------------------------------------------
    def _set_progress(self, text: str) -> None:
        self.progress = text
        if self.on_progress:
            self.on_progress(text)

    def _on_snapshot(self, snap: RunSnapshot) -> None:
        previous, self.snapshot = self.snapshot, snap
        self._sample_status(snap)
        if previous is not None and previous.state != snap.state and snap.state in STATES:
            self._clock_state(snap.state)
            if self.on_state:
                self.on_state(snap.state)

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        if self.on_event:
            self.on_event(event)

    def _on_finished(self, summary: dict[str, Any]) -> None:
        self._clock_state("finished")
        self.summary = dict(summary)
        self.state = str(summary.get("status", "finished"))
        if self.on_finished:
            self.on_finished(self.summary)

    def _sample_status(self, snap: RunSnapshot) -> None:
        """Keep the drift statistic and EMAs as step histories (changed values only)."""
        step = snap.step
        if snap.drift_statistic is not None and (
            not self.drift or self.drift[-1][1] != snap.drift_statistic
        ):
            self.drift.append((step, float(snap.drift_statistic)))
        for model, value in snap.ema.items():
            history = self.ema.setdefault(model, [])
            if not history or history[-1][1] != value:
                history.append((step, float(value)))


class _Listener(RunListener):
    """The session's ears on its runtime (kept apart: the session's ``progress`` is a text)."""

    def __init__(self, session: RunSession) -> None:
        self.session = session

    def progress(self, text: str) -> None:
        self.session._set_progress(text)

    def snapshot(self, snap: RunSnapshot) -> None:
        self.session._on_snapshot(snap)

    def event(self, event: Event) -> None:
        self.session._on_event(event)

    def finished(self, summary: dict[str, Any]) -> None:
        self.session._on_finished(summary)
