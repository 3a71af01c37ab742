"""The Runtime in-process with real models: forced actions land at exact steps, as events."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from engines.base import EngineError
from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunSnapshot
from mape.policy_file import parse_policy, resolve_policy
from tests.listening import OnSnapshot

TWO_MODELS = """
name = "two"
engine = "regression"
models = ["linear", "svm"]
start_model = "linear"
[switch]
enabled = false
[drift]
enabled = false
[retrain]
window = 600
delay_steps = 100
"""


def _runtime(tmp_path: Path, steps: int, text: str = TWO_MODELS) -> Runtime:
    policy = parse_policy(text, "test policy")
    return Runtime(
        RunSettings(data_dir=tmp_path / "data", steps=steps), policy, "test policy", text
    )


def act_once(runtime: Runtime, at_step: int, action: Callable[[], object]) -> list[object]:
    """Run ``action`` once, after the first batch that reaches ``at_step``; returns its result."""
    results: list[object] = []

    def listen(snap: RunSnapshot) -> None:
        if not results and snap.step >= at_step:
            results.append(action())

    runtime.listeners.append(OnSnapshot(listen))
    return results


def run_acting(
    runtime: Runtime, at_step: int, action: Callable[[], object]
) -> tuple[dict, list[object]]:
    """Prepare and run ``runtime``, doing ``action`` once at ``at_step``."""

    async def scenario() -> dict:
        await runtime.prepare()
        return await runtime.run()

    results = act_once(runtime, at_step, action)
    return asyncio.run(scenario()), results


def test_forced_switch_takes_effect_at_the_next_step_and_is_one_event(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, 700)
    summary, _ = run_acting(runtime, 534, lambda: runtime.request_switch("svm"))
    (switch,) = runtime.store.events(runtime.run_id, ["switch"])
    assert switch.detail == {"from": "linear", "to": "svm", "reason": "forced by the user"}
    models = runtime.telemetry.model_index[: runtime.step].tolist()
    first_svm = models.index(runtime.telemetry.model_id("svm"))
    assert first_svm == switch.step
    assert summary["switches"] == 1
    assert summary["model_share"]["svm"] == pytest.approx((700 - first_svm) / 700, abs=1e-3)


def test_forced_retrain_runs_in_a_worker_and_swaps_in_at_its_step(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, 1400)
    summary, asked = run_acting(runtime, 700, runtime.request_retrain)
    assert asked == [True]
    (started,) = runtime.store.events(runtime.run_id, ["retrain_started"])
    (done,) = runtime.store.events(runtime.run_id, ["retrain_done"])
    assert done.step == started.detail["swap_step"] == started.step + 100
    assert done.detail["version"] == 2 and done.detail["rows"] == 600
    versions = runtime.telemetry.version[: summary["steps"]].tolist()
    assert versions[done.step - 1] == 1 and versions[done.step] == 2
    v2 = runtime.repo.get("regression", "linear", 2)
    assert v2 is not None and v2.reason == "forced by the user"
    assert v2.meta["data_summary"]["size"] == 600 and v2.meta["train_energy_j"] > 0
    assert summary["retrains"] == 1


def test_a_policy_using_the_lstm_without_tensorflow_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engines.regression.engine as regression

    monkeypatch.setattr(regression, "lstm_available", lambda: False)
    policy, source, text = resolve_policy("single-lstm")
    runtime = Runtime(RunSettings(data_dir=tmp_path / "d", steps=10), policy, source, text)
    with pytest.raises(EngineError, match=r"needs TensorFlow.*harmone-tui\[lstm\]"):
        asyncio.run(runtime.prepare())


def test_policy_for_another_engine_is_refused(tmp_path: Path) -> None:
    text = TWO_MODELS.replace('engine = "regression"', 'engine = "vision"')
    runtime = _runtime(tmp_path, 10, text)
    with pytest.raises(EngineError, match="policy is for engine 'vision'"):
        asyncio.run(runtime.prepare())


def test_a_new_run_starts_from_the_base_version_not_an_earlier_runs_retrain(tmp_path: Path) -> None:
    first = _runtime(tmp_path, 1000)
    run_acting(first, 600, first.request_retrain)
    assert first.repo.latest("regression", "linear").version == 2
    second = _runtime(tmp_path, 10)
    asyncio.run(second.run())
    assert second.telemetry.version[:10].tolist() == [1] * 10


def test_time_spent_paused_is_not_counted_in_wall_time(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, 600)

    def pause_for_a_while() -> None:
        runtime.pause()
        asyncio.get_running_loop().call_later(1.5, runtime.resume)

    summary, _ = run_acting(runtime, 0, pause_for_a_while)
    assert summary["steps"] == 600
    assert summary["wall_s"] < 1.0


def test_other_threads_cpu_is_not_charged_to_the_model(tmp_path: Path) -> None:
    """A thread burning CPU on the other core (hashing releases the GIL) while the run goes on,
    as the UI and the store writer do: the model's CPU time per inference, and so its estimated
    energy, stays within its own wall latency. A process-wide clock would charge it both cores.
    Through scikit-learn: a fast-path call (~0.4 µs) is shorter than the clock reads around it."""
    runtime = _runtime(tmp_path, 4000, 'serving = "framework"\n' + TWO_MODELS)
    stop = threading.Event()
    block = bytes(8 << 20)

    def burn() -> None:
        while not stop.is_set():
            hashlib.sha256(block).digest()

    async def scenario() -> dict:
        await runtime.prepare()
        burner = threading.Thread(target=burn, daemon=True)
        burner.start()
        try:
            return await runtime.run()
        finally:
            stop.set()
            burner.join()

    summary = asyncio.run(scenario())
    assert summary["steps"] == 4000
    assert summary["cpu_ms_per_inference"] < 1.3 * summary["latency_ms_mean"]
