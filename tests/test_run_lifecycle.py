"""How a run ends: short streams, pacing that follows the speed, every end leaves a final status.

In-process over the fake engine (instant, seeded) with a real knowledge store and real model
files. Every await is bounded, so a run that would hang fails the test instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import harmone_tui.start_versions as start_versions
import harmone_tui.startup as startup_module
from engines.base import EngineError
from engines.fake import FakeEngine, synthetic_stream
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunSnapshot
from mape.knowledge import KnowledgeStore
from mape.policy_file import parse_policy
from tests.listening import OnSnapshot
from tests.running import NewRun
from tests.ui.harness import FAKE_POLICY, seed_fake_models

BOUND_S = 30.0  # no step of these runs takes more than a fraction of this: a hang fails


@pytest.fixture(scope="module")
def fake_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-models")
    seed_fake_models(root)
    return root


@pytest.fixture
def data_dir(fake_template: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(fake_template, tmp_path / "data"))


def fake_runtime(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    rows: int = 66,
    unusable: frozenset[int] = frozenset(),
    speed: float | None = None,
    steps: int | None = None,
) -> NewRun:
    """A runtime over a fake stream of ``rows - 5`` items, of which ``unusable`` cannot be read."""
    engine = FakeEngine(synthetic_stream(rows), unusable=unusable)
    monkeypatch.setattr(startup_module, "create_engine", lambda *_a, **_k: engine)
    policy = parse_policy(FAKE_POLICY, "test policy")
    settings = RunSettings(data_dir=data_dir, engine="fake", speed=speed, steps=steps)
    return NewRun(settings, policy, "test policy", FAKE_POLICY)


def run_bounded(runtime: NewRun) -> dict[str, Any]:
    async def scenario() -> dict[str, Any]:
        return await asyncio.wait_for(runtime.run(), BOUND_S)

    return asyncio.run(scenario())


def stored_status(runtime: NewRun) -> list[str]:
    store = KnowledgeStore.open(runtime.settings.data_dir / "knowledge.sqlite3")
    try:
        return [r.status for r in store.runs()]
    finally:
        store.close()


# item 1: a stream shorter than stream_length() ---------------------------------------------------
@pytest.mark.parametrize("unusable", [{58, 59, 60}, {0}, {0, 30, 60}])
def test_a_stream_shorter_than_promised_ends_when_it_ends(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, unusable: set[int]
) -> None:
    runtime = fake_runtime(data_dir, monkeypatch, unusable=frozenset(unusable))
    assert runtime.settings.steps is None
    summary = run_bounded(runtime)
    assert summary["status"] == "finished"
    assert summary["steps"] == 61 - len(unusable)
    skipped = runtime.store.events(runtime.run_id, ["error"])
    assert sorted(e.detail["file"] for e in skipped) == sorted(f"item {i}" for i in unusable)
    assert stored_status(runtime) == ["finished"]


def test_a_short_stream_shorter_than_the_calibration_still_runs(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calibration wants 30 items; a stream promising 20 delivers 17."""
    runtime = fake_runtime(data_dir, monkeypatch, rows=25, unusable=frozenset({0, 9, 19}))
    summary = run_bounded(runtime)
    assert summary["status"] == "finished" and summary["steps"] == 17


