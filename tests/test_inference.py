"""The hot path: chunks of calls cover every step in order, each model is charged exactly its own
chunks, and chunking changes no prediction and no decision of a run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from engines.regression.factory import create_regression_engine
from engines.regression.serving import LastValue
from harmone_tui.inference import (
    ArraySource,
    ChunkSizer,
    IteratorSource,
    run_batch,
    step_source,
)
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunSnapshot
from mape.policy_file import parse_policy
from tests.listening import OnSnapshot
from tests.mape.helpers import TIMING_KEYS
from tests.running import NewRun

SWITCHING = """
name = "switching"
engine = "regression"
models = ["linear", "svm", "naive"]
start_model = "naive"
seed = 7
[score]
beta = 1.0
initial = { linear = 0.75, svm = 0.79, naive = 0.5 }
[switch]
every_steps = 100
window_steps = 100
min_score = 0.9
explore = 0.2
energy_budget = 1.0
min_dwell_steps = 100
[drift]
enabled = false
[retrain]
every_steps = 0
"""


def test_the_array_source_gives_the_steps_of_the_iterated_stream() -> None:
    engine = create_regression_engine(None)
    arrays, iterated = step_source(engine), IteratorSource(engine.samples())
    assert isinstance(arrays, ArraySource)
    for n in (1, 7, 500, 10**6):
        a, b = arrays.take(n), iterated.take(n)
        assert len(a[0]) == len(b[0]) > 0
        assert np.array_equal(np.asarray(a[0]), np.asarray(b[0]))
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    assert len(arrays.take(5)[0]) == len(iterated.take(5)[0]) == 0


def test_chunks_cover_every_step_in_order_and_grow_for_fast_calls() -> None:
    engine = create_regression_engine(None)
    naive = LastValue("naive", 1)
    figures = run_batch(step_source(engine), naive.predict, 5000, None, lambda: 0)
    xs = [s.x for _, s in zip(range(5000), engine.samples(), strict=False)]
    assert figures.predictions == [float(x[-1]) for x in xs]
    assert sum(figures.chunk_steps) == figures.steps == 5000
    assert len(figures.chunk_steps) == len(figures.chunk_wall_ns) == len(figures.chunk_cpu_ns)
    assert figures.chunk_steps[0] == 1 and max(figures.chunk_steps) > 100


def test_a_chunk_doubles_at_most_and_a_slow_call_runs_alone() -> None:
    sizer = ChunkSizer(target_ns=1_000_000)
    key = LastValue("naive", 1).predict
    assert sizer.size(key) == 1
    sizer.update(key, 1, 400)  # a 0.4 µs call: could fit 2,500, grows to 2
    assert sizer.size(key) == 2
    sizer.update(key, 2000, 800_000)
    assert sizer.size(key) == 2500
    sizer.update(key, 2500, 5_000_000)  # the machine got slower: back under the target
    assert sizer.size(key) == 500
    sizer.update(key, 1, 30_000_000)  # a 30 ms call
    assert sizer.size(key) == 1


def test_a_stop_is_seen_between_chunks() -> None:
    engine = create_regression_engine(None)
    asked = []

    def stopping() -> bool:
        asked.append(1)
        return len(asked) > 3

    figures = run_batch(
        step_source(engine), LastValue("naive", 1).predict, 5000, None, lambda: 0, stopping
    )
    assert len(figures.chunk_steps) == 3 and figures.steps == sum(figures.chunk_steps) < 5000


class CountingClock:
    """A CPU clock that advances only by what each model's calls are declared to cost, so the
    figures charged to each step are known exactly."""

    def __init__(self) -> None:
        self.ns = 0

    def read(self) -> int:
        return self.ns


class Charged:
    """A loaded model whose calls advance ``clock`` by ``cost_ns`` each (the real predict runs)."""

    def __init__(self, model: Any, clock: CountingClock, cost_ns: int) -> None:
        self.name, self.version = model.name, model.version
        self._predict, self._clock, self.cost_ns = model.predict, clock, cost_ns

    def predict(self, x: Any) -> float:
        self._clock.ns += self.cost_ns
        return self._predict(x)


def test_each_model_is_charged_exactly_its_own_calls_across_switches(tmp_path: Path) -> None:
    """Two forced switches mid-run: every step's CPU time and energy is its own model's cost,
    never a chunk shared with the other model (a batch ends at every switch)."""
    text = SWITCHING.replace("[switch]\n", "[switch]\nenabled = false\n")
    policy = parse_policy(text, "test policy")
    run = NewRun(RunSettings(data_dir=tmp_path, steps=3000, j_per_cpu_s=2.0), policy, "test", text)
    clock = CountingClock()
    costs = {"naive": 1000, "linear": 7000, "svm": 50_000}
    switches = {1234: "linear", 2001: "svm"}

    def listen(snap: RunSnapshot) -> None:
        for at, model in list(switches.items()):
            if snap.step >= at:
                run.request_switch(model)
                del switches[at]

    run.listeners.append(OnSnapshot(listen))

    async def scenario() -> dict:
        runtime = await run.prepare()
        for key, model in list(runtime.slots.loaded.items()):
            runtime.slots.loaded[key] = Charged(model, clock, costs[key[0]])
        runtime._cpu_clock = lambda: clock.read
        return await runtime.run()

    summary = asyncio.run(scenario())
    runtime = run.runtime
    assert runtime is not None
    assert summary["steps"] == 3000 and not switches
    steps = runtime.store.steps(runtime.run_id)
    assert [s.model for s in steps].count("naive") >= 1234
    assert {s.model for s in steps} == {"naive", "linear", "svm"}
    for s in steps:
        assert s.cpu_ms == costs[s.model] / 1e6
        assert s.energy_mj == costs[s.model] / 1e6 * 2.0
    total_ns = sum(costs[s.model] for s in steps)
    assert clock.ns - total_ns == 0  # no call outside the run's steps was charged


def _run(tmp_path: Path, sizer: ChunkSizer) -> tuple[list[tuple], np.ndarray]:
    policy = parse_policy(SWITCHING, "test policy")
    run = NewRun(RunSettings(data_dir=tmp_path, steps=4000), policy, "test", SWITCHING)

    async def scenario() -> dict:
        runtime = await run.prepare()
        runtime._chunks = sizer
        return await runtime.run()

    asyncio.run(scenario())
    runtime = run.runtime
    assert runtime is not None
    events = [
        (e.step, e.kind, {k: v for k, v in e.detail.items() if k not in TIMING_KEYS})
        for e in runtime.store.events(runtime.run_id)
    ]
    predictions = np.array([s.prediction for s in runtime.store.steps(runtime.run_id)])
    return events, predictions


def test_chunking_changes_no_prediction_and_no_decision(tmp_path: Path) -> None:
    """The same policy on the same stream, every call measured alone (chunks of one, as before
    chunks) and in chunks: the same predictions and the same events at the same steps."""
    alone = _run(tmp_path / "alone", ChunkSizer(target_ns=0))
    chunked = _run(tmp_path / "chunked", ChunkSizer())
    assert any(kind == "switch" for _, kind, _ in alone[0])
    assert alone[0] == chunked[0]
    assert np.array_equal(alone[1], chunked[1])
