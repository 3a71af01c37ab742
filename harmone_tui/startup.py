"""A run's start-up: open the store, build the engine, train missing models, load and calibrate.

:func:`open_run` returns every part a runtime needs, complete, or ends the run: however the
start-up ends early (an error, a cancel on a signal), a run already created gets its final status
and summary (the listeners hear it), a training in the worker is ended, and only what was opened
is closed (a cancel's message, ``task.cancel("SIGTERM")``, is kept as the stop reason).
``Runtime.create`` is its one caller: nobody holds a half-built runtime.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from engines.base import Engine, EngineError
from engines.energy import EnergyMeter, create_meter
from engines.registry import create_engine
from harmone_tui import paths
from harmone_tui.announce import Announcer
from harmone_tui.calibration import energy_profile, first_items
from harmone_tui.imports import adopt_imports
from harmone_tui.ledger import EnergyLedger, run_ledger
from harmone_tui.metrics import serve_metrics
from harmone_tui.model_slots import ModelSlots
from harmone_tui.run_end import RunParts, close, ending, summary
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunInfo
from harmone_tui.start_versions import load_start_versions
from harmone_tui.telemetry import Telemetry, history_steps
from harmone_tui.threads import in_thread
from harmone_tui.trainer_pool import TrainerPool
from mape.events import EventKind
from mape.knowledge import KnowledgeStore
from mape.model_repo import ModelRepository, StoredVersion
from mape.policy import Policy, check_models
from mape.policy_file import key_locator
from mape.step_writer import StepWriter

MAX_BATCH = 2000  # steps of one inference batch at most


@dataclass(frozen=True)
class Opened:
    """Every part of a run that started: what ``Runtime`` is built from."""

    parts: RunParts  # every part set (the store, engine, meter, pool, telemetry, run id...)
    store: KnowledgeStore
    repo: ModelRepository
    step_writer: StepWriter
    engine: Engine
    meter: EnergyMeter
    pool: TrainerPool
    telemetry: Telemetry
    slots: ModelSlots
    energy_profile: dict[str, float]
    stored_versions: tuple[StoredVersion, ...]
    info: RunInfo
    ledger: EnergyLedger
    policy_source: str  # the policy's source and text as run (a plug-in may fit the default)
    policy_text: str


def history(policy: Policy, settings: RunSettings) -> int:
    """Steps the telemetry keeps in memory: the policy's windows, a batch, unstored rows."""
    return history_steps(policy) + MAX_BATCH + settings.batch_rows


def cpu_clock(engine: Engine) -> Callable[[], int]:
    """The clock whose CPU time is charged to inference (see ``engines.base.Engine``)."""
    return time.process_time_ns if engine.cpu_clock == "process" else time.thread_time_ns


def charged_j_per_cpu_s(settings: RunSettings, meter: EnergyMeter, model: str) -> float:
    """The coefficient charged to ``model``'s inference on the estimate: a calibration
    profile's per-model figure when per-model measured better, else the meter's."""
    profile = settings.calibration_profile
    return profile.coefficient_for(model) if profile else meter.j_per_cpu_s


def read_energy(engine: Engine, meter: EnergyMeter) -> Callable[[], float]:
    """Joules so far as inference sees them: RAPL, or this thread's CPU time × coefficient."""
    if meter.source != "estimated":
        return meter.read
    clock, j_per_ns = cpu_clock(engine), meter.j_per_cpu_s * 1e-9
    return lambda: clock() * j_per_ns


async def open_run(
    settings: RunSettings, policy: Policy, source: str, text: str, announce: Announcer
) -> Opened:
    """Start a run (see the module docstring); the listeners of ``announce`` hear its progress."""
    parts = RunParts(settings, policy, announce.counters)
    cpu_start_ns = 0 if settings.ledger_from_process_start else time.process_time_ns()
    try:
        return await _open(parts, source, text, announce, cpu_start_ns)
    except BaseException as exc:
        parts.outcome.status, parts.outcome.error = ending(exc, stop_asked=False)
        if isinstance(exc, asyncio.CancelledError) and exc.args:  # task.cancel(reason)
            parts.outcome.stop_reason = str(exc.args[0])
        final = None
        try:
            final = close(parts)
        finally:
            if parts.run_id:
                announce.finished(final if final is not None else summary(parts))
        raise


