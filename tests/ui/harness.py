"""Deterministic runs for UI tests and snapshots: the fake engine, a fixed meter, a frozen clock.

``frozen(monkeypatch)`` replaces what makes a run differ between two executions: the energy meter
(a fixed cost per read), the runtime's perf/process clocks (a fixed tick per call), the wall clock
of the knowledge store and model repository (a fixed instant), and the time zone (UTC). A scripted
run then drives the real Runtime over the fake engine with adaptations injected at fixed steps,
and a loop status that is a pure function of the step, so snapshots do not change when the MAPE
logic does.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import time as real_time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from engines.base import TrainRequest
from engines.fake import create_fake_engine, train_fake
from harmone_tui.actions import ActionQueue, ReuseVersion, SwitchTo
from harmone_tui.settings import RunSettings
from harmone_tui.ui.session import RunSession
from mape.knowledge import KnowledgeStore
from mape.loop import LoopStatus
from mape.model_repo import ModelRepository
from mape.policy_file import parse_policy

FROZEN_EPOCH = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC
FAKE_POLICY = """\
# fake-demo: three fake models, adaptation off (tests script it), for stable screens.
name = "fake-demo"
engine = "fake"
models = ["fast", "balanced", "accurate"]
start_model = "balanced"
seed = 7

[switch]
enabled = false   # the MAPE loop stays quiet: scripted events only
min_score = 0.78

