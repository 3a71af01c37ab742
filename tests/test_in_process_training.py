"""Light models train in a thread of the run's process; the LSTM in the trainer worker.

Spawning the worker and importing scikit-learn in it cost about a CPU-second, a hundred times
a Ridge fit on a retraining window: linear, svm and naive train where inference already loaded
their library (``Engine.trains_in_process``), and the ledger counts that once.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from engines.base import Engine, EngineError
from engines.energy import EstimatedMeter
from engines.fake import create_fake_engine
from engines.regression.data import read_series
from engines.regression.engine import RegressionEngine
from engines.vision.engine import VisionEngine
from harmone_tui import paths
from harmone_tui.carbon import CarbonFactors
from harmone_tui.ledger import EnergyLedger
from harmone_tui.ledger_report import IN_PROCESS, IN_WORKER
from harmone_tui.trainer_pool import TrainedVersion, TrainerPool
from harmone_tui.ui.energy_view import energy_lines
from mape.knowledge import KnowledgeStore
from mape.model_repo import ModelRepository
from tests.conftest import PEMS_STREAM, SAMPLE
from tests.headless_runs import run

J_PER_CPU_S = 2.0
RETRAIN_ROWS = 1200  # the retrain.window of the presets


class WorkerRegression(RegressionEngine):
    """The regression engine with every model trained in the worker, to compare with."""

    def trains_in_process(self, model: str) -> bool:
        return False


def _engine(cls: type[RegressionEngine] = RegressionEngine) -> RegressionEngine:
    return cls(read_series(PEMS_STREAM)[:800], read_series(SAMPLE / "flow_train.csv"))


def _pool(root: Path) -> TrainerPool:
    repo = ModelRepository(root, KnowledgeStore.open(root / "knowledge.sqlite3"))
    return TrainerPool(repo, lambda cpu_s: J_PER_CPU_S * cpu_s)


def _predictions(engine: RegressionEngine, trained: TrainedVersion) -> np.ndarray:
    stored = trained.stored
    loaded = engine.load(stored.model, stored.version, stored.directory)
    return np.array([loaded.predict(s.x) for s in engine.samples()])


def test_light_regression_models_train_in_process_and_the_others_in_the_worker() -> None:
    engine = _engine()
    models = ["linear", "svm", "naive", "lstm", "my_import"]
    assert [m for m in models if engine.trains_in_process(m)] == ["linear", "svm", "naive"]
    assert VisionEngine.trains_in_process is Engine.trains_in_process  # the default: no model
    assert not create_fake_engine(length=30).trains_in_process("good")


@pytest.mark.slow
def test_a_version_trained_in_process_predicts_as_the_worker_s_does(tmp_path: Path) -> None:
    """Same data and seed, in a thread and in the worker: the same hyper-parameters and the same
    prediction on every step of a real stream; no worker until one is asked for."""
    engine, in_worker = _engine(), _engine(WorkerRegression)
    data = engine.train[-RETRAIN_ROWS:]
    pool = _pool(tmp_path)

    async def train_both() -> tuple[list[TrainedVersion], list[TrainedVersion], list[int]]:
        here = [await pool.train(engine, m, data, "retrain", None) for m in ("linear", "svm")]
        pids_before = pool.worker_pids()
        there = [await pool.train(in_worker, m, data, "retrain", None) for m in ("linear", "svm")]
        assert pool.worker_pids()
        return here, there, pids_before

    try:
        here, there, pids_before = asyncio.run(train_both())
    finally:
        pool.close(wait=True)  # its exit must not land in a later test's CPU accounting
        pool.repo.store.close()
    assert pids_before == []
    for a, b in zip(here, there, strict=True):
        assert (a.where, b.where) == (IN_PROCESS, IN_WORKER)
        assert (a.stored.meta["trained_in"], b.stored.meta["trained_in"]) == (IN_PROCESS, IN_WORKER)
        assert a.stored.meta["hyperparameters"] == b.stored.meta["hyperparameters"]
        assert a.cpu_s > 0 and a.stored.meta["train_cpu_s"] == a.cpu_s
        predicted = _predictions(engine, a)
        assert len(predicted) > 700 and np.array_equal(predicted, _predictions(engine, b))


def test_a_failing_in_process_training_leaves_nothing_and_raises_its_error(
    tmp_path: Path,
) -> None:
    pool = _pool(tmp_path)
    try:
        with pytest.raises(EngineError, match="all 100 training values are 42"):
            asyncio.run(pool.train(_engine(), "linear", np.full(100, 42.0), "retrain", None))
        staging_parent = pool.repo.models_root / "regression" / "linear"
        assert list(staging_parent.iterdir()) == []
        assert pool.repo.versions("regression", "linear") == []
        assert pool.worker_pids() == [] and not pool.log_path.exists()
    finally:
        pool.repo.store.close()


@pytest.mark.slow
def test_a_linear_retraining_run_starts_no_worker_and_its_items_are_the_training_stage(
    tmp_path: Path,
) -> None:
    """First use and every retrain in the run's process: no worker, no trainer log, and the
    training stage is the sum of its items, inside the process's CPU time (counted once)."""
    root, summary = tmp_path / "data", tmp_path / "s.json"
    done = run(
        "--no-ui",
        "--policy",
        "single-linear+retrain",
        "--data",
        str(SAMPLE / "scenarios" / "recurring.csv"),
        "--data-dir",
        str(root),
        "--summary",
        str(summary),
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(summary.read_text())
    energy = result["energy"]
    items = energy["training"]
    assert result["retrains"] >= 1
    assert sorted({t["origin"] for t in items}) == ["first use", "retrain"]
    assert sum(t["origin"] == "retrain" for t in items) == result["retrains"]
    assert {t["where"] for t in items} == {IN_PROCESS} and all(t["cpu_s"] > 0 for t in items)
    assert not paths.trainer_log(root).exists()
    assert energy["worker_cpu_s"] == 0 and energy["cpu_s"] == energy["process_cpu_s"]
    training = energy["stages"]["training"]
    assert training["cpu_s"] == pytest.approx(sum(t["cpu_s"] for t in items), rel=1e-9)
    assert training["energy_j"] == pytest.approx(sum(t["energy_j"] for t in items), rel=1e-9)
    stages = sum(s["energy_j"] for s in energy["stages"].values())
    assert stages == pytest.approx(energy["energy_j"], rel=1e-9)
    assert energy["reconciliation"]["reconciled"]


@pytest.mark.slow
@pytest.mark.lstm
def test_the_lstm_trains_in_the_worker_and_the_ledger_adds_both_kinds(tmp_path: Path) -> None:
    """The training stage is the worker's whole CPU time plus the in-process items; the total
    is the process's plus the worker's (the in-process training is inside the process's)."""
    engine = _engine()
    ledger = EnergyLedger(
        EstimatedMeter(J_PER_CPU_S, "test"), CarbonFactors(400.0, 1.0, "test", "test")
    )
    pool = _pool(tmp_path)
    ledger.watch_workers(pool.worker_pids)
    pool.on_trained = ledger.add_training

    async def train_both() -> tuple[TrainedVersion, TrainedVersion]:
        linear = await pool.train(engine, "linear", engine.train, "first use", None)
        lstm = await pool.train(engine, "lstm", engine.train, "first use", None, {"epochs": 1})
        return linear, lstm

    try:
        linear, lstm = asyncio.run(train_both())
        report = ledger.report()  # while the worker lives: its CPU time is read from /proc
    finally:
        pool.close(wait=True)  # its exit must not land in a later test's CPU accounting
        pool.repo.store.close()
    assert (linear.where, lstm.where) == (IN_PROCESS, IN_WORKER)
    assert [(t.model, t.where) for t in report.training] == [
        ("linear", IN_PROCESS),
        ("lstm", IN_WORKER),
    ]
    assert report.worker_cpu_s >= lstm.cpu_s > 0
    training = report.stages_cpu_s["training"]
    assert training == pytest.approx(report.worker_cpu_s + linear.cpu_s, rel=1e-9)
    total_cpu = report.process_cpu_s + report.worker_cpu_s
    assert report.total_j == pytest.approx(total_cpu * J_PER_CPU_S, rel=1e-9)
    assert report.reconciled


def test_the_energy_screen_says_where_each_version_trained() -> None:
    ledger = EnergyLedger(
        EstimatedMeter(J_PER_CPU_S, "test"), CarbonFactors(400.0, 1.0, "test", "test")
    )
    ledger.add_training("lstm", 1, "first use", 12.5)
    ledger.add_training("linear", 2, "retrain", 0.0042, IN_PROCESS)
    block = ledger.report().to_dict()
    assert [t["where"] for t in block["training"]] == [IN_WORKER, IN_PROCESS]
    lines = energy_lines(block)
    (lstm,) = [line for line in lines if line.startswith("  lstm v1 ")]
    (linear,) = [line for line in lines if line.startswith("  linear v2 ")]
    assert lstm.endswith(IN_WORKER) and "12.500 CPU-s" in lstm
    assert linear.endswith(IN_PROCESS) and "0.004 CPU-s" in linear
    # a summary stored before trainings said where: they all ran in the worker
    del block["training"][1]["where"]
    assert any(
        line.startswith("  linear v2 ") and line.endswith(IN_WORKER) for line in energy_lines(block)
    )
