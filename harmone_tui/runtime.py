"""The Runtime: one engine, one knowledge store, one MAPE loop, driven on one asyncio loop.

The TUI and headless mode are two views of the same Runtime (DESIGN.md §3). Inference runs in
batches in a thread (``asyncio.to_thread``) so the event loop stays free; a batch ends at every step
where the MAPE loop is due, where a retrained version is to be swapped in, or where a forced
action waits, so a run's decisions depend on steps, never on wall time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from engines.base import Engine, EngineError, LoadedModel, Sample
from engines.energy import EnergyMeter, create_meter
from engines.registry import create_engine
from harmone_tui import paths, run_end
from harmone_tui.actions import Action, ActionQueue, ReuseVersion, SwapRetrained, SwitchTo
from harmone_tui.calibration import energy_profile, first_items
from harmone_tui.inference import run_batch
from harmone_tui.pacing import Pacer
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunInfo, RunListener, RunSnapshot
from harmone_tui.start_versions import VersionUnusable, load_checked, load_start_versions
from harmone_tui.telemetry import Telemetry, history_steps
from harmone_tui.threads import in_thread
from harmone_tui.trainer_pool import TrainerPool
from mape.effector import VersionInfo
from mape.events import COUNTERS, Event, EventKind
from mape.knowledge import KnowledgeStore
from mape.loop import MapeLoop
from mape.model_repo import ModelRepository, StoredVersion
from mape.policy import Policy, check_models
from mape.policy_file import key_locator
from mape.step_writer import StepWriter

MAX_BATCH = 2000


class Runtime:
    """Runs a policy over an engine's stream; see the module docstring."""

    def __init__(
        self, settings: RunSettings, policy: Policy, policy_source: str, policy_text: str
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.policy_source = policy_source
        self.policy_text = policy_text
        self.listeners: list[RunListener] = []
        self.actions = ActionQueue()
        self.step = 0
        self.run_id = 0
        self.status = "created"
        self.pacer = Pacer(settings.speed)
        self.wall_s = 0.0
        self._stop = False
        self.stop_reason: str | None = None
        self.error: str | None = None
        self.final_summary: dict[str, Any] | None = None
        self.prepared = False  # True once prepare() completed: loop, telemetry, models exist
        self._running = asyncio.Event()
        self._running.set()
        self._flushed = 0
        self._skipped_reported = 0
        self._loaded: dict[tuple[str, int], LoadedModel] = {}
        self._current_version: dict[str, int] = {}
        self.active_model = policy.start_model
        self.counters = dict.fromkeys(COUNTERS.values(), 0)
        self._info: RunInfo | None = None
        self._stored_versions: tuple[StoredVersion, ...] = ()
        self.snapshot: RunSnapshot | None = None
        self.store: KnowledgeStore
        self.engine: Engine
        self.meter: EnergyMeter
        self.telemetry: Telemetry
        self.loop: MapeLoop
        self.repo: ModelRepository
        self.pool: TrainerPool

    # set-up ---------------------------------------------------------------------------------
    def progress(self, text: str) -> None:
        for listener in list(self.listeners):
            listener.progress(text)

    def _publish(self) -> None:
        """Take a snapshot of the run and hand it to the listeners (after a batch, a change of
        state, an applied action)."""
        if self._info is None:
            return
        self.snapshot = self._take_snapshot(self._info)
        for listener in list(self.listeners):
            listener.snapshot(self.snapshot)

    async def prepare(self) -> None:
        """Open the store, build the engine, train missing models, load and calibrate them.

        However it ends early (an error, a cancel on a signal), a run already created gets its
        final status and summary, and a training in the worker is ended.
        """
        try:
            await self._prepare()
        except BaseException as exc:
            self._end(exc)
            raise

    async def _prepare(self) -> None:
        s = self.settings
        self.progress("opening knowledge store")
        root = s.data_dir
        self.store = KnowledgeStore.open(paths.knowledge_file(root))
        self.repo = ModelRepository(root, self.store)
        self.step_writer = StepWriter(self.store.path)
        self.repo.clean_leftovers()
        self.progress("reading data")
        self.engine = await in_thread(
            create_engine,
            s.engine,
            data=s.data,
            column=s.column,
            train=s.train,
            train_column=s.train_column,
            gaps=s.gaps,
            **paths.engine_dirs(root),
        )
        for note in self.engine.data_notes:
            self.progress(note)
        if self.policy.serving in self.engine.serving_paths:  # e.g. engines/regression/serving.py
            self.engine.serving = self.policy.serving
        if self.policy.engine != self.engine.name:
            raise EngineError(
                f"{self.policy_source}: policy is for engine {self.policy.engine!r},"
                f" not {self.engine.name!r}"
            )
        check_models(
            self.policy,
            [m.name for m in self.engine.models()],
            self.policy_source,
            key_locator(self.policy_text),
        )
        for model in self.policy.models:
            problem = self.engine.unavailable(model)
            if problem:
                raise EngineError(f"{self.policy_source}: {problem}")
        xs = await in_thread(first_items, self.engine, str(s.data or "the bundled sample"))
        self.meter = create_meter(s.j_per_cpu_s, profile=s.calibration_profile)
        self.pool = TrainerPool(self.repo, self.meter.joules_for_cpu_seconds)
        length = self.engine.stream_length()
        limit = length if s.steps is None else min(s.steps, length)
        self.telemetry = Telemetry(limit, tuple(self.policy.models), self._history(self.policy))
        self.run_id = self.store.start_run(
            self.policy.name, self.engine.name, str(s.data or "bundled sample"), s.describe()
        )
        self.store.record_policy(self.run_id, 0, self.policy.name, self.policy_text)
        versions = await load_start_versions(
            self.engine,
            self.pool,
            list(self.policy.models),
            self.progress,
            lambda detail: self.event(EventKind.ERROR, detail),
            self.run_id,
        )
        for model, start in versions.items():
            self._loaded[(model, start.stored.version)] = start.loaded
            self._current_version[model] = start.stored.version
        predicts = {
            m: self._loaded[(m, self._current_version[m])].predict for m in self.policy.models
        }
        profile = await in_thread(energy_profile, predicts, xs, self._read_energy())
        if self.meter.source == "estimated":  # measured at the meter's coefficient: per model
            profile = {
                m: uj * self._j_per_cpu_s(m) / self.meter.j_per_cpu_s for m, uj in profile.items()
            }
        self.loop = MapeLoop(
            self.policy,
            self.engine.quality,
            self,
            self.active_model,
            self._current_version[self.active_model],
        )
        self.loop.set_energy_profile(profile)
        self._stored_versions = tuple(self.repo.versions(self.engine.name))
        self._info = self._run_info()
        self.prepared = True
        self.status = "ready"
        self.progress("ready")
        self._publish()

    def _run_info(self) -> RunInfo:
        data, row = self.settings.data, self.store.run(self.run_id)
        return RunInfo(
            run_id=self.run_id,
            started_at=row.started_at if row is not None else time.time(),
            total=self.telemetry.total,
            models=self.telemetry.models,
            engine=self.engine.name,
            engine_models=tuple(m.name for m in self.engine.models()),
            quality_metric=self.engine.quality_metric,
            quality=self.engine.quality,
            data_name=data.name if data else "bundled sample",
            energy_source=self.meter.source,
            j_per_cpu_s=getattr(self.meter, "j_per_cpu_s", None),
            telemetry=self.telemetry,
            calibrated=self.settings.calibration_profile is not None,
        )

    def _take_snapshot(self, info: RunInfo) -> RunSnapshot:
        status, tel = self.loop.status(), self.telemetry
        quality, n = status.quality, tel.count
        if quality is None and n >= 2:  # before the first MAPE cycle: the same window, measured
            w = max(0, n - self.policy.switch.window_steps)
            truths = [None if t != t else float(t) for t in tel.truth[w:n].tolist()]
            quality = self.engine.quality(tel.prediction[w:n].tolist(), truths)
        retraining = self.actions.retraining()
        return RunSnapshot(
            info=info,
            state="paused" if self.status == "running" and self.paused else self.status,
            step=self.step,
            speed=self.pacer.speed,
            policy=self.policy,
            policy_source=self.policy_source,
            policy_text=self.policy_text,
            active_model=self.active_model,
            active_version=self._current_version[self.active_model],
            versions=MappingProxyType(dict(self._current_version)),
            stored_versions=self._stored_versions,
            quality=quality,
            ema=MappingProxyType(status.ema),
            e_norm=MappingProxyType(status.e_norm),
            drift_statistic=status.drift_statistic,
            drift_threshold=status.drift_threshold,
            decision=status.decision,
            reason=status.reason,
            decision_step=status.decision_step,
            energy_j=tel.totals.total("energy_mj") / 1000.0,
            counters=MappingProxyType(dict(self.counters)),
            retraining=retraining,
            pending=self.actions.describe(),
        )

    def _history(self, policy: Policy) -> int:
        """Steps the telemetry keeps in memory: the policy's windows, a batch, unstored rows."""
        return history_steps(policy) + MAX_BATCH + self.settings.batch_rows

    def _cpu_clock(self) -> Callable[[], int]:
        """The clock whose CPU time is charged to inference (see ``engines.base.Engine``)."""
        process_wide = self.engine.cpu_clock == "process"
        return time.process_time_ns if process_wide else time.thread_time_ns

    def _j_per_cpu_s(self, model: str) -> float:
        """The coefficient charged to ``model``'s inference on the estimate: a calibration
        profile's per-model figure when per-model measured better, else the meter's."""
        profile = self.settings.calibration_profile
        return profile.coefficient_for(model) if profile else self.meter.j_per_cpu_s

    def _read_energy(self) -> Callable[[], float]:
        """Joules so far as inference sees them: RAPL, or this thread's CPU time × coefficient."""
        if self.meter.source != "estimated":
            return self.meter.read
        clock, j_per_ns = self._cpu_clock(), self.meter.j_per_cpu_s * 1e-9
        return lambda: clock() * j_per_ns

    # the run --------------------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        """Run until the stream (or ``--steps``) ends or :meth:`stop`; return the summary.

        The run always ends with a final status stored with its summary: ``finished``,
        ``stopped`` (asked to, or cancelled) or ``failed`` (the error is in the summary).
        """
        if self.status == "created":
            await self.prepare()
        self.status = "running"
        started = time.perf_counter()
        self._paused_s = 0.0
        try:
            await self._steps()
        except BaseException as exc:
            self.wall_s = time.perf_counter() - started - self._paused_s
            self._end(exc)
            raise
        self.wall_s = time.perf_counter() - started - self._paused_s  # running time only
        self.status = "stopped" if self._stop else "finished"
        self._end()
        assert self.final_summary is not None
        return self.final_summary

    async def _steps(self) -> None:
        limit = self.telemetry.total
        samples = self.engine.samples()
        due = self.loop.next_due(0)
        self.pacer.restart(0)
        while self.step < limit and not self._stop:
            if not self._running.is_set():
                await self._paused()
                continue
            if self.step >= due:
                self.loop.cycle(self.step)
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
        self.status = "paused"
        self._publish()
        paused_at = time.perf_counter()
        await self._running.wait()
        self._paused_s += time.perf_counter() - paused_at
        self.status = "running"
        self._publish()
        self.pacer.restart(self.step)

    def _held(self) -> bool:
        return self._stop or not self._running.is_set()

    def _end(self, exc: BaseException | None = None) -> None:
        """Give the run its final status (``exc``: what ended it) and close it; the summary is
        then in ``final_summary`` and, once a run was created, sent to the listeners."""
        if exc is not None:
            self.status, self.error = run_end.ending(exc, self._stop)
        try:
            self.final_summary = run_end.close(self)
        except Exception:
            self.final_summary = run_end.summary(self)
            raise
        finally:
            self._publish()
            if self.run_id:
                for listener in list(self.listeners):
                    listener.finished(self.final_summary)

    def _infer(self, samples: Iterator[Sample], start: int, end: int) -> int:
        """Run steps [start, end) with the active model (in a thread). Returns the next step."""
        model = self.active_model
        version = self._current_version[model]
        rapl = None if self.meter.source == "estimated" else self.meter.read
        figures = run_batch(
            samples,
            self._loaded[(model, version)].predict,
            end - start,
            rapl,
            self._cpu_clock(),
            self._stopping,
        )
        j_per_cpu_s = self._j_per_cpu_s(model) if rapl is None else None
        return self.telemetry.record(start, figures, model, version, j_per_cpu_s)

    def _after_batch(self, start: int, end: int) -> None:
        if end <= start:
            return
        tel = self.telemetry
        self.loop.observe(
            start,
            self.active_model,
            tel.prediction[start:end],
            tel.truth[start:end],
            tel.drift_value[start:end],
            tel.energy_mj[start:end] * 1e3,
        )
        self._report_skipped()
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

    def _stopping(self) -> bool:
        return self._stop

    def flush(self) -> None:
        """Hand the steps not yet stored to the writer thread, as one batch."""
        if not self.run_id:  # nothing to store before the run exists (an early end of start-up)
            return
        lo, hi = self._flushed, self.telemetry.count
        if hi <= lo:
            return
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
                await self._apply(action)
            except VersionUnusable as exc:  # a damaged stored version: say so, keep running
                self.event(EventKind.ERROR, {"action": type(action).__name__, "error": str(exc)})
        if due:
            self._publish()

    async def _apply(self, action: Action) -> None:
        """Make one due action take effect now and record it (the one place actions apply)."""
        previous = self.active_model
        if isinstance(action, SwitchTo):
            if action.model == previous:
                return
            await self._activate(action.model, self._current_version[action.model])
            detail = {"from": previous, "to": action.model, "reason": action.reason}
            self.event(EventKind.SWITCH, {**detail, **action.detail})
        elif isinstance(action, ReuseVersion):
            was = f"{previous} v{self._current_version[previous]}"
            await self._activate(action.model, action.version)
            self.event(
                EventKind.REUSE,
                {
                    "model": action.model,
                    "version": action.version,
                    "from": was,
                    "reason": action.reason,
                    **action.detail,
                },
            )
        else:
            await self._swap_retrained(action)

    async def _swap_retrained(self, action: SwapRetrained) -> None:
        try:
            trained = await action.task
        except Exception as exc:  # a failed retrain must not stop the run
            detail = {"action": "retrain", "model": action.model, "error": str(exc)}
            self.event(EventKind.ERROR, detail)
            return
        stored = trained.stored
        await self._ensure_loaded(action.model, stored.version)
        self._current_version[action.model] = stored.version
        if self.active_model == action.model:
            self.loop.set_active(action.model, stored.version)
        self._stored_versions = tuple(self.repo.versions(self.engine.name))
        self.event(
            EventKind.RETRAIN_DONE,
            {
                "model": action.model,
                "version": stored.version,
                "reason": action.reason,
                "train_cpu_s": round(trained.cpu_s, 3),
                "train_energy_j": round(trained.energy_j, 3),
                "validation_r2": stored.meta.get("validation_r2"),
                "persistence_validation_r2": stored.meta.get("persistence_validation_r2"),
                "rows": stored.meta.get("train_rows"),
            },
        )

    async def _ensure_loaded(self, model: str, version: int) -> None:
        key = (model, version)
        if key not in self._loaded:
            stored = self.repo.get(self.engine.name, model, version)
            if stored is None:
                raise VersionUnusable(f"{model} v{version} is not in the knowledge store")
            self._loaded[key] = await load_checked(self.engine, self.repo, stored)

    async def _activate(self, model: str, version: int) -> None:
        """Load (if needed) and make ``model`` v``version`` the active model from now on."""
        await self._ensure_loaded(model, version)
        self._current_version[model] = version
        self.active_model = model
        self.loop.set_active(model, version)

    def current_version(self, model: str) -> int:
        return self._current_version[model]

    def event(self, kind: EventKind, detail: dict[str, Any]) -> Event:
        """Store an event at the current step and tell the listeners."""
        row = self.store.add_event(self.run_id, self.step, kind, detail)
        counter = COUNTERS.get(row.kind)
        if counter is not None:
            self.counters[counter] += 1
        for listener in list(self.listeners):
            listener.event(row)
        return row

    # Effector (called by the MAPE loop) -----------------------------------------------------
    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        self.actions.add(SwitchTo(self.step, model, reason, detail))

    def reuse_version(self, model: str, version: int, reason: str, detail: dict[str, Any]) -> None:
        self.actions.add(ReuseVersion(self.step, model, version, reason, detail))

    def start_retrain(self, model: str, values: Any, reason: str, detail: dict[str, Any]) -> bool:
        if self.actions.retraining():
            return False
        data = self.engine.retraining_data(values)
        task = asyncio.get_running_loop().create_task(
            self.pool.train(
                self.engine,
                model,
                data,
                reason,
                self.run_id,
                seed=self.policy.seed,
                extra_meta={"origin": "retrain"},
            )
        )
        swap = self.step + self.policy.retrain.delay_steps
        self.actions.add(SwapRetrained(swap, model, task, reason))
        self.event(
            EventKind.RETRAIN_STARTED,
            {"model": model, "reason": reason, "swap_step": swap, **detail},
        )
        return True

    def record(self, kind: EventKind, detail: dict[str, Any]) -> None:
        self.event(kind, detail)

    def stored_versions(self, model: str) -> list[VersionInfo]:
        from engines.base import DataSummary

        return [
            VersionInfo(
                model,
                v.version,
                DataSummary.from_dict(v.meta["data_summary"]) if "data_summary" in v.meta else None,
                v.reason,
            )
            for v in self.repo.versions(self.engine.name, model)
        ]

    # controls (front ends) ------------------------------------------------------------------
    def stop(self, reason: str | None = None) -> None:
        """End the run after the step in progress; ``reason`` (e.g. a signal's name) is kept in
        the summary."""
        self._stop = True
        self.stop_reason = self.stop_reason or reason
        self._running.set()
        self.pacer.wake()

    def pause(self) -> None:
        self._running.clear()
        self.pacer.wake()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def speed(self) -> float | None:
        """Steps per second (None: as fast as it goes)."""
        return self.pacer.speed

    def set_speed(self, steps_per_s: float | None) -> None:
        """Pace at the new speed from this step on (see :mod:`harmone_tui.pacing`)."""
        self.pacer.set_speed(steps_per_s, self.step)

    def request_switch(self, model: str) -> None:
        self.switch_model(model, "forced by the user", {})

    def request_retrain(self) -> bool:
        values = self.telemetry.held("truth")
        values = values[~np.isnan(values)][-self.policy.retrain.window :]
        return self.start_retrain(self.active_model, values.tolist(), "forced by the user", {})

    def apply_policy(self, policy: Policy, text: str, source: str) -> None:
        """Swap in a new policy; it takes effect at the next MAPE cycle."""
        check_models(policy, [m.name for m in self.engine.models()], source, key_locator(text))
        self.loop.apply_policy(policy)
        self.telemetry.hold(self._history(policy))
        self.policy, self.policy_text, self.policy_source = policy, text, source
        self.store.record_policy(self.run_id, self.step, policy.name, text)
        self.event(EventKind.POLICY_CHANGED, {"policy": policy.name, "source": source})
        self._publish()

    # results --------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The run's figures so far."""
        return run_end.summary(self)

    def export_path(self) -> Path:
        return paths.exports_dir(self.settings.data_dir)
