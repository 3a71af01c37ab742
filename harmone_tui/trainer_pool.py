"""Training model versions in a worker process, so inference and the UI never wait on it.

The worker is a ``spawn`` process (forking a process that has loaded TensorFlow or torch is
unsafe), kept alive between trainings and started on first use. A model the engine says trains
cheaply (:meth:`engines.base.Engine.trains_in_process`) trains in a thread of this process
instead: spawning a process and importing its framework there costs about a CPU-second, a
thousand times a Ridge fit on a retraining window. Either way the trainer writes into a staging
directory; the version is committed (renamed into place, recorded in the store) on the event
loop only when training succeeded, so a failed or interrupted training leaves nothing
half-written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from engines.base import Engine, TrainRequest, TrainResult
from harmone_tui import paths
from harmone_tui.ledger_report import IN_PROCESS, IN_WORKER
from mape.model_repo import ModelRepository, StoredVersion
from mape.train_lock import TrainingLock

T = TypeVar("T")
PARENT_POLL_S = 0.5
EXIT_PARENT_GONE = 3
LOCK_POLL_S = 1.0
LOCK_REPORT_S = 10.0


@dataclass(frozen=True)
class TrainedVersion:
    """A committed version and what its training cost."""

    stored: StoredVersion
    cpu_s: float
    energy_j: float
    where: str = IN_WORKER  # IN_PROCESS or IN_WORKER


class TrainerPool:
    """One long-lived worker process that trains model versions."""

    def __init__(
        self,
        repo: ModelRepository,
        joules_for_cpu_seconds: Callable[[float], float],
    ) -> None:
        self.repo = repo
        self._joules = joules_for_cpu_seconds
        self._executor: ProcessPoolExecutor | None = None
        self.log_path = paths.trainer_log(repo.root)
        # told of every committed version: (model, version, origin, training CPU-seconds, where)
        self.on_trained: Callable[[str, int, str, float, str], None] | None = None

    def worker_pids(self) -> list[int]:
        """The worker processes alive now (the energy ledger reads their CPU time)."""
        processes = (getattr(self._executor, "_processes", None) or {}).values()
        return [p.pid for p in processes if p.pid is not None]

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            ctx = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=ctx,
                initializer=_start_worker,
                initargs=(str(self.log_path), os.getpid()),
            )
        return self._executor

    async def train(
        self,
        engine: Engine,
        model: str,
        data: Any,
        reason: str,
        run_id: int | None,
        params: dict[str, Any] | None = None,
        seed: int = 7,
        extra_meta: dict[str, Any] | None = None,
    ) -> TrainedVersion:
        """Train ``model`` on ``data`` (in a thread or in the worker, as the engine says) and
        commit it as the next version."""
        staging = self.repo.staging_dir(engine.name, model)
        request = TrainRequest(engine.name, model, data, staging, dict(params or {}), seed)
        where = IN_PROCESS if engine.trains_in_process(model) else IN_WORKER
        try:
            if where == IN_PROCESS:
                result = await asyncio.to_thread(train_in_thread, engine.trainer(), request)
            else:
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._pool(), engine.trainer(), request)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        energy_j = self._joules(result.cpu_s)
        meta = {
            **result.meta,
            **(extra_meta or {}),
            "data_summary": engine.summarise(data).to_dict(),
            "train_cpu_s": result.cpu_s,
            "train_energy_j": energy_j,
            "trained_in": where,
        }
        stored = self.repo.commit(engine.name, model, staging, meta, reason, run_id)
        if self.on_trained is not None:
            origin = str(meta.get("origin", "first use" if reason == "first use" else reason))
            self.on_trained(model, stored.version, origin, result.cpu_s, where)
        return TrainedVersion(stored, result.cpu_s, energy_j, where)

    def close(self, wait: bool = False) -> None:
        """Let the worker go; ``wait``: until it has exited (and its CPU time is the caller's)."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None

    def terminate(self) -> None:
        """Stop a training in progress now (quitting must not wait tens of seconds for it).

        The half-trained version stays in its staging directory, removed at the next start.
        """
        executor = self._executor
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        self.close()
        for process in processes:
            if process.is_alive():
                process.terminate()


def train_in_thread(
    trainer: Callable[[TrainRequest], TrainResult], request: TrainRequest
) -> TrainResult:
    """Run ``trainer`` on the calling thread; its CPU time is this thread's, around the call.

    The trainer's own ``cpu_s`` is its process clock, which in this process also counts the
    inference and UI threads working meanwhile.
    """
    started = time.thread_time()
    result = trainer(request)
    return dataclasses.replace(result, cpu_s=time.thread_time() - started)


def _start_worker(log_path: str, parent_pid: int) -> None:
    """Worker initializer: output to the log, and exit when the parent is gone."""
    _send_output_to(log_path)
    _exit_with_parent(parent_pid)


def _send_output_to(log_path: str) -> None:
    """The worker's stdout/stderr (TensorFlow and Ultralytics chatter) go to a log file, never
    to the terminal, where they would scribble over the TUI."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _exit_with_parent(parent_pid: int, every_s: float = PARENT_POLL_S) -> None:
    """Watch the parent from a daemon thread and end this worker as soon as it is gone.

    When the main process dies (kill -9, OOM) a busy worker is re-parented and would train on,
    holding its memory (1.4 GB with TensorFlow) forever; multiprocessing's resource tracker, whose
    pipe the worker keeps open, would stay too. A re-parented process has another parent pid, so
    polling ``getppid`` catches every way the parent can die. (``PR_SET_PDEATHSIG`` would be
    quicker, but it fires when the *thread* that started the worker ends, which is not the
    process ending.) The thread sleeps between polls and needs the GIL only for a moment; the
    frameworks' training loops release it.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(EXIT_PARENT_GONE)

    threading.Thread(target=watch, name="harmone-parent-watch", daemon=True).start()


async def ensure_models(
    engine: Engine,
    pool: TrainerPool,
    models: list[str],
    on_progress: Callable[[str], None],
    run_id: int | None = None,
) -> dict[str, StoredVersion]:
    """The version each model starts a run with, training a first version of any that has none.

    That is the latest *base* version (trained on first use, bootstrapped or imported), not a
    version an earlier run retrained on drifted data: every run starts from the same models,
    so runs are comparable and replayable, and reuse brings retrained versions back when their
    data regime returns.
    """
    out: dict[str, StoredVersion] = {}
    missing = [m for m in models if base_version(pool.repo, engine.name, m) is None]
    for model in models:
        latest = base_version(pool.repo, engine.name, model)
        if latest is None:
            count = f"{missing.index(model) + 1}/{len(missing)}" if model in missing else "1/1"
            latest = await train_first_version(engine, pool, model, on_progress, run_id, count)
        out[model] = latest
    return out


async def train_first_version(
    engine: Engine,
    pool: TrainerPool,
    model: str,
    on_progress: Callable[[str], None],
    run_id: int | None = None,
    count: str = "1/1",
) -> StoredVersion:
    """Train ``model``'s first-use version, unless another process sharing the data directory
    is training it: then wait for that one (saying so) and use the version it commits."""
    lock = TrainingLock(pool.repo.models_root / engine.name / model)
    waited = 0.0
    while not lock.try_acquire():
        if waited % LOCK_REPORT_S == 0:
            on_progress(
                f"waiting for another harmone run ({lock.holder()}) to finish training {model}"
                " on first use in this data directory"
            )
        await asyncio.sleep(LOCK_POLL_S)
        waited += LOCK_POLL_S
    try:
        found = base_version(pool.repo, engine.name, model)
        if found is not None and waited:
            on_progress(f"using {model} v{found.version}, trained by the other run")
            return found
        if found is not None:
            return found
        upcoming = pool.repo.store.max_version(engine.name, model) + 1
        label = f"training {model} v{upcoming} on first use ({count})"
        on_progress(label)
        data = engine.initial_training_data(model)
        trained = await with_ticker(
            pool.train(engine, model, data, "first use", run_id), label, on_progress
        )
        on_progress(f"trained {model} v{trained.stored.version} in {trained.cpu_s:.1f} CPU-s")
        return trained.stored
    finally:
        lock.release()


def base_version(repo: ModelRepository, engine: str, model: str) -> StoredVersion | None:
    """The latest version of ``model`` that no run's adaptation created."""
    bases = [v for v in repo.versions(engine, model) if v.meta.get("origin") != "retrain"]
    return bases[-1] if bases else None


async def with_ticker(
    work: Awaitable[T], label: str, on_progress: Callable[[str], None], every_s: float = 5.0
) -> T:
    """Await ``work``, reporting the elapsed time every ``every_s`` seconds: it never looks hung."""
    task = asyncio.ensure_future(work)
    started = time.monotonic()
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every_s)
            if done:
                return task.result()
            on_progress(f"{label}: {time.monotonic() - started:.0f} s")
    finally:
        task.cancel()
