"""The energy ledger: every joule a run's process and its trainer worker spend, by stage.

The **total** is measured, not summed from the parts: the process's CPU time since the ledger
was created plus the trainer worker's CPU time (read from ``/proc/PID/stat`` while it lives),
times the meter's J per CPU-second; with RAPL, the package counters' energy over the same span.
The **stages** are measured where the work happens:

- ``inference``: the CPU time (or RAPL delta) of each predict call, per model and version, as
  the hot path already measures it (:meth:`EnergyLedger.add_inference`, once per batch);
- ``mape``, ``drift``, ``store``, ``frontend``: the calling thread's CPU time inside
  :meth:`EnergyLedger.stage` blocks. Stages nest exclusively: a drift check inside a MAPE cycle
  counts for ``drift`` only. Probes add whole threads' CPU time to a stage (the step writer's
  thread to ``store``, Textual's output and input threads to ``frontend``);
- ``training``: the worker process's CPU time plus that of the trainings run in a thread of this
  process, itemised per version produced (each item is the training's own CPU time, measured in
  the worker or on the training thread; the rest is the worker's start-up). A training in a
  thread is already inside the process's CPU time, so it adds to the stage, not to the total;
- ``startup``: what no stage claimed before the first step (imports, reading the data, loading
  and calibrating the models), fixed by :meth:`EnergyLedger.mark_running`;
- ``other``: what is left of the total. A stage never makes the total larger: attributed stages
  above the total are reported as ``excess_j``, reconciled when within
  :data:`~harmone_tui.ledger_report.RELATIVE_TOLERANCE` of it (or 20 ms of CPU time).

With ``residue_stage`` (the TUI passes ``"frontend"``), the CPU time of the thread that created
the ledger (the event loop's) which no stage claims goes to that stage: in the TUI that thread
is Textual's, rendering and handling input, whenever the runtime is not working on it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from engines.energy import EnergyMeter
from harmone_tui import paths
from harmone_tui.carbon import CarbonFactors
from harmone_tui.carbon import resolve as resolve_carbon
from harmone_tui.ledger_report import (
    IN_WORKER,
    STAGES,
    InferenceItem,
    LedgerReport,
    TrainingItem,
)

if TYPE_CHECKING:
    from harmone_tui.settings import RunSettings
    from harmone_tui.trainer_pool import TrainerPool
    from mape.step_writer import StepWriter

__all__ = [
    "STAGES",
    "EnergyLedger",
    "LedgerReport",
    "process_cpu_s",
    "run_ledger",
    "thread_cpu_clock",
]

TIMED_STAGES = frozenset({"mape", "drift", "store", "frontend"})
Probe = Callable[[], float]  # cumulative CPU-seconds of something, read at each report


def thread_cpu_clock(ident: int | None) -> Callable[[], int] | None:
    """A reader of thread ``ident``'s CPU time in ns, or None where the platform has none."""
    if ident is None or not hasattr(time, "pthread_getcpuclockid"):
        return None
    try:
        clock = time.pthread_getcpuclockid(ident)
        time.clock_gettime_ns(clock)
    except OSError:
        return None
    return lambda: time.clock_gettime_ns(clock)


