"""Engine files that break the plug-in protocol one way each, written for a test to load.

:func:`engine_source` is a small real engine (a least-squares forecaster over a generated series)
with one fault switched on; each test writes it to its own file name, as a user's
``path/to/engine.py`` would be.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATE = """
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from engines.base import DataSummary, Engine, ModelSpec, Sample, TrainRequest, TrainResult
from engines.metrics import window_r2

FAULT = {fault!r}
if FAULT == "import":
    raise ImportError("no module named 'secret_sauce'")


def train(request: TrainRequest) -> TrainResult:
    values = np.asarray(request.data, dtype=float)
    view = np.lib.stride_tricks.sliding_window_view(values, 4)
    x = np.hstack([view[:, :3], np.ones((len(view), 1))])
    weights = np.linalg.lstsq(x, view[:, 3], rcond=None)[0]
    np.save(request.out_dir / "w.npy", weights)
    return TrainResult(request.model, {{}}, time.process_time())


class Model:
    def __init__(self, name: str, version: int, weights: np.ndarray) -> None:
        self.name, self.version, self.weights, self.calls = name, version, weights, 0

    def predict(self, x: np.ndarray) -> float:
        self.calls += 1
        if FAULT == "string":
            return "high"
        if FAULT == "raises" and self.calls > 40 and self.calls % 50 == 0:
            raise RuntimeError(f"sensor offline at call {{self.calls}}")
        return float(self.weights[:3] @ x + self.weights[3])


class Broken(Engine):
    name = "broken"
    quality_metric = "r2"

    def __init__(self) -> None:
        if FAULT == "construct":
            raise ValueError("license server unreachable")
        t = np.arange(3000.0)
        self.series = 50 + 20 * np.sin(t / 15) + np.random.default_rng(1).normal(0, 1, 3000)

    def models(self) -> list[ModelSpec]:
        return [] if FAULT == "no_models" else [ModelSpec("ls", "least squares")]

    def samples(self):
        for i in range(len(self.series) - 3):
            y = float(self.series[i + 3])
            yield Sample(i, self.series[i : i + 3], y, y)

    def stream_length(self) -> int:
        return len(self.series) - 3

    def load(self, model: str, version: int, version_dir: Path) -> Model:
        return Model(model, version, np.load(version_dir / "w.npy"))

    def quality(self, predictions, truths) -> float:
        return window_r2(predictions, truths)

    def initial_training_data(self, model: str):
        return self.series[:1000]

    def trainer(self):
        return (lambda request: train(request)) if FAULT == "lambda" else train

    def summarise(self, data) -> DataSummary:
        return DataSummary.of(np.asarray(data, dtype=float), np.linspace(0, 100, 21))


def create_engine(options):
    return object() if FAULT == "not_an_engine" else Broken()
"""


def write_engine(folder: Path, stem: str, fault: str | None) -> Path:
    """``folder/stem.py``: the engine with ``fault`` switched on (None: a working engine)."""
    path = folder / f"{stem}.py"
    path.write_text(TEMPLATE.format(fault=fault))
    return path
