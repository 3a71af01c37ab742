"""The engine base class: what the MAPE loop and the runtime may ask of a managed system.

An *engine* is a managed ML system (regression forecaster, object detector, a user's plug-in).
It exposes a stream of samples, a set of models, and a way to load, run and train them. Nothing
here imports an ML framework: concrete engines import theirs lazily, inside the engine.

The split that must hold (DESIGN.md §3):

- ``Engine.samples()``: the stream, one :class:`Sample` per step;
- ``Engine.load(model, version, version_dir)``: a :class:`LoadedModel` whose ``predict(x)`` is
  the hot path;
- ``Engine.quality(predictions, truths)``: R² for regression, mean confidence for vision;
- ``Engine.trainer()``: a picklable function run in a worker *process* to train a model version
  (or in a thread of the calling process, for the models ``trains_in_process`` names);
- ``Engine.summarise(data)``: the training-data summary stored with each version (for reuse).

:class:`Engine` says which parts are required and gives defaults for the optional ones and the
capability flags, so the runtime asks every engine the same way (never ``getattr``).

>>> class Constant(Engine):
...     name, quality_metric = "constant", "r2"
>>> Constant()
Traceback (most recent call last):
TypeError: Can't instantiate abstract class Constant ...
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal, NamedTuple, Protocol, runtime_checkable

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


@dataclass(frozen=True)
class StreamArrays:
    """The whole stream as arrays, for an engine that holds it in memory: step ``i`` is
    ``Sample(i, inputs[i], truths[i], drift_values[i])`` (a NaN truth is an unknown one).

    The runtime then slices a batch of steps instead of making one object per step.
    """

    inputs: np.ndarray
    truths: np.ndarray
    drift_values: np.ndarray


@runtime_checkable
class LoadedModel(Protocol):
    """A model version in memory, ready for the hot path."""

    name: str
    version: int

    def predict(self, x: Any) -> float:
        """One prediction (regression: next value in stream units; vision: mean confidence)."""
        ...


class Engine(ABC):
    """A managed system: the base class every engine subclasses. Front ends and the MAPE loop
    talk to engines only through it.

    **Required** (abstract: a subclass that lacks one cannot be instantiated): the class
    attributes ``name`` (the ``engine`` a policy names) and ``quality_metric`` (``"r2"``,
    ``"confidence"``: shown with every quality figure), and the methods :meth:`models`,
    :meth:`samples`, :meth:`stream_length`, :meth:`load`, :meth:`quality`,
    :meth:`initial_training_data`, :meth:`trainer` and :meth:`summarise`.

    **Optional**, with defaults here, so an engine implements only what it needs:

    - :meth:`adopt` (default: none): run a model the user imported (the regression engine
      takes scikit-learn, Keras and ONNX files: ``harmone models import regression``);
    - :meth:`unavailable` (default: every model can run): why a model cannot run on this
      install, checked before a run starts;
    - :meth:`retraining_data` (default: the recent true values as a float array);
    - ``skipped`` (default: none): stream items that could not be used, as ``(name, reason)``;
      an engine appends to its own list while ``samples()`` runs, and the runtime records each
      new entry as an ``error`` event while the run goes on;
    - ``cpu_clock`` (capability, default ``"thread"``): the clock CPU time per inference (and
      so estimated energy) is read from. The calling thread's clock leaves the work of other
      threads (the UI, the store writer) out; the bundled engines compute on the calling thread
      (TensorFlow's XLA call and torch's CPU inference here: thread and process clocks agree).
      An engine whose ``predict`` hands work to other threads sets ``"process"``;
    - ``data_notes`` and ``data_read`` (default: nothing to say): what reading the input did,
      in words (shown as progress) and as figures (stored in the run summary);
    - :meth:`stream_arrays` (default: None): the stream as :class:`StreamArrays`, the same
      steps as :meth:`samples`, for an engine that holds it in memory (the hot path slices
      it, no per-step object);
    - ``serving_paths`` (capability, default ``("framework",)``) and ``serving``: how loaded
      versions are called. An engine with a cheaper path that gives the framework's answer
      lists ``"fast"`` too; the runtime then sets ``serving`` to the policy's ``serving`` key
      before loading, and the summary reports it;
    - :meth:`trains_in_process` (capability, default: no model): the models whose training is
      cheap enough to run in a thread of the calling process instead of the worker process.
    """

    name: ClassVar[str]
    quality_metric: ClassVar[str]
    cpu_clock: ClassVar[Literal["thread", "process"]] = "thread"
    skipped: Sequence[tuple[str, str]] = ()
    data_notes: Sequence[str] = ()
    data_read: Mapping[str, Any] = MappingProxyType({})
    serving_paths: ClassVar[tuple[str, ...]] = ("framework",)
    serving: str = "framework"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A concrete engine without ``name`` or ``quality_metric`` fails at class definition,
        not at the first run."""
        super().__init_subclass__(**kwargs)
        if not inspect.isabstract(cls):
            missing = [a for a in ("name", "quality_metric") if not hasattr(cls, a)]
            if missing:
                raise TypeError(f"engine {cls.__name__} must set {' and '.join(missing)}")

    @abstractmethod
    def models(self) -> list[ModelSpec]:
        """The models this engine can run."""

    @abstractmethod
    def samples(self) -> Iterator[Sample]:
        """The stream, in order, one sample per step."""

    @abstractmethod
    def stream_length(self) -> int:
        """How many steps the stream has (an upper bound when items may be skipped)."""

    @abstractmethod
    def load(self, model: str, version: int, version_dir: Path) -> LoadedModel:
        """Load a stored model version from its directory; EngineError naming the file when it
        is missing, damaged or foreign."""

    @abstractmethod
    def quality(self, predictions: Sequence[float], truths: Sequence[float | None]) -> float:
        """Quality of a window of predictions (R² or mean confidence)."""

    @abstractmethod
    def initial_training_data(self, model: str) -> Any:
        """The data a model's version 1 is trained on when none is stored."""

    @abstractmethod
    def trainer(self) -> Callable[[TrainRequest], TrainResult]:
        """A module-level (picklable) function that trains in a worker process (or in a thread,
        for the models :meth:`trains_in_process` names: then it must be thread-safe)."""

    @abstractmethod
    def summarise(self, data: Any) -> DataSummary:
        """The summary of training data stored with each version (reuse compares them), over
        the engine's fixed histogram edges."""

    def unavailable(self, model: str) -> str | None:
        """Why ``model`` cannot run on this install (e.g. a missing extra), or None."""
        return None

    def trains_in_process(self, model: str) -> bool:
        """Whether ``model`` trains in a thread of the calling process rather than the worker.

        Say yes only for a model whose framework inference has already imported and whose fit
        takes milliseconds: the worker is a fresh ``spawn`` process, whose start-up and imports
        (about a CPU-second for scikit-learn) cost far more than such a fit, while a thread shares
        the loaded libraries. A fit that takes seconds (a neural network) or holds the GIL for
        long belongs in the worker, where it cannot slow inference or the UI.
        """
        return False

    def adopt(self, model: str, meta: dict[str, Any]) -> str | None:
        """Take on ``model``, a stored model this engine did not define (an import, whose
        version ``meta`` describes it): None when it can now be run, else why not. Default:
        this engine runs only its own models."""
        return f"engine {self.name} runs only its own models"

    def retraining_data(self, recent_truths: Sequence[float]) -> Any:
        """The data a retrain on drift uses, built from the most recent true values."""
        return np.asarray(recent_truths, dtype=float)

    def stream_arrays(self) -> StreamArrays | None:
        """The stream as arrays (the same steps as :meth:`samples`), or None to be iterated."""
        return None