async def _open(
    parts: RunParts, source: str, text: str, announce: Announcer, cpu_start_ns: int
) -> Opened:
    s, policy = parts.settings, parts.policy
    parts.metrics = serve_metrics(s, announce)  # first: a taken port ends the start-up here
    announce.progress("opening knowledge store")
    root = s.data_dir
    store = parts.store = KnowledgeStore.open(paths.knowledge_file(root))
    repo = parts.repo = ModelRepository(root, store)
    writer = parts.step_writer = StepWriter(store.path)
    repo.clean_leftovers()
    announce.progress("reading data")
    engine = parts.engine = await in_thread(
        lambda: create_engine(s.engine, **s.engine_options(), **paths.engine_dirs(root))
    )
    for note in engine.data_notes:
        announce.progress(note)
    if s.fit_policy and policy.engine != engine.name:
        from harmone_tui.fitted_policy import fitted_policy

        names = [m.name for m in engine.models()]
        policy, text = fitted_policy(text, source, engine.name, names)
        parts.policy = policy
        source = f"{source}, fitted to engine {engine.name}"
    if policy.serving in engine.serving_paths:  # e.g. engines/regression/serving.py
        engine.serving = policy.serving
    if policy.engine != engine.name:
        raise EngineError(f"{source}: policy is for engine {policy.engine!r}, not {engine.name!r}")
    adopt_imports(engine, repo, policy.models, source)
    check_models(policy, [m.name for m in engine.models()], source, key_locator(text))
    for model in policy.models:
        problem = engine.unavailable(model)
        if problem:
            raise EngineError(f"{source}: {problem}")
    xs = await in_thread(first_items, engine, str(s.data or "the bundled sample"))
    meter = parts.meter = create_meter(s.j_per_cpu_s, profile=s.calibration_profile)
    pool = parts.pool = TrainerPool(repo, meter.joules_for_cpu_seconds)
    ledger = parts.ledger = run_ledger(s, meter, pool, writer, cpu_start_ns)
    announce.charge_to(ledger.stage)
    if parts.metrics is not None:
        parts.metrics.watch(ledger)
    length = engine.stream_length()
    limit = length if s.steps is None else min(s.steps, length)
    telemetry = parts.telemetry = Telemetry(limit, tuple(policy.models), history(policy, s))
    run_id = parts.run_id = store.start_run(
        policy.name, engine.name, str(s.data or "bundled sample"), s.describe()
    )
    store.record_policy(run_id, 0, policy.name, text)
    announce.run_created(store, run_id)
    slots = ModelSlots(engine, repo, policy.start_model, announce.event)
    versions = await load_start_versions(
        engine,
        pool,
        list(policy.models),
        announce.progress,
        lambda detail: announce.event(EventKind.ERROR, detail),
        run_id,
    )
    for model, start in versions.items():
        slots.start(model, start.stored.version, start.loaded)
    predicts = {m: slots.model(m).predict for m in policy.models}
    profile = await in_thread(energy_profile, predicts, xs, read_energy(engine, meter), s.engine)
    if meter.source == "estimated":  # measured at the meter's coefficient: per model
        profile = {
            m: uj * charged_j_per_cpu_s(s, meter, m) / meter.j_per_cpu_s
            for m, uj in profile.items()
        }
    parts.energy_profile = profile
    row = store.run(run_id)
    info = RunInfo(
        run_id=run_id,
        started_at=row.started_at if row is not None else time.time(),
        total=telemetry.total,
        models=telemetry.models,
        engine=engine.name,
        engine_models=tuple(m.name for m in engine.models()),
        quality_metric=engine.quality_metric,
        quality=engine.quality,
        data_name=s.data.name if s.data else "bundled sample",
        energy_source=meter.source,
        j_per_cpu_s=meter.j_per_cpu_s,
        telemetry=telemetry,
        calibrated=s.calibration_profile is not None,
    )
    stored = tuple(repo.versions(engine.name))
    return Opened(
        parts,
        store,
        repo,
        writer,
        engine,
        meter,
        pool,
        telemetry,
        slots,
        profile,
        stored,
        info,
        ledger,
        source,
        text,
    )
