"""A fake managed system: seeded, instant and deterministic, for UI tests, snapshots and demos.

It subclasses the engine base of :mod:`engines.base`, so the runtime, the MAPE loop and
the front ends cannot tell it from a real engine, but it imports no ML framework and every figure
it produces depends only on the seed and the call order. The stream is a daily-looking sine with
noise and an induced level shift at 60% of its length (a drift to react to); its three models
differ only in how much seeded noise they add, so their qualities are ordered
``accurate > balanced > fast``.

>>> engine = create_fake_engine(length=50)
>>> engine.stream_length(), [m.name for m in engine.models()]
(45, ['fast', 'balanced', 'accurate'])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import (
    DataSummary,
    Engine,
    EngineError,
    ModelSpec,
    Sample,
    TrainRequest,
    TrainResult,
)
from engines.metrics import window_r2

WINDOW = 5
MODELS = (
    ModelSpec("fast", "fake: persistence plus a lot of seeded noise"),
    ModelSpec("balanced", "fake: persistence plus some seeded noise"),
    ModelSpec("accurate", "fake: persistence plus little seeded noise"),
)
NOISE = {"fast": 14.0, "balanced": 8.0, "accurate": 3.0}
EDGES = tuple(float(e) for e in np.linspace(0.0, 400.0, 41))
DEFAULT_LENGTH = 2000


def synthetic_stream(length: int, seed: int = 7) -> np.ndarray:
    """A seeded periodic series with a level shift (drift) starting at 60% of its length."""
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=float)
    values = 120.0 + 60.0 * np.sin(2 * np.pi * t / 96.0) + rng.normal(0.0, 4.0, length)
    shift = int(length * 0.6)
    values[shift:] = values[shift:] * 1.4 + 35.0
    return np.round(values, 2)


@dataclass
class FakeModel:
    """A loaded fake model: last value, a trend term, and noise from its own seeded generator."""

    name: str
    version: int
    noise: float
    seed: int
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def predict(self, x: Any) -> float:
        arr = np.asarray(x, dtype=float)
        trend = 0.5 * (arr[-1] - arr[-2]) if arr.size > 1 else 0.0
        return float(arr[-1] + trend + self._rng.normal(0.0, self.noise))


def train_fake(request: TrainRequest) -> TrainResult:
    """Write a fake version's parameters; module level so the worker process can pickle it."""
    values = np.asarray(request.data, dtype=float)
    if len(values) < WINDOW + 10:
        raise ValueError(f"too few rows to train on: {len(values)} (need at least {WINDOW + 10})")
    noise = NOISE.get(request.model, 10.0)
    params = {"noise": noise, "seed": request.seed}
    (request.out_dir / "params.json").write_text(json.dumps(params))
    spread = float(np.var(values)) or 1.0
    meta = {
        "train_rows": int(len(values)),
        "validation_r2": round(1.0 - noise**2 / spread, 4),
        "hyperparameters": {"noise": noise},
    }
    # A fixed, size-proportional cost keeps runs deterministic (a real trainer measures it).
    return TrainResult(request.model, meta, cpu_s=round(len(values) * 1e-5, 4))


class FakeEngine(Engine):
    """The fake engine; see the module docstring."""

    name = "fake"
    quality_metric = "r2"

    def __init__(
        self, stream: np.ndarray, seed: int = 7, unusable: frozenset[int] = frozenset()
    ) -> None:
        """``unusable``: items the stream counts but cannot deliver, as the vision engine counts
        undecodable files; they are skipped into ``skipped``, so the stream is shorter than
        ``stream_length()`` promised."""
        if len(stream) <= WINDOW:
            raise EngineError(f"fake stream: need more than {WINDOW} rows")
        self.stream = np.asarray(stream, dtype=float)
        self.seed = seed
        self.unusable = unusable
        self.skipped: list[tuple[str, str]] = []
        self._windows = np.lib.stride_tricks.sliding_window_view(self.stream, WINDOW + 1)

    def models(self) -> list[ModelSpec]:
        return list(MODELS)

    def stream_length(self) -> int:
        return len(self._windows)

    def samples(self) -> Iterator[Sample]:
        index = 0
        for i, row in enumerate(self._windows):
            if i in self.unusable:
                if all(name != f"item {i}" for name, _ in self.skipped):
                    self.skipped.append((f"item {i}", "unusable (fake)"))
                continue
            truth = float(row[WINDOW])
            yield Sample(index, row[:WINDOW], truth, truth)
            index += 1

    def load(self, model: str, version: int, version_dir: Path) -> FakeModel:
        if model not in NOISE:
            raise EngineError(f"unknown fake model {model!r} (known: {', '.join(NOISE)})")
        params = json.loads((version_dir / "params.json").read_text())
        seed = int(params["seed"]) * 1000 + version * 10 + list(NOISE).index(model)
        return FakeModel(model, version, float(params["noise"]), seed)

    def quality(self, predictions: Sequence[float], truths: Sequence[float | None]) -> float:
        return window_r2(predictions, truths)

    def initial_training_data(self, model: str) -> np.ndarray:
        return synthetic_stream(600, self.seed + 1)[:400]

    def trainer(self) -> Callable[[TrainRequest], TrainResult]:
        return train_fake

    def summarise(self, data: Any) -> DataSummary:
        return DataSummary.of(np.asarray(data, dtype=float), EDGES)


def create_fake_engine(
    data: Path | None = None, column: str = "flow", length: int = DEFAULT_LENGTH, seed: int = 7
) -> FakeEngine:
    """The fake engine over a CSV column (``data``) or, by default, the seeded synthetic stream."""
    if data is not None:
        from engines.regression.data import read_series

        return FakeEngine(read_series(Path(data), column, min_rows=WINDOW + 1), seed)
    return FakeEngine(synthetic_stream(length, seed), seed)