def test_a_stream_with_no_usable_item_is_refused_before_a_run_is_created(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = fake_runtime(data_dir, monkeypatch, rows=12, unusable=frozenset(range(7)))
    with pytest.raises(EngineError, match=r"no usable item.*7 skipped.*item 0: unusable"):
        run_bounded(runtime)
    assert stored_status(runtime) == []


# item 4: pacing follows every speed change at once -----------------------------------------------
ACT_AFTER_S = 0.3  # controls come from the UI while the runtime sleeps, not inside a batch


def _paced(
    runtime: NewRun, at_step: int, act: Callable[[], None], then_steps: int
) -> tuple[float, float, dict[str, Any]]:
    """Run; ``act`` a moment after ``at_step``; stop ``then_steps`` steps after the first batch
    that follows ``act`` (the batch in flight then was sized at the old speed).

    Returns (seconds from ``act`` to the stop, steps/s after that first batch, summary).
    """
    marks: dict[str, float] = {}

    def acting() -> None:
        marks["acted"] = time.perf_counter()
        act()

    def listen(snap: RunSnapshot) -> None:
        step, now = snap.step, time.perf_counter()
        if "scheduled" not in marks and step >= at_step:
            marks["scheduled"] = step
            asyncio.get_running_loop().call_later(ACT_AFTER_S, acting)
        elif "acted" in marks and "from" not in marks:
            marks["from"], marks["from_t"] = step, now
        elif "from" in marks and step >= marks["from"] + then_steps and "stopped" not in marks:
            marks["stopped"], marks["to"] = now, step
            runtime.stop()

    runtime.listeners.append(OnSnapshot(listen))
    summary = run_bounded(runtime)
    rate = (marks["to"] - marks["from"]) / (marks["stopped"] - marks["from_t"])
    return marks["stopped"] - marks["acted"], rate, summary


def test_slowing_down_paces_the_next_steps_at_the_new_speed(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 1000/s for ~300 steps, then 10/s: the old anchor made the next step wait ~30 s."""
    runtime = fake_runtime(data_dir, monkeypatch, rows=2000, speed=1000)
    elapsed, rate, summary = _paced(runtime, 1, lambda: runtime.set_speed(10), then_steps=6)
    assert summary["status"] == "stopped"
    assert elapsed < BOUND_S / 3  # the freeze: ~30 s before the fix
    assert rate < 12  # and not faster than asked: sleeps never end early


def test_speeding_up_cuts_a_long_pacing_sleep_short(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 0.05/s each step waits 20 s; `+` to max must not wait for that sleep to end."""
    # 600 rows: at max speed a batch runs to the next MAPE cycle (267 steps), so the 200 steps
    # after the first batch at the new speed end in the third batch
    runtime = fake_runtime(data_dir, monkeypatch, rows=600, speed=0.05)
    elapsed, _, summary = _paced(runtime, 1, lambda: runtime.set_speed(None), then_steps=200)
    assert summary["steps"] >= 201 and elapsed < BOUND_S / 3


@pytest.mark.parametrize("control", ["stop", "pause"])
def test_stop_and_pause_cut_a_long_pacing_sleep_short(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, control: str
) -> None:
    runtime = fake_runtime(data_dir, monkeypatch, rows=300, speed=0.05)
    states: list[str] = []

    def listen(snap: RunSnapshot) -> None:
        if states and snap.state == states[-1]:
            return
        states.append(snap.state)
        if snap.state == "running" and snap.step == 1:
            asyncio.get_running_loop().call_later(ACT_AFTER_S, getattr(runtime, control))
        elif snap.state == "paused":
            runtime.stop()

    runtime.listeners.append(OnSnapshot(listen))
    started = time.perf_counter()
    summary = run_bounded(runtime)
    assert summary["status"] == "stopped" and summary["steps"] == 1
    paused = [] if control == "stop" else ["paused", "running"]
    assert states == ["ready", "running", *paused, "stopped"]
    assert time.perf_counter() - started < BOUND_S / 3  # one paced step is 20 s


# item 3: every end leaves a final status ---------------------------------------------------------
def test_a_run_stopped_before_it_started_is_stored_as_stopped(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = fake_runtime(data_dir, monkeypatch)

    async def scenario() -> dict[str, Any]:
        await runtime.prepare()
        runtime.stop("SIGTERM")
        return await asyncio.wait_for(runtime.run(), BOUND_S)

    summary = asyncio.run(scenario())
    assert summary["status"] == "stopped" and summary["steps"] == 0
    assert summary["stop_reason"] == "SIGTERM"
    assert stored_status(runtime) == ["stopped"]


def test_a_cancelled_start_up_leaves_the_run_stopped(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while a model loads (first-use training, a slow read: any await of prepare)."""
    runtime = fake_runtime(data_dir, monkeypatch)
    loaded = asyncio.Event()
    real_load = startup_module.in_thread

    async def slow(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if getattr(fn, "__name__", "") == "load":
            loaded.set()
            await asyncio.sleep(BOUND_S)
        return await real_load(fn, *args, **kwargs)

    monkeypatch.setattr(startup_module, "in_thread", slow)
    monkeypatch.setattr(start_versions, "in_thread", slow)  # where stored versions load

    async def scenario() -> None:
        task = asyncio.create_task(runtime.prepare())
        await asyncio.wait_for(loaded.wait(), BOUND_S)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert runtime.final_summary is not None and runtime.final_summary["status"] == "stopped"
    assert stored_status(runtime) == ["stopped"]


def test_an_error_in_the_loop_ends_the_run_failed_with_its_summary(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of the loop itself mid-run (here the MAPE loop's observe; a model's predict that
    raises is not one: inference skips that step, see tests/plugins/test_protocol.py)."""
    from mape.loop import MapeLoop

    runtime = fake_runtime(data_dir, monkeypatch, rows=1000)  # batches end every 267 steps
    calls = {"n": 0}
    real_observe = MapeLoop.observe

    def failing(self: MapeLoop, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("the loop crashed")
        real_observe(self, *args)

    monkeypatch.setattr(MapeLoop, "observe", failing)
    with pytest.raises(RuntimeError, match="the loop crashed"):
        run_bounded(runtime)
    summary = runtime.final_summary
    assert summary is not None and summary["status"] == "failed"
    assert summary["error"] == "RuntimeError: the loop crashed" and summary["steps"] > 0
    assert stored_status(runtime) == ["failed"]


# the threads blocking calls run on -------------------------------------------------------------
def test_a_stopiteration_in_a_thread_is_an_error_not_a_hang() -> None:
    from harmone_tui.threads import in_thread

    async def scenario() -> None:
        await asyncio.wait_for(in_thread(next, iter(())), BOUND_S)

    with pytest.raises(RuntimeError, match="StopIteration"):
        asyncio.run(scenario())


def test_a_call_that_never_returns_does_not_hold_up_the_exit() -> None:
    """With asyncio.to_thread this process would wait the full 600 s at exit."""
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    probe = (
        "import asyncio, time\n"
        "from harmone_tui.threads import in_thread\n"
        "async def main():\n"
        "    call = asyncio.ensure_future(in_thread(time.sleep, 600))\n"
        "    await asyncio.sleep(0.2)\n"
        "    call.cancel()\n"
        "asyncio.run(main())\n"
        "print('exited')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=BOUND_S,
    )
    assert done.returncode == 0 and done.stdout.strip() == "exited", done.stderr
