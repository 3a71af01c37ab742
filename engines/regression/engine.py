"""The regression engine: next-value forecasting of a univariate stream (PeMS traffic flow)."""

from __future__ import annotations

import importlib.util
import json
import math
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import (
    DataSummary,
    Engine,
    EngineError,
    ModelSpec,
    Sample,
    StreamArrays,
    TrainRequest,
    TrainResult,
)
from engines.metrics import window_r2
from engines.regression.imported import FILE_OF, ImportedModel, ImportedSpec, open_model
from engines.regression.safe_pickle import RefusedPickle, load_estimator
from engines.regression.serving import LastValue, affine_model
from engines.regression.training import WINDOW, train_model

MODELS = (
    ModelSpec("linear", "Ridge regression on the previous 5 values"),
    ModelSpec("svm", "Support-vector regression, linear kernel"),
    ModelSpec("lstm", "Keras LSTM (TensorFlow) on the previous 5 values"),
    ModelSpec("naive", "persistence baseline: predicts the last value seen", trainable=False),
)
HISTOGRAM_BINS = 50
# fitted in milliseconds with libraries inference has already loaded: no worker process for them
IN_PROCESS_MODELS = frozenset({"linear", "svm", "naive"})


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
    serving: str = "framework"

    def predict(self, x: np.ndarray) -> float:
        return self.one((x - self.low) / self.span) * self.span + self.low


def _sklearn_one(estimator: Any) -> Callable[[np.ndarray], float]:
    def one(scaled: np.ndarray) -> float:
        return float(estimator.predict(scaled.reshape(1, -1))[0])

    return one


def _last_value(scaled: np.ndarray) -> float:
    return float(scaled[-1])


