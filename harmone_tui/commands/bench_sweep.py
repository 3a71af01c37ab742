"""The work of `harmone bench`: one task per policy × scenario × seed, plus one oracle task per
scenario, run in a local process pool or on Ray.

Every task is a plain picklable value and :func:`run_task` a top-level function, so a pool worker
and a Ray worker run exactly the same code on exactly the same input: the same seeds give the
same table either way (energy and wall time aside: they are measured). A run task copies the
first versions (trained once into ``runs/_base`` by ``harmone compare``'s bootstrap) into its own
data directory, as compare does, and runs the policy headless there, with the policy's seed
moved by the repeat number.
"""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harmone_tui.bench_scenarios import BenchError, Scenario
from harmone_tui.settings import RunSettings
from mape.policy import Policy

PROBE_TIMEOUT_S = 5.0  # a Ray address must answer a TCP connect within this


@dataclass(frozen=True)
class RunTask:
    """One headless run of a policy on a scenario with one seed."""

    scenario: str
    policy: Any  # mape.policy.Policy, its seed already set for this repeat
    source: str
    text: str
    repeat: int
    base: Path
    run_dir: Path
    settings: RunSettings


@dataclass(frozen=True)
class OracleTask:
    """Per-step predictions of every model's first version on a scenario."""

    scenario: str
    versions: tuple[tuple[str, int, Path], ...]  # (model, version, directory)
    window: int
    settings: RunSettings


Task = RunTask | OracleTask


def run_tasks(
    scenarios: Sequence[Scenario],
    entries: Sequence[Any],
    repeats: int,
    runs: Path,
    settings: RunSettings,
) -> list[RunTask]:
    """Every policy × scenario × repeat; repeat ``r`` runs with the policy's seed + ``r``."""
    base = runs / "_base"
    tasks = []
    for scenario in scenarios:
        for entry in entries:
            for r in range(repeats):
                policy = replace(entry.policy, seed=entry.policy.seed + r)
                folder = runs / scenario.name / f"{policy.name}-seed{policy.seed}"
                tasks.append(
                    RunTask(
                        scenario.name,
                        policy,
                        entry.source,
                        entry.text,
                        r,
                        base,
                        folder,
                        replace(settings, data=scenario.path, data_dir=folder, speed=None),
                    )
                )
    return tasks


def run_task(task: Task) -> dict[str, Any]:
    """Run one task (in whatever process it lands in) and return its figures."""
    if isinstance(task, OracleTask):
        from harmone_tui.bench_oracle import oracle_figures

        return {"scenario": task.scenario, "oracle": oracle_figures(task)}
    from harmone_tui.commands.compare import Entry, run_one

    task.run_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(task.base, task.run_dir)
    label = f"{task.scenario} {task.policy.name} seed {task.policy.seed}"
    row = run_one(task.settings, Entry(task.policy, task.source, task.text), label, sys.stderr)
    steps = int(row.get("steps") or 0)
    row.update(
        scenario=task.scenario,
        seed=task.policy.seed,
        fixed=is_fixed(task.policy),
        repeat=task.repeat,
        energy_j=run_energy_j(row),
        inference_j=float(row.get("energy_j_per_inference") or 0.0) * steps,
    )
    return row


def is_fixed(policy: Policy) -> bool:
    """A policy that never changes the running model nor acts on a drift (a periodic retrain is
    a schedule, not an adaptation): a candidate for the best fixed policy in hindsight."""
    switches = policy.switch.enabled and len(policy.models) > 1
    acts_on_drift = policy.drift.enabled and policy.drift.on_drift not in ("alert", "ignore")
    return not switches and not acts_on_drift


def run_energy_j(row: dict[str, Any]) -> float:
    """What a run cost: the ledger's total after start-up (inference, retraining, MAPE cycles,
    drift checks, the store). Start-up (loading models and their frameworks, once per worker
    process) is left out: it says more about which task a worker ran first than about a policy.

    >>> run_energy_j({"energy_j_total": 0.5, "energy_j_startup": 0.2})
    0.3
    """
    return max(
        0.0, float(row.get("energy_j_total") or 0.0) - float(row.get("energy_j_startup") or 0.0)
    )


Done = Callable[[int, dict[str, Any]], None]


def run_local(tasks: Sequence[Task], jobs: int, done: Done) -> list[dict[str, Any]]:
    """Run ``tasks`` in ``jobs`` worker processes (spawned: TensorFlow and threads stay sane);
    ``done(index, result)`` is called as each ends. Results in task order."""
    import multiprocessing

    results: list[dict[str, Any] | None] = [None] * len(tasks)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {pool.submit(run_task, t): i for i, t in enumerate(tasks)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            done(i, results[i])
    return [r for r in results if r is not None]


def connect_ray(address: str | None) -> Any:
    """The ``ray`` module, joined to the instance at ``address`` (None: ``RAY_ADDRESS`` or a new
    local instance) unless this process already is; a BenchError if Ray is missing or away."""
    try:
        import ray
    except ImportError:
        raise BenchError(
            "--ray needs Ray, which is not installed",
            hint="pip install 'harmone-tui[ray]'",
        ) from None
    if not ray.is_initialized():
        if address:
            _probe(address)
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise BenchError(f"--ray {address or ''}: cannot reach Ray ({exc})") from None
    return ray


def _probe(address: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Refuse a ``HOST:PORT`` (or ``ray://HOST:PORT``) where nothing answers: ``ray.init`` would
    retry such an address without end. Other forms (``auto``, ``local``) are Ray's to resolve."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise BenchError(
            f"--ray {address}: nothing answers at {host}:{port} ({exc})",
            hint="start the cluster (ray start --head) or give its address",
        ) from None


def run_ray(tasks: Sequence[Task], address: str | None, done: Done) -> list[dict[str, Any]]:
    """Run ``tasks`` on Ray (:func:`connect_ray`; an instance joined here is left at the end).
    The workers must see the same files (scenarios, ``--out``) at the same paths: a shared file
    system, or one machine."""
    started = not _ray_initialized()
    ray = connect_ray(address)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
        refs = [remote.remote(t) for t in tasks]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list[dict[str, Any] | None] = [None] * len(tasks)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            i = index[ready[0]]
            results[i] = ray.get(ready[0])
            done(i, results[i])
        return [r for r in results if r is not None]
    finally:
        if started:
            ray.shutdown()


def _ray_initialized() -> bool:
    try:
        import ray
    except ImportError:
        return False
    return bool(ray.is_initialized())
