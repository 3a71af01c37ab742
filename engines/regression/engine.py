"""The regression engine: next-value forecasting of a univariate stream (PeMS traffic flow)."""

from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import DataSummary, EngineError, ModelSpec, Sample, TrainRequest, TrainResult
from engines.metrics import window_r2
from engines.regression.training import WINDOW, train_model

MODELS = (
    ModelSpec("linear", "Ridge regression on the previous 5 values"),
    ModelSpec("svm", "Support-vector regression, linear kernel"),
    ModelSpec("lstm", "Keras LSTM (TensorFlow) on the previous 5 values"),
    ModelSpec("naive", "persistence baseline: predicts the last value seen", trainable=False),
)
HISTOGRAM_BINS = 50


def lstm_available() -> bool:
    return importlib.util.find_spec("tensorflow") is not None


@dataclass
class ScaledModel:
    """A model version that scales its input with the scaler of its own training data."""

    name: str
    version: int
    low: float
    span: float
    one: Callable[[np.ndarray], float]

    def predict(self, x: np.ndarray) -> float:
        return self.one((x - self.low) / self.span) * self.span + self.low


def _sklearn_one(estimator: Any) -> Callable[[np.ndarray], float]:
    def one(scaled: np.ndarray) -> float:
        return float(estimator.predict(scaled.reshape(1, -1))[0])

    return one


def _last_value(scaled: np.ndarray) -> float:
    return float(scaled[-1])


class RegressionEngine:
    """Forecasts the next value of ``stream`` from the previous five; models train on ``train``."""

    name = "regression"
    quality_metric = "r2"

    def __init__(self, stream: np.ndarray, train: np.ndarray, source: str = "") -> None:
        if len(stream) <= WINDOW:
            raise EngineError(f"{source or 'stream'}: need more than {WINDOW} rows")
        self.stream = np.asarray(stream, dtype=float)
        self.train = np.asarray(train, dtype=float)
        self.source = source
        self.data_read: dict[str, Any] = {}  # what reading the files did (rows, gaps), per file
        self.data_notes: list[str] = []  # the same in words, where there is something to say
        self._windows = np.lib.stride_tricks.sliding_window_view(self.stream, WINDOW + 1)
        lo, hi = float(self.train.min()), float(self.train.max())
        pad = 0.5 * (hi - lo or 1.0)
        self._edges = tuple(float(e) for e in np.linspace(lo - pad, hi + pad, HISTOGRAM_BINS + 1))

    def models(self) -> list[ModelSpec]:
        return list(MODELS)

    def unavailable(self, model: str) -> str | None:
        if model == "lstm" and not lstm_available():
            return (
                "the lstm model needs TensorFlow, which is not installed: "
                "pip install 'harmone-tui[lstm]' (or run ./install.sh)"
            )
        return None

    def stream_length(self) -> int:
        return len(self._windows)

    def samples(self) -> Iterator[Sample]:
        inputs = self._windows[:, :WINDOW]
        truths = self._windows[:, WINDOW].tolist()
        for i, (x, truth) in enumerate(zip(inputs, truths, strict=True)):
            yield Sample(i, x, truth, truth)

    def load(self, model: str, version: int, version_dir: Path) -> ScaledModel:
        import json

        meta = json.loads((version_dir / "meta.json").read_text())
        scaler = meta["scaler"]
        low, span = float(scaler["min"]), float(scaler["max"]) - float(scaler["min"])
        if model in ("linear", "svm"):
            with (version_dir / "model.pkl").open("rb") as handle:
                estimator = pickle.load(handle)
            one = _sklearn_one(estimator)
        elif model == "lstm":
            from engines.regression.lstm import load_lstm

            one = load_lstm(version_dir).predict_one
        elif model == "naive":
            one = _last_value
        else:
            raise EngineError(f"unknown regression model {model!r} (known: linear, svm, lstm)")
        return ScaledModel(model, version, low, span, one)

    def quality(self, predictions: Sequence[float], truths: Sequence[float | None]) -> float:
        return window_r2(predictions, truths)

    def initial_training_data(self, model: str) -> np.ndarray:
        return self.train

    def retraining_data(self, recent_truths: Sequence[float]) -> np.ndarray:
        return np.asarray(recent_truths, dtype=float)

    def trainer(self) -> Callable[[TrainRequest], TrainResult]:
        return train_model

    def summarise(self, data: Any) -> DataSummary:
        return DataSummary.of(np.asarray(data, dtype=float), self._edges)

    def histogram_edges(self) -> tuple[float, ...]:
        return self._edges
