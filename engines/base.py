"""The engine protocol: what the MAPE loop and the runtime may ask of a managed system.

An *engine* is a managed ML system (regression forecaster, object detector, a user's plug-in).
It exposes a stream of samples, a set of models, and a way to load, run and train them. Nothing
here imports an ML framework: concrete engines import theirs lazily, inside the engine.

The split that must hold (DESIGN.md §3):

- ``Engine.samples()``: the stream, one :class:`Sample` per step;
- ``Engine.load(model, version_dir)``: a :class:`LoadedModel` whose ``predict(x)`` is the hot path;
- ``Engine.quality(predictions, truths)``: R² for regression, mean confidence for vision;
- ``Engine.trainer()``: a picklable function run in a worker *process* to train a model version;
- ``Engine.summarise(values)``: the training-data summary stored with each version (for reuse).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from harmone_common.errors import HarmoneError


class EngineError(HarmoneError):
    """A problem with the engine's input (data, weights, plug-in) that the user must fix.

    The message names the file and what is wrong; front ends print it without a traceback.
    """


@dataclass(frozen=True)
class ModelSpec:
    """One model an engine can run.

    >>> ModelSpec("linear", "Ridge regression on the previous 5 values").trainable
    True
    """

    name: str
    description: str
    trainable: bool = True


class Sample(NamedTuple):
    """One step of the stream (a NamedTuple: made once per step, so it must be cheap).

    ``x`` is the model input (raw, unscaled: each model version scales with its own scaler);
    ``truth`` is the value the prediction is scored against, when known; ``drift_value`` is what a
    drift detector sees for this step (the true value for regression, a luminance summary for
    vision).
    """

    index: int
    x: Any
    truth: float | None
    drift_value: float


@dataclass(frozen=True)
class DataSummary:
    """A training-data summary kept with a model version, so reuse never reloads the data.

    The histogram is over ``edges`` (fixed per engine), normalised to sum to 1.
    """

    edges: tuple[float, ...]
    hist: tuple[float, ...]
    mean: float
    std: float
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "edges": list(self.edges),
            "hist": list(self.hist),
            "mean": self.mean,
            "std": self.std,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataSummary:
        return cls(
            edges=tuple(float(e) for e in d["edges"]),
            hist=tuple(float(h) for h in d["hist"]),
            mean=float(d["mean"]),
            std=float(d["std"]),
            size=int(d["size"]),
        )

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray, edges: Sequence[float]) -> DataSummary:
        """Summarise ``values`` over fixed ``edges`` (values outside fall in the end bins).

        >>> s = DataSummary.of([1.0, 2.0, 3.0, 4.0], edges=[0.0, 2.5, 5.0])
        >>> s.hist, s.mean, s.size
        ((0.5, 0.5), 2.5, 4)
        """
        arr = np.asarray(values, dtype=float)
        e = np.asarray(edges, dtype=float)
        clipped = np.clip(arr, e[0], e[-1])
        counts, _ = np.histogram(clipped, bins=e)
        total = counts.sum()
        hist = counts / total if total else counts.astype(float)
        return cls(
            edges=tuple(float(v) for v in e),
            hist=tuple(float(h) for h in hist),
            mean=float(arr.mean()) if arr.size else 0.0,
            std=float(arr.std()) if arr.size else 0.0,
            size=int(arr.size),
        )


@dataclass(frozen=True)
class TrainRequest:
    """Everything a worker process needs to train one model version (must pickle)."""

    engine: str
    model: str
    data: Any
    out_dir: Path
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 7


@dataclass(frozen=True)
class TrainResult:
    """What a training run reports back; the files are already in ``TrainRequest.out_dir``."""

    model: str
    meta: dict[str, Any]
    cpu_s: float


@runtime_checkable
class LoadedModel(Protocol):
    """A model version in memory, ready for the hot path."""

    name: str
    version: int

    def predict(self, x: Any) -> float:
        """One prediction (regression: next value in stream units; vision: mean confidence)."""
        ...


class Engine(Protocol):
    """A managed system. Front ends and the MAPE loop talk to engines only through this.

    An engine may also have ``skipped: list[tuple[str, str]]``: stream items it could not use
    (name, reason), which the runtime records as ``error`` events while the run goes on.

    CPU time per inference (and so estimated energy) is read from the calling thread's clock, so
    work of other threads in the process (the UI, the store writer) is not charged to the model.
    The bundled engines compute on the calling thread (TensorFlow's XLA call and torch's CPU
    inference here: thread and process clocks agree). An engine whose ``predict`` hands work to
    other threads must set ``cpu_clock = "process"``.
    """

    name: str
    quality_metric: str

    def models(self) -> list[ModelSpec]:
        """The models this engine can run."""
        ...

    def samples(self) -> Iterator[Sample]:
        """The stream, in order, one sample per step."""
        ...

    def unavailable(self, model: str) -> str | None:
        """Why ``model`` cannot run on this install (e.g. a missing extra), or None."""
        ...

    def stream_length(self) -> int:
        """How many steps the stream has."""
        ...

    def load(self, model: str, version: int, version_dir: Path) -> LoadedModel:
        """Load a stored model version from its directory."""
        ...

    def quality(self, predictions: Sequence[float], truths: Sequence[float | None]) -> float:
        """Quality of a window of predictions (R² or mean confidence)."""
        ...

    def initial_training_data(self, model: str) -> Any:
        """The data a model's version 1 is trained on when none is stored."""
        ...

    def retraining_data(self, recent_truths: Sequence[float]) -> Any:
        """The data a retrain on drift uses, built from the most recent true values."""
        ...

    def trainer(self) -> Callable[[TrainRequest], TrainResult]:
        """A module-level (picklable) function that trains in a worker process."""
        ...

    def summarise(self, data: Any) -> DataSummary:
        """Summary of training data over the engine's fixed histogram edges."""
        ...

    def histogram_edges(self) -> tuple[float, ...]:
        """The fixed edges used by ``summarise`` and by drift/reuse comparisons."""
        ...
