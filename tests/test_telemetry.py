"""Telemetry in bounded memory: the ring, the whole-run chart buckets, the exact running summary.

Data: the bundled PeMS stream (real traffic counts) as truth, with a prediction that lags it by
one step (what a persistence model would say), recorded in batches of varying size as the runtime
records them.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import pytest

from engines.metrics import r2
from harmone_tui.downsample import Downsampled, column_means
from harmone_tui.inference import BatchFigures
from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from harmone_tui.telemetry import MIN_HISTORY, Telemetry, history_steps
from mape.knowledge import KnowledgeStore
from mape.policy_file import parse_policy, resolve_policy
from tests.listening import OnSnapshot
from tests.ui.harness import FAKE_POLICY, seed_fake_models

STREAM = Path(__file__).resolve().parents[1] / "sample_data" / "pems_stream.csv"
MODELS = ("linear", "svm")


def pems(steps: int) -> np.ndarray:
    """The bundled stream, repeated to ``steps`` values."""
    values = np.loadtxt(STREAM, delimiter=",", skiprows=1)
    return np.resize(values, steps)


def feed(tel: Telemetry, truth: np.ndarray, seed: int = 3) -> dict[str, np.ndarray]:
    """Record ``truth`` with a lagged prediction in batches of 1..2000 steps; return every figure
    as the whole-run arrays the old telemetry kept (to check the summary against)."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    prediction = np.concatenate(([truth[0]], truth[:-1]))
    latency_ns = rng.integers(50_000, 400_000, n)
    cpu_ns = rng.integers(40_000, 300_000, n)
    model = np.zeros(n, dtype=int)
    start = 0
    while start < n:
        stop = min(n, start + int(rng.integers(1, 2001)))
        m = int(rng.integers(0, 2))
        model[start:stop] = m
        figures = BatchFigures(
            prediction[start:stop].tolist(),
            truth[start:stop].tolist(),
            truth[start:stop].tolist(),
            latency_ns[start:stop].tolist(),
            cpu_ns[start:stop].tolist(),
        )
        assert tel.record(start, figures, MODELS[m], 1, 1.54) == stop
        start = stop
    return {
        "truth": truth,
        "prediction": prediction,
        "latency_ms": latency_ns / 1e6,
        "cpu_ms": cpu_ns / 1e6,
        "energy_mj": cpu_ns / 1e6 * 1.54,
        "model": model,
    }


def test_memory_does_not_grow_with_the_steps_of_a_run() -> None:
    sizes = {}
    for steps in (20_000, 400_000):
        tel = Telemetry(steps, MODELS)
        feed(tel, pems(steps))
        sizes[steps] = tel.nbytes
        assert tel.count == steps
    assert sizes[20_000] == sizes[400_000]
    assert sizes[400_000] < 1_500_000  # a ring of 2 × 8,192 steps, 2 × 4,096 buckets, a histogram


def test_the_ring_holds_the_recent_steps_and_refuses_older_ones() -> None:
    tel = Telemetry(100_000, MODELS, history=5_000)
    data = feed(tel, pems(100_000))
    assert tel.first_held <= 95_000  # at least the last `history` steps
    np.testing.assert_array_equal(tel.truth[95_000:100_000], data["truth"][95_000:])
    np.testing.assert_array_equal(tel.energy_mj[99_000:100_000], data["energy_mj"][99_000:])
    held = tel.held("truth")
    assert len(held) == 100_000 - tel.first_held and held[-1] == data["truth"][-1]
    with pytest.raises(IndexError, match="no longer held"):
        tel.truth[0:10]
    rows = tel.step_rows(99_998, 100_000, run_id=4, source="estimated")
    assert [r[1] for r in rows] == [99_998, 99_999] and rows[0][0] == 4


def test_summary_is_exact_over_the_whole_run_not_the_ring() -> None:
    tel = Telemetry(150_000, MODELS, history=3_000)
    d = feed(tel, pems(150_000))
    s = tel.summary("r2")
    t, p = d["truth"], d["prediction"]
    assert s["steps"] == 150_000
    assert math.isclose(s["r2"], r2(t, p), rel_tol=1e-12)
    assert math.isclose(s["mae"], float(np.mean(np.abs(t - p))), rel_tol=1e-12)
    assert math.isclose(s["energy_j_total"], float(np.sum(d["energy_mj"])) / 1000, rel_tol=1e-12)
    assert math.isclose(s["energy_mj_per_inference"], float(np.mean(d["energy_mj"])), rel_tol=1e-12)
    assert math.isclose(s["cpu_ms_per_inference"], float(np.mean(d["cpu_ms"])), rel_tol=1e-12)
    assert math.isclose(s["latency_ms_mean"], float(np.mean(d["latency_ms"])), rel_tol=1e-12)
    p95 = float(np.percentile(d["latency_ms"], 95))
    assert math.isclose(s["latency_ms_p95"], p95, rel_tol=0.005)
    share = np.bincount(d["model"], minlength=2) / 150_000
    assert s["model_share"] == {m: round(float(x), 4) for m, x in zip(MODELS, share, strict=True)}


def test_the_chart_buckets_cover_the_whole_run_in_fixed_size() -> None:
    truth = pems(300_000)
    series = Downsampled(buckets=1024)
    for lo in range(0, len(truth), 1_777):
        series.add(lo, truth[lo : lo + 1_777])
    assert series.width == 512 and series.nbytes == Downsampled(1024).nbytes
    # a column of 2 × 512 steps: the exact mean of those steps; min and max are exact too
    columns = column_means(series, 0, 1024 * 290, 290)
    np.testing.assert_allclose(columns, truth[: 1024 * 290].reshape(290, 1024).mean(axis=1))
    assert series.value_range(0, 300_000) == (truth.min(), truth.max())


def test_history_covers_every_window_of_the_policy() -> None:
    policy, _, _ = resolve_policy("harmone")
    assert history_steps(policy) == MIN_HISTORY
    wide = parse_policy(FAKE_POLICY.replace("[drift]", "[drift]\nwindow = 9000"), "wide")
    assert history_steps(wide) == 18_000  # the current and the previous drift window


def test_a_run_stores_every_step_while_memory_stays_put(tmp_path: Path) -> None:
    """The runtime over 60,000 real PeMS values (fake models: instant): the telemetry's size
    after the run equals its size after the first batch, and the store has every step."""
    data = tmp_path / "long.csv"
    values = pems(60_005)
    data.write_text("flow\n" + "\n".join(f"{v:g}" for v in values) + "\n")
    seed_fake_models(tmp_path / "data")
    policy = parse_policy(FAKE_POLICY, "fake")
    settings = RunSettings(data_dir=tmp_path / "data", engine="fake", data=data)
    runtime = Runtime(settings, policy, "fake", FAKE_POLICY)
    sizes: list[int] = []
    runtime.listeners.append(OnSnapshot(lambda _: sizes.append(runtime.telemetry.nbytes)))

    async def run() -> dict:
        await runtime.prepare()
        return await runtime.run()

    summary = asyncio.run(run())
    assert summary["steps"] == 60_000 and runtime.telemetry.first_held > 0
    assert sizes[0] == sizes[-1] == runtime.telemetry.nbytes
    store = KnowledgeStore.open(runtime.store.path)
    assert store.step_count(runtime.run_id) == 60_000
    stored = store.steps(runtime.run_id)
    truth = np.array([s.truth for s in stored])
    prediction = np.array([s.prediction for s in stored])
    assert math.isclose(summary["r2"], r2(truth, prediction), rel_tol=1e-12)
