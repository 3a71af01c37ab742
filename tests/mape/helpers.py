"""Shared pieces of the MAPE tests: a recording Effector, small real streams, test policies."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import DataSummary
from engines.regression.data import read_series
from mape.effector import VersionInfo
from mape.knowledge import KnowledgeStore
from mape.policy import Policy
from mape.policy_file import parse_policy
from tests.conftest import SAMPLE
from tests.headless_runs import run as run_cli

TIMING_KEYS = {"train_cpu_s", "train_energy_j"}
REGIME = 1500  # rows per regime of the drifted test stream


class RecordingEffector:
    """An :class:`mape.effector.Effector` that records every call and can refuse retrains."""

    def __init__(self, versions: Sequence[VersionInfo] = (), accept_retrain: bool = True) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.versions = list(versions)
        self.accept_retrain = accept_retrain

    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        self.calls.append(("switch", (model, reason, detail)))

    def reuse_version(self, model: str, version: int, reason: str, detail: dict[str, Any]) -> None:
        self.calls.append(("reuse", (model, version, reason, detail)))

    def start_retrain(
        self, model: str, values: Sequence[float], reason: str, detail: dict[str, Any]
    ) -> bool:
        self.calls.append(("retrain", (model, list(values), reason, detail)))
        return self.accept_retrain

    def record(self, kind: str, detail: dict[str, Any]) -> None:
        self.calls.append((kind, detail))

    def stored_versions(self, model: str) -> list[VersionInfo]:
        return [v for v in self.versions if v.model == model]

    def kinds(self) -> list[str]:
        return [k for k, _ in self.calls]


def pems_stream() -> np.ndarray:
    return read_series(SAMPLE / "pems_stream.csv")


def drifted_stream() -> np.ndarray:
    """4,500 real rows: normal, the affine regime (x1.5+40), then normal again (other days).

    Taken from the bundled stream's own regimes (sample_data/README.md), so each block is real
    PeMS data and the third block is the old regime returning, not a copy of the first.
    """
    s = pems_stream()
    return np.concatenate([s[0:REGIME], s[3528 : 3528 + REGIME], s[7056 : 7056 + REGIME]])


def write_stream(path: Path, values: np.ndarray) -> Path:
    path.write_text("flow\n" + "\n".join(f"{v:g}" for v in values) + "\n")
    return path


def summary_of(values: Sequence[float] | np.ndarray, edges: Sequence[float]) -> DataSummary:
    return DataSummary.of(np.asarray(values, dtype=float), edges)


def policy(text: str) -> Policy:
    return parse_policy(text, "test policy")


def run_headless(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return run_cli("--no-ui", "--quiet", *args, timeout=timeout)


def events(data_dir: Path, run_id: int | None = None) -> list[tuple[str, int, dict[str, Any]]]:
    """(kind, step, detail without timings) of a run (the last one by default)."""
    store = KnowledgeStore.open(data_dir / "knowledge.sqlite3")
    try:
        rid = run_id if run_id is not None else store.runs(limit=1)[0].run_id
        return [
            (e.kind, e.step, {k: v for k, v in e.detail.items() if k not in TIMING_KEYS})
            for e in store.events(rid)
        ]
    finally:
        store.close()


def r2_quality(predictions: Sequence[float], truths: Sequence[float | None]) -> float:
    from engines.metrics import r2

    pairs = np.asarray([(p, t) for p, t in zip(predictions, truths, strict=True) if t is not None])
    return r2(pairs[:, 1], pairs[:, 0]) if len(pairs) > 1 else 0.0


class SimRuntime(RecordingEffector):
    """The runtime's side of the loop contract, in memory: applies switches and reuses at once.

    Each model predicts the truth plus its own seeded noise (``noise[model]``), so its quality is
    known; ``energy_uj[model]`` is its cost per call.
    """

    def __init__(
        self,
        noise: dict[str, float],
        energy_uj: dict[str, float],
        versions: Sequence[VersionInfo] = (),
        accept_retrain: bool = True,
    ) -> None:
        super().__init__(versions, accept_retrain)
        self.noise, self.energy = noise, energy_uj
        self.loop: Any = None
        self.active = ""
        self.version: dict[str, int] = {m: 1 for m in noise}
        self.model_at: list[str] = []
        self.reuse_steps: list[int] = []

    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        super().switch_model(model, reason, detail)
        self.active = model
        self.loop.set_active(model, self.version[model])

    def reuse_version(self, model: str, version: int, reason: str, detail: dict[str, Any]) -> None:
        super().reuse_version(model, version, reason, detail)
        self.reuse_steps.append(self.loop.status().step)
        self.version[model] = version
        self.loop.set_active(model, version)

    def run(self, loop: Any, truths: np.ndarray, start_model: str, seed: int = 0) -> None:
        """Drive ``loop`` over ``truths`` exactly as the runtime does (batches cut at due steps)."""
        from mape.loop import MapeLoop

        assert isinstance(loop, MapeLoop)
        self.loop, self.active = loop, start_model
        rng = np.random.default_rng(seed)
        noise = {m: rng.normal(0.0, s, len(truths)) for m, s in self.noise.items()}
        step, n = 0, len(truths)
        due = loop.next_due(0)
        while step < n:
            if step >= due:
                loop.cycle(step)
                due = loop.next_due(step)
            end = min(n, due, step + 500)
            m = self.active
            preds = truths[step:end] + noise[m][step:end]
            energy = np.full(end - step, self.energy[m])
            loop.observe(step, m, preds, truths[step:end], truths[step:end], energy)
            self.model_at += [m] * (end - step)
            step = end
