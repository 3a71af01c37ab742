"""The Runtime: one engine, one knowledge store, one MAPE loop, driven on one asyncio loop.

The TUI and headless mode are two views of the same Runtime (DESIGN.md §3). It is built complete
by :meth:`Runtime.create` (the start-up is :mod:`harmone_tui.startup`). Inference runs in
batches in a thread (``asyncio.to_thread``) so the event loop stays free; a batch ends at every
step where the MAPE loop is due, where a retrained version is to be swapped in, or where a
forced action waits, so a run's decisions depend on steps, never on wall time. After each batch
the runtime publishes a :class:`~harmone_tui.snapshot.RunSnapshot`, which front ends read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harmone_tui import run_end
from harmone_tui.actions import ActionQueue, SwapRetrained
from harmone_tui.announce import Announcer
from harmone_tui.custom_mape import CustomMape
from harmone_tui.inference import ChunkSizer, StepSource, run_batch, step_source
from harmone_tui.pacing import Pacer
from harmone_tui.run_controls import RunControls
from harmone_tui.run_effector import RunEffector
from harmone_tui.run_end import Outcome
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunListener, RunSnapshot
from harmone_tui.start_versions import VersionUnusable
from harmone_tui.startup import (
    MAX_BATCH,
    Opened,
    charged_j_per_cpu_s,
    cpu_clock,
    open_run,
)
from harmone_tui.threads import in_thread
from mape.events import Event, EventKind
from mape.loop import MapeLoop
from mape.policy import Policy


class Runtime(RunEffector, RunControls):
    """Runs a policy over an engine's stream; see the module docstring."""

    @classmethod
    async def create(
        cls,
        settings: RunSettings,
        policy: Policy,
        policy_source: str,
        policy_text: str,
        listeners: Iterable[RunListener] = (),
    ) -> Runtime:
        """Start a run (store, engine, first-use training, loading, calibration) and return its
        runtime, ready; ``listeners`` hear it from its first progress line on. A start-up that
        ends early ends the run (see :mod:`harmone_tui.startup`) and raises."""
        announce = Announcer(listeners)
        opened = await open_run(settings, policy, policy_source, policy_text, announce)
        runtime = cls(opened, announce)
        if runtime.custom is not None:
            try:
                await runtime.custom.start()
            except BaseException as exc:
                runtime._end(exc)
                raise
        return runtime

    def __init__(self, opened: Opened, announce: Announcer):
        """Use :meth:`create`; this only assembles parts that are all there."""
        self._opened = opened
        self.settings = opened.parts.settings
        self.policy = opened.parts.policy
        self.policy_source, self.policy_text = opened.policy_source, opened.policy_text
        self.store, self.repo, self.engine = opened.store, opened.repo, opened.engine
        self.meter, self.pool, self.telemetry = opened.meter, opened.pool, opened.telemetry
        self.step_writer, self.slots = opened.step_writer, opened.slots
        self.ledger = opened.ledger
        self.run_id = opened.info.run_id
        self.announce = announce
        self.actions = ActionQueue()
        self.step = 0
        self.outcome = Outcome(status="ready")
        self.final_summary: dict[str, Any] | None = None
        self.pacer = Pacer(self.settings.speed)
        self._stop = False
        self._running = asyncio.Event()
        self._running.set()
        self._paused_s = 0.0
        self._flushed = 0
        self._skipped_reported = 0
        self._failures: list[tuple[int, str]] = []
        self._chunks = ChunkSizer()  # chunk sizes per model version, kept across batches
        self._specs = {m.name: m for m in self.engine.models()}
        self._cpu_clock = lambda: cpu_clock(self.engine)  # the clock charged to inference
        self._info = opened.info
        self._stored_versions = opened.stored_versions
        announce.steps_from(lambda: self.step)
        active = self.slots.active
        custom = self.policy.mape.custom  # a Harmonica user's MAPE files decide
        self.custom = None if not custom else CustomMape(self, Path(custom))
        self.loop = MapeLoop(
            self.policy,
            self.engine.quality,
            self if self.custom is None else self.custom.gate,
            active,
            self.slots.current[active],
        )
        self.loop.set_energy_profile(opened.energy_profile)
        self.loop.timer = self.ledger.stage
        self.slots.on_active = self.loop.set_active
        announce.progress("ready")
        self._publish()

    @property
    def listeners(self) -> list[RunListener]:
        return self.announce.listeners

    @property
    def status(self) -> str:
        return self.outcome.status

    @property
    def active_model(self) -> str:
        return self.slots.active

    @property
    def counters(self) -> dict[str, int]:
        """Events counted so far (``mape.events.COUNTERS``)."""
        return self.announce.counters

    def progress(self, text: str) -> None:
        self.announce.progress(text)

    def _parts(self) -> run_end.RunParts:
        """The run's parts, for closing it and for its summary."""
        parts = self._opened.parts
        parts.outcome, parts.flush, parts.actions = self.outcome, self.flush, self.actions
        parts.speed = self.pacer.speed
        parts.custom = self.custom
        return parts

    def _publish(self) -> None:
        """Take a snapshot of the run and hand it to the listeners (after a batch, a change of
        state, an applied action)."""
        self.snapshot = self._take_snapshot()
        self.announce.snapshot(self.snapshot)

    def _take_snapshot(self) -> RunSnapshot:
        status, tel = self.loop.status(), self.telemetry
        quality, n = status.quality, tel.count
        if quality is None and n >= 2:  # before the first MAPE cycle: the same window, measured
            w = max(0, n - self.policy.switch.window_steps)
            truths = [None if t != t else float(t) for t in tel.truth[w:n].tolist()]
            quality = self.engine.quality(tel.prediction[w:n].tolist(), truths)
        return RunSnapshot(
            info=self._info,
            state="paused" if self.status == "running" and self.paused else self.status,
            step=self.step,
            speed=self.pacer.speed,
            policy=self.policy,
            policy_source=self.policy_source,
            policy_text=self.policy_text,
            active_model=self.slots.active,
            active_version=self.slots.current[self.slots.active],
            versions=MappingProxyType(dict(self.slots.current)),
            stored_versions=self._stored_versions,
            quality=quality,
            ema=MappingProxyType(status.ema),
            e_norm=MappingProxyType(status.e_norm),
            drift_statistic=status.drift_statistic,
            drift_threshold=status.drift_threshold,
            decision=status.decision,
            reason=status.reason,
            decision_step=status.decision_step,
            energy_j=tel.energy_j(),
            counters=MappingProxyType(dict(self.announce.counters)),
            retraining=self.actions.retraining(),
            pending=self.actions.describe(),
            custom_mape=None if self.custom is None else self.custom.view(),
        )

    # the run --------------------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        """Run until the stream (or ``--steps``) ends or :meth:`stop`; return the summary.

        The run always ends with a final status stored with its summary: ``finished``,
        ``stopped`` (asked to, or cancelled) or ``failed`` (the error is in the summary).
        """
        self.outcome.status = "running"
        self.ledger.mark_running()
        started = time.perf_counter()
        try:
            await self._steps()
        except BaseException as exc:
            self.outcome.wall_s = time.perf_counter() - started - self._paused_s
            self._end(exc)
            raise
        self.outcome.wall_s = time.perf_counter() - started - self._paused_s  # running time only
        self.outcome.status = "stopped" if self._stop else "finished"
        self._end()
        assert self.final_summary is not None
        return self.final_summary

    async def _steps(self) -> None:
        limit = self.telemetry.total
        samples = step_source(self.engine)
        due = self.loop.next_due(0)
        self.pacer.restart(0)
        while self.step < limit and not self._stop:
            if not self._running.is_set():
                await self._paused()
                continue
            if self.step >= due:
                with self.ledger.stage("mape"):
                    if self.custom is None:
                        self.loop.cycle(self.step)
                    else:
                        await self.custom.cycle(self.step)
                due = self.loop.next_due(self.step)
            await self._apply_actions()
            end = min(limit, due, self.step + MAX_BATCH, self.actions.next_step(limit))
            end = self.pacer.batch_end(self.step, end)
            start = self.step
            done = await in_thread(self._infer, samples, start, end)
            self.step = done
            self._after_batch(start, done)
            if done < end:
                break  # the stream ended (or stop() cut the batch short)
            await self.pacer.wait(self.step, self._held)

    async def _paused(self) -> None:
        self.outcome.status = "paused"
        self._publish()
        paused_at = time.perf_counter()
        await self._running.wait()
        self._paused_s += time.perf_counter() - paused_at
        self.outcome.status = "running"
        self._publish()
        self.pacer.restart(self.step)

    def _held(self) -> bool:
        return self._stop or not self._running.is_set()

    def _end(self, exc: BaseException | None = None) -> None:
        """Give the run its final status (``exc``: what ended it) and close it; the summary is
        then in ``final_summary`` and, once a run was created, sent to the listeners."""
        if exc is not None:
            self.outcome.status, self.outcome.error = run_end.ending(exc, self._stop)
        if self.custom is not None:
            self.custom.close()
        try:
            self.final_summary = run_end.close(self._parts())
        except Exception:
            self.final_summary = run_end.summary(self._parts())
            raise
        finally:
            self._publish()
            self.announce.finished(self.final_summary)

    def _infer(self, samples: StepSource, start: int, end: int) -> int:
        """Run steps [start, end) with the active model (in a thread). Returns the next step."""
        model = self.active_model
        version = self.slots.current[model]
        rapl = None if self.meter.source == "estimated" else self.meter.read
        figures = run_batch(
            samples,
            self.slots.loaded[(model, version)].predict,
            end - start,
            rapl,
            self._cpu_clock(),
            self._stopping,
            self._chunks,
        )
        j_per_cpu_s = (
            charged_j_per_cpu_s(self.settings, self.meter, model) if rapl is None else None
        )
        self._failures = [(start + offset, why) for offset, why in figures.failures]
        done = self.telemetry.record(start, figures, model, version, j_per_cpu_s)
        tel = self.telemetry
        self.ledger.add_inference(
            model,
            version,
            done - start,
            float(tel.cpu_ms[start:done].sum()) / 1e3,
            float(tel.energy_mj[start:done].sum()) / 1e3,
        )
        return done

    def _after_batch(self, start: int, end: int) -> None:
        if end <= start:
            return
        tel = self.telemetry
        with self.ledger.stage("mape"):
            self.loop.observe(
                start,
                self.active_model,
                tel.prediction[start:end],
                tel.truth[start:end],
                tel.drift_value[start:end],
                tel.energy_mj[start:end] * 1e3,
            )
        self._report_skipped()
        self._report_failures()
        if end - self._flushed >= self.settings.batch_rows:
            self.flush()
        self._publish()

    def _report_skipped(self) -> None:
        """Stream items the engine could not use (e.g. a file that is not an image): one
        ``error`` event each, and the run goes on."""
        skipped = self.engine.skipped
        for name, reason in skipped[self._skipped_reported :]:
            self.event(EventKind.ERROR, {"action": "skipped", "file": name, "error": reason})
        self._skipped_reported = len(skipped)

    def _report_failures(self) -> None:
        """A batch's failed predicts (inference.py skips those steps): one ``error`` event
        naming the model, the first failure and how many steps were skipped."""
        failures, self._failures = self._failures, []
        if failures:
            step, why = failures[0]
            self.event(
                EventKind.ERROR,
                {
                    "action": "predict",
                    "model": self.active_model,
                    "step": step,
                    "skipped_steps": len(failures),
                    "error": f"{self.active_model}: predict raised {why}; {len(failures)} step(s)"
                    " skipped (no prediction, not scored)",
                },
            )

    def _stopping(self) -> bool:
        return self._stop

    def flush(self) -> None:
        """Hand the steps not yet stored to the writer thread, as one batch."""
        lo, hi = self._flushed, self.telemetry.count
        if hi <= lo:
            return
        with self.ledger.stage("store"):
            rows = self.telemetry.step_rows(lo, hi, self.run_id, self.meter.source)
            self.step_writer.write(rows)
        self._flushed = hi

    def store_steps(self) -> None:
        """Store every step recorded so far and wait until it is committed (for exports, which
        read the steps from the store: the telemetry keeps only recent ones in memory)."""
        self.flush()
        self.step_writer.flush()

    # actions --------------------------------------------------------------------------------
    async def _apply_actions(self) -> None:
        due = self.actions.due(self.step)
        for action in due:
            try:
                await self.slots.apply(action)
            except VersionUnusable as exc:  # a damaged stored version: say so, keep running
                self.event(EventKind.ERROR, {"action": type(action).__name__, "error": str(exc)})
        if any(isinstance(a, SwapRetrained) for a in due):  # a new version is in the store
            self._stored_versions = tuple(self.repo.versions(self.engine.name))
        if due:
            self._publish()

    def current_version(self, model: str) -> int:
        return self.slots.current[model]

    def event(self, kind: EventKind, detail: dict[str, Any]) -> Event:
        """Store an event at the current step and tell the listeners."""
        return self.announce.event(kind, detail)

    # results --------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The run's figures so far."""
        return run_end.summary(self._parts())