def process_cpu_s(pid: int, proc: Path = Path("/proc")) -> float | None:
    """User + system CPU time of process ``pid`` from ``/proc/PID/stat``; None if unreadable."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    try:
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    except (IndexError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def thread_probe(thread: threading.Thread) -> Probe | None:
    """CPU-seconds ``thread`` spent since now, as last read while it lived (a thread that ends
    between two reports loses what it spent since the earlier one)."""
    clock = thread_cpu_clock(thread.ident)
    if clock is None:
        return None
    start = clock()
    last = [0.0]

    def read() -> float:
        if thread.is_alive():
            try:
                last[0] = (clock() - start) / 1e9
            except OSError:
                pass
        return last[0]

    return read


class _Open:
    """A stage block in progress on one thread: its name and since when it is charged."""

    __slots__ = ("name", "since")

    def __init__(self, name: str, since: int) -> None:
        self.name, self.since = name, since


class EnergyLedger:
    """Collects the figures of one run; :meth:`report` gives them as a :class:`LedgerReport`."""

    def __init__(
        self,
        meter: EnergyMeter,
        carbon: CarbonFactors,
        residue_stage: str | None = None,
        started_ns: int | None = None,
    ) -> None:
        """``started_ns``: the process CPU clock (``time.process_time_ns``) the run started at;
        default now."""
        if residue_stage is not None and residue_stage not in TIMED_STAGES:
            raise ValueError(f"unknown stage {residue_stage!r}")
        self.meter = meter
        self.carbon = carbon
        self._residue = residue_stage
        self._lock = threading.Lock()
        self._local = threading.local()
        self._timed_ns: dict[str, int] = defaultdict(int)
        self._home = threading.get_ident()
        self._home_clock = thread_cpu_clock(self._home)
        self._home_start = self._home_clock() if self._home_clock else 0
        self._home_claimed_ns = 0
        self._probes: list[tuple[str, Probe]] = []
        self._inference: dict[tuple[str, int], list[float]] = {}
        self._training: list[TrainingItem] = []
        self._worker_pids: Callable[[], Iterable[int]] = lambda: ()
        self._worker_cpu: dict[int, float] = {}
        self._process_start = time.process_time_ns() if started_ns is None else started_ns
        self._rapl_start = meter.read() if meter.source != "estimated" else 0.0
        self._startup: tuple[float, float] | None = None  # (cpu_s, joules) before the 1st step

    # what the run tells the ledger ----------------------------------------------------------
    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Charge the calling thread's CPU time inside the block to ``name``."""
        if name not in TIMED_STAGES:
            raise ValueError(f"{name!r} is not a timed stage ({', '.join(sorted(TIMED_STAGES))})")
        stack: list[_Open] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        now = time.thread_time_ns()
        if stack:
            self._charge(stack[-1], now)
        stack.append(_Open(name, now))
        try:
            yield
        finally:
            now = time.thread_time_ns()
            self._charge(stack.pop(), now)
            if stack:
                stack[-1].since = now

    def _charge(self, block: _Open, now: int) -> None:
        ns = now - block.since
        with self._lock:
            self._timed_ns[block.name] += ns
            if threading.get_ident() == self._home:
                self._home_claimed_ns += ns

    def add_inference(
        self, model: str, version: int, steps: int, cpu_s: float, energy_j: float
    ) -> None:
        """A batch of ``steps`` predictions by ``model`` v``version`` (any thread)."""
        with self._lock:
            row = self._inference.setdefault((model, version), [0, 0.0, 0.0])
            row[0] += steps
            row[1] += cpu_s
            row[2] += energy_j

    def add_training(
        self, model: str, version: int, origin: str, cpu_s: float, where: str = IN_WORKER
    ) -> None:
        """A version trained ``where`` (the worker or in-process), and its training's CPU time."""
        energy = self.meter.joules_for_cpu_seconds(cpu_s)
        with self._lock:
            self._training.append(TrainingItem(model, version, origin, cpu_s, energy, where))

    def add_probe(self, stage: str, probe: Probe) -> None:
        """Charge the CPU-seconds ``probe()`` reports (cumulative) to ``stage``."""
        if stage not in TIMED_STAGES:
            raise ValueError(f"{stage!r} is not a timed stage")
        self._probes.append((stage, probe))

    def watch_thread(self, stage: str, thread: threading.Thread) -> bool:
        """Charge ``thread``'s CPU time from now on to ``stage``; False where it cannot be read."""
        probe = thread_probe(thread)
        if probe is not None:
            self.add_probe(stage, probe)
        return probe is not None

    def watch_workers(self, pids: Callable[[], Iterable[int]]) -> None:
        """Where to find the trainer worker processes (their CPU time is the training stage)."""
        self._worker_pids = pids

    def mark_running(self) -> None:
        """The first step is next: what no stage claimed so far was start-up."""
        if self._startup is None:
            report = self.report()
            self._startup = (report.stages_cpu_s["other"], report.stages_j["other"])

    # the report ------------------------------------------------------------------------------
    def _read_workers(self) -> float:
        for pid in self._worker_pids():
            cpu = process_cpu_s(pid)
            if cpu is not None:
                self._worker_cpu[pid] = max(cpu, self._worker_cpu.get(pid, 0.0))
        return sum(self._worker_cpu.values())

    def report(self) -> LedgerReport:
        """The ledger now (callable during the run: the TUI shows it live)."""
        j_per_cpu_s = self.meter.j_per_cpu_s
        process_cpu = (time.process_time_ns() - self._process_start) / 1e9
        with self._lock:
            timed = {s: self._timed_ns.get(s, 0) / 1e9 for s in TIMED_STAGES}
            home_claimed = self._home_claimed_ns / 1e9
            inference = tuple(
                InferenceItem(m, v, int(r[0]), r[1], r[2])
                for (m, v), r in sorted(self._inference.items())
            )
            training = tuple(self._training)
        for stage, probe in self._probes:
            timed[stage] += probe()
        if self._residue is not None and self._home_clock is not None:
            home = (self._home_clock() - self._home_start) / 1e9
            timed[self._residue] += max(0.0, home - home_claimed)
        in_worker = sum(t.cpu_s for t in training if t.where == IN_WORKER)
        in_process = sum(t.cpu_s for t in training if t.where != IN_WORKER)
        worker_cpu = max(self._read_workers(), in_worker)
        cpu = {
            **timed,
            "inference": sum(i.cpu_s for i in inference),
            "training": worker_cpu + in_process,
        }
        joules = {stage: cpu[stage] * j_per_cpu_s for stage in cpu}
        joules["inference"] = sum(i.energy_j for i in inference)
        if self.meter.source == "estimated":
            total = (process_cpu + worker_cpu) * j_per_cpu_s
        else:
            total = self.meter.read() - self._rapl_start
        cpu["startup"], joules["startup"] = self._startup or (0.0, 0.0)
        attributed = sum(joules.values())
        joules["other"] = max(0.0, total - attributed)
        cpu["other"] = max(0.0, process_cpu + worker_cpu - sum(cpu.values()))
        return LedgerReport(
            source=self.meter.source,
            j_per_cpu_s=j_per_cpu_s,
            total_j=total,
            process_cpu_s=process_cpu,
            worker_cpu_s=worker_cpu,
            stages_j={s: joules[s] for s in STAGES},
            stages_cpu_s={s: cpu[s] for s in STAGES},
            inference=inference,
            training=training,
            excess_j=max(0.0, attributed - total),
            carbon=self.carbon,
        )


def run_ledger(
    settings: RunSettings,
    meter: EnergyMeter,
    pool: TrainerPool,
    step_writer: StepWriter,
    started_ns: int,
) -> EnergyLedger:
    """A run's ledger and what it watches: the trainer worker (training), the step writer's
    thread (store); in the TUI the event loop's thread is the front end's (the residue)."""
    carbon = settings.carbon or resolve_carbon(settings_path=paths.settings_file())
    residue = "frontend" if settings.mode == "tui" else None
    ledger = EnergyLedger(meter, carbon, residue, started_ns)
    ledger.watch_workers(pool.worker_pids)
    pool.on_trained = ledger.add_training
    ledger.add_probe("store", step_writer.cpu_s)
    return ledger