[drift]
enabled = true
threshold = 0.75
"""


class FixedMeter:
    """An energy meter whose every read costs the same: energy per inference is constant."""

    source = "estimated"
    detail = "fixed test meter"
    j_per_cpu_s = 1.54

    def __init__(self) -> None:
        self._j = 0.0

    def read(self) -> float:
        self._j += 1.25e-4
        return self._j

    def joules_for_cpu_seconds(self, cpu_s: float) -> float:
        return cpu_s * self.j_per_cpu_s


def _ticking() -> SimpleNamespace:
    """A stand-in for the ``time`` module whose clocks advance a fixed amount per call."""
    state = {"ns": 0}

    def tick_ns() -> int:
        state["ns"] += 40_000
        return state["ns"]

    return SimpleNamespace(
        perf_counter_ns=tick_ns,
        process_time_ns=tick_ns,
        thread_time_ns=tick_ns,
        perf_counter=lambda: tick_ns() / 1e9,
        time=lambda: FROZEN_EPOCH,
        sleep=real_time.sleep,
    )


def frozen(monkeypatch: Any) -> None:
    """Make runs deterministic (see the module docstring)."""
    import harmone_tui.inference as inference_module
    import harmone_tui.runtime as runtime_module
    import mape.knowledge as knowledge_module
    import mape.model_repo as repo_module

    monkeypatch.setattr(runtime_module, "create_meter", lambda *_a, **_k: FixedMeter())
    ticking = _ticking()  # one clock shared by the runtime and its hot path
    monkeypatch.setattr(runtime_module, "time", ticking)
    monkeypatch.setattr(inference_module, "time", ticking)
    frozen_wall = SimpleNamespace(time=lambda: FROZEN_EPOCH)
    monkeypatch.setattr(knowledge_module, "time", frozen_wall)
    monkeypatch.setattr(repo_module, "time", frozen_wall)
    monkeypatch.setenv("TZ", "UTC")
    real_time.tzset()


def seed_fake_models(root: Path) -> None:
    """Store v1 of every fake model in ``root`` in-process (no trainer process to spawn)."""
    import mape.model_repo as repo_module

    saved, repo_module.time = repo_module.time, SimpleNamespace(time=lambda: FROZEN_EPOCH)  # type: ignore[assignment]
    try:
        _seed(root)
    finally:
        repo_module.time = saved  # type: ignore[assignment]


def _seed(root: Path) -> None:
    engine = create_fake_engine()
    store = KnowledgeStore.open(root / "knowledge.sqlite3")
    repo = ModelRepository(root, store)
    for spec in engine.models():
        data = engine.initial_training_data(spec.name)
        staging = repo.staging_dir(engine.name, spec.name)
        result = train_fake(TrainRequest(engine.name, spec.name, data, staging))
        meta = {
            **result.meta,
            "data_summary": engine.summarise(data).to_dict(),
            "train_cpu_s": result.cpu_s,
            "train_energy_j": result.cpu_s * 1.54,
        }
        repo.commit(engine.name, spec.name, staging, meta, "first use", None)
    store.close()


def copy_template(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def fake_session(
    data_dir: Path, speed: float | None = None, steps: int | None = None
) -> RunSession:
    """A session over the fake engine with the fake-demo policy."""
    policy = parse_policy(FAKE_POLICY, "test policy fake-demo")
    settings = RunSettings(data_dir=data_dir, engine="fake", speed=speed, steps=steps)
    return RunSession(settings, policy, "test policy fake-demo", FAKE_POLICY)


@dataclass(frozen=True)
class Record:
    """A scripted event at a fixed step (what the MAPE loop would record)."""

    step: int
    kind: str
    detail: dict[str, Any]


class ScriptedQueue(ActionQueue):
    """The runtime's action queue, which also records the scripted events at their steps
    (a batch ends at each of them, as at an action)."""

    def __init__(self, runtime: Any, items: list[Any]) -> None:
        super().__init__()
        self.runtime = runtime
        self.records = [r for r in items if isinstance(r, Record)]
        for action in items:
            if not isinstance(action, Record):
                self.add(action)

    def next_step(self, default: int) -> int:
        return min([super().next_step(default), *(r.step for r in self.records)])

    def due(self, step: int) -> list[Any]:
        for record in [r for r in self.records if r.step <= step]:
            self.records.remove(record)
            self.runtime.event(record.kind, record.detail)
        return super().due(step)


def script() -> list[Any]:
    """The adaptations of the scripted run, at fixed steps near its end (where the chart looks)."""
    return [
        Record(
            1210, "drift", {"statistic": 0.91, "threshold": 0.75, "reason": "KL over threshold"}
        ),
        SwitchTo(1640, "fast", "EMA 0.74 < 0.78", {"ema": 0.74}),
        Record(
            1700, "drift", {"statistic": 0.88, "threshold": 0.75, "reason": "KL over threshold"}
        ),
        Record(1701, "retrain_started", {"model": "fast", "reason": "drift", "swap_step": 1760}),
        Record(
            1760,
            "retrain_done",
            {
                "model": "fast",
                "version": 2,
                "reason": "drift",
                "train_cpu_s": 0.42,
                "train_energy_j": 0.65,
                "validation_r2": 0.912,
            },
        ),
        SwitchTo(1820, "accurate", "EMA 0.71 < 0.78", {"ema": 0.71}),
        ReuseVersion(1900, "balanced", 1, "drift distance 0.12 < 0.75", {"distance": 0.12}),
    ]


def scripted_status(runtime: Any) -> LoopStatus:
    """A loop status that depends only on the step (drift statistic and EMAs)."""
    step = runtime.step
    return LoopStatus(
        step=step,
        active_model=runtime.active_model,
        active_version=runtime.current_version(runtime.active_model),
        quality=0.8 + 0.1 * math.sin(step / 150),
        ema={"fast": 0.7 + 0.05 * math.sin(step / 200), "balanced": 0.8, "accurate": 0.86},
        e_norm={"fast": 0.2, "balanced": 0.5, "accurate": 1.0},
        drift_statistic=round(0.4 + 0.45 * math.sin(step / 97) ** 2, 3),
        drift_threshold=0.75,
    )


def run_scripted(data_dir: Path) -> RunSession:
    """Run the whole fake stream at max speed with the script; return the finished session."""
    session = fake_session(data_dir)

    def inject(runtime: Any) -> None:
        runtime.loop.status = lambda: scripted_status(runtime)
        runtime.actions = ScriptedQueue(runtime, script())

    session.after_prepare = inject
    asyncio.run(session.start())
    assert session.state == "finished", session.error
    return session