def read_scaler(version_dir: Path) -> tuple[float, float]:
    """``(low, span)`` of a version's min-max scaler, from its ``meta.json``."""
    path = version_dir / "meta.json"
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise EngineError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise EngineError(f"{path}: not valid JSON ({exc})") from None
    scaler = meta.get("scaler") if isinstance(meta, dict) else None
    try:
        low, high = float(scaler["min"]), float(scaler["max"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        raise EngineError(f"{path}: no scaler (min and max of the training data)") from None
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        raise EngineError(f"{path}: the scaler spans nothing (min {low}, max {high})")
    return low, high - low


def _load_estimator(model: str, path: Path) -> Any:
    """The fitted estimator in ``path``, unpickled without running code; checked to be ours."""
    expected = {"linear": "Ridge", "svm": "SVR"}[model]
    try:
        estimator = load_estimator(path)
    except FileNotFoundError:
        raise EngineError(f"{path}: missing") from None
    except RefusedPickle as exc:
        raise EngineError(f"{path}: refused to load: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - truncated, empty or garbled: all mean damaged
        raise EngineError(f"{path}: not a readable model ({type(exc).__name__}: {exc})") from None
    if type(estimator).__name__ != expected or not hasattr(estimator, "coef_"):
        found = type(estimator).__name__
        raise EngineError(f"{path}: holds a {found}, not the fitted {expected} of a {model} model")
    width = np.size(estimator.coef_)
    if width != WINDOW:  # scikit-learn would only fail at the first predict, mid-run
        raise EngineError(f"{path}: holds a {expected} of {width} inputs, not {WINDOW}")
    return estimator


@dataclass
class LastValues:
    """A bundled model (a window of ``WINDOW``) in a run whose samples are wider, because an
    imported model in the policy takes more values: it gets the last ``WINDOW`` of them."""

    inner: Any

    def __post_init__(self) -> None:
        self.name, self.version = self.inner.name, self.inner.version
        self.serving = getattr(self.inner, "serving", "framework")
        self._predict = self.inner.predict

    def predict(self, x: np.ndarray) -> float:
        return self._predict(x[-WINDOW:])


def check_files(model: str, version_dir: Path) -> None:
    """The checks ``load`` makes that need no TensorFlow (for ``harmone models check``):
    EngineError naming the file when the scaler, the pickle or the Keras archive is unusable."""
    read_scaler(version_dir)
    meta = json.loads((version_dir / "meta.json").read_text())
    if isinstance(meta, dict) and "imported" in meta:
        spec = ImportedSpec.from_meta(meta, str(version_dir / "meta.json"))
        path = version_dir / FILE_OF[spec.format]
        if not path.is_file():
            raise EngineError(f"{path}: missing")
    elif model in ("linear", "svm"):
        _load_estimator(model, version_dir / "model.pkl")
    elif model == "lstm":
        from engines.regression.lstm import MODEL_FILE

        path = version_dir / MODEL_FILE
        if not path.is_file():
            raise EngineError(f"{path}: missing")
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                broken = archive.testzip()
        except (OSError, zipfile.BadZipFile) as exc:
            raise EngineError(f"{path}: not a Keras archive ({exc})") from None
        if broken is not None or "config.json" not in names:
            raise EngineError(f"{path}: damaged Keras archive ({broken or 'no config.json'})")


class RegressionEngine(Engine):
    """Forecasts the next value of ``stream`` from the previous five; models train on ``train``.

    ``serving`` is how loaded versions are called (the policy's ``serving`` key): ``"fast"``,
    the cheapest path that gives the framework's answer (``engines.regression.serving``,
    ``engines.regression.lstm_onnx``), or ``"framework"``, scikit-learn and Keras themselves.
    """

    name = "regression"
    quality_metric = "r2"
    serving_paths = ("fast", "framework")

    def __init__(self, stream: np.ndarray, train: np.ndarray, source: str = "") -> None:
        if len(stream) <= WINDOW:
            raise EngineError(f"{source or 'stream'}: need more than {WINDOW} rows")
        self.stream = np.asarray(stream, dtype=float)
        self.train = np.asarray(train, dtype=float)
        self.source = source
        self.serving = "fast"
        self.data_read: dict[str, Any] = {}  # what reading the files did (rows, gaps), per file
        self.data_notes: list[str] = []  # the same in words, where there is something to say
        self.imported: dict[str, ImportedSpec] = {}  # models imported by the user, adopted
        self.window = WINDOW  # values in a sample: WINDOW, or an adopted import's if wider
        self._windows = np.lib.stride_tricks.sliding_window_view(self.stream, WINDOW + 1)
        lo, hi = float(self.train.min()), float(self.train.max())
        pad = 0.5 * (hi - lo or 1.0)
        self._edges = tuple(float(e) for e in np.linspace(lo - pad, hi + pad, HISTOGRAM_BINS + 1))

    def models(self) -> list[ModelSpec]:
        own = [
            ModelSpec(
                name,
                f"imported {spec.format} model on the last {spec.window} values"
                f" ({spec.scaling} scaling)",
                trainable=False,
            )
            for name, spec in self.imported.items()
        ]
        return [*MODELS, *own]

    def adopt(self, model: str, meta: dict[str, Any]) -> str | None:
        """Run ``model``, imported with ``harmone models import regression`` (its meta says
        the format, window and scaling). Samples widen to the widest adopted window, so the
        stream starts that many values in (the bundled models take the last ``WINDOW``)."""
        if model in {m.name for m in MODELS}:
            return f"{model} is a bundled model's name"
        try:
            spec = ImportedSpec.from_meta(meta, f"model {model}")
        except EngineError as exc:
            return str(exc)
        if len(self.stream) <= spec.window:
            return f"its window of {spec.window} values is longer than the stream"
        self.imported[model] = spec
        self.window = max(WINDOW, *(s.window for s in self.imported.values()))
        self._windows = np.lib.stride_tricks.sliding_window_view(self.stream, self.window + 1)
        return None

    def unavailable(self, model: str) -> str | None:
        if model == "lstm" and not lstm_available():
            return (
                "the lstm model needs TensorFlow, which is not installed: "
                "pip install 'harmone-tui[lstm]' (or run ./install.sh)"
            )
        if model == "lstm" and self.serving == "fast":
            from engines.regression.lstm_onnx import onnx_missing

            missing = onnx_missing()
            if missing:
                return (
                    f"the lstm model's fast path needs {' and '.join(missing)}, not installed:"
                    " pip install 'harmone-tui[lstm]', or set serving = \"framework\""
                )
        return None

    def stream_length(self) -> int:
        return len(self._windows)

    def stream_arrays(self) -> StreamArrays:
        truths = self._windows[:, self.window]  # as samples(): an import may see a wider window
        return StreamArrays(self._windows[:, : self.window], truths, truths)

    def samples(self) -> Iterator[Sample]:
        inputs = self._windows[:, : self.window]
        truths = self._windows[:, self.window].tolist()
        for i, (x, truth) in enumerate(zip(inputs, truths, strict=True)):
            yield Sample(i, x, truth, truth)

    def load(self, model: str, version: int, version_dir: Path) -> Any:
        """Load a version on the engine's serving path; EngineError naming the file when it is
        missing, damaged or foreign (on either path, at load, never at the first predict)."""
        low, span = read_scaler(version_dir)
        if model in self.imported:
            spec = self.imported[model]
            one, _ = open_model(spec.format, version_dir / FILE_OF[spec.format])
            return ImportedModel(model, version, spec.window, low, span, one)
        loaded = self._load_bundled(model, version, version_dir, low, span)
        return loaded if self.window == WINDOW else LastValues(loaded)

    def _load_bundled(
        self, model: str, version: int, version_dir: Path, low: float, span: float
    ) -> Any:
        fast = self.serving == "fast"
        if model in ("linear", "svm"):
            estimator = _load_estimator(model, version_dir / "model.pkl")
            if fast:
                return affine_model(model, version, estimator, low, span)
            one = _sklearn_one(estimator)
        elif model == "lstm":
            if fast:
                from engines.regression.lstm_onnx import load_onnx_lstm

                return load_onnx_lstm(version, version_dir, low, span)
            from engines.regression.lstm import load_lstm

            one = load_lstm(version_dir).predict_one
        elif model == "naive":
            if fast:
                return LastValue(model, version)
            one = _last_value
        else:
            raise EngineError(f"unknown regression model {model!r} (known: linear, svm, lstm)")
        return ScaledModel(model, version, low, span, one)

    def quality(self, predictions: Sequence[float], truths: Sequence[float | None]) -> float:
        return window_r2(predictions, truths)

    def initial_training_data(self, model: str) -> np.ndarray:
        if model in self.imported:
            raise EngineError(
                f"regression model {model} was imported and has no trainer, and no valid"
                f" version of it is left: import it again"
                f" (`harmone models import regression {model} FILE`)"
            )
        return self.train

    def trainer(self) -> Callable[[TrainRequest], TrainResult]:
        return train_model

    def trains_in_process(self, model: str) -> bool:
        """linear, svm and naive train in a thread (scikit-learn, loaded for inference, fits
        ~1,900 rows in 10-200 ms); the LSTM (TensorFlow, seconds to minutes) in the worker."""
        return model in IN_PROCESS_MODELS

    def summarise(self, data: Any) -> DataSummary:
        return DataSummary.of(np.asarray(data, dtype=float), self._edges)
