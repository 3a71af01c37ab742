"""Models a user trained elsewhere, run by the regression engine (``harmone models import``).

Three formats, told by the file's suffix: a scikit-learn estimator (``.pkl``, ``.pickle``,
``.joblib``; anything with ``predict`` on a 2-D array), a Keras ``.keras`` file, an ONNX file.
Each takes the last ``window`` values of the stream, scaled as the import said: ``minmax`` maps
the training range to 0..1 (the bundled models' scaling) and the prediction back; ``none`` feeds
raw values (stored as the scaler min 0, max 1, which is the identity).

Loading a pickle runs whatever code the pickle names: a scikit-learn file is imported only with
``--trust``, and is loaded with the full unpickler here (the restricted one of
``safe_pickle`` allows only our own Ridge and SVR). Its sha256 is recorded at import and checked
before every load, so the file run is the file that was trusted. Keras files load in Keras'
safe mode (a Lambda layer is refused, not run); ONNX files hold no code.

An imported model has no trainer: it is never retrained (the policy's ``retrain.untrainable``
says what happens instead), and several imports under one name are its versions, which switching
and reuse use like trained ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import EngineError

FORMATS = {
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".joblib": "sklearn",
    ".keras": "keras",
    ".onnx": "onnx",
}
FILE_OF = {"sklearn": "model.pkl", "keras": "model.keras", "onnx": "model.onnx"}
SCALINGS = ("minmax", "none")
MAX_WINDOW = 512

One = Callable[[np.ndarray], float]


@dataclass(frozen=True)
class ImportedSpec:
    """What a stored import says about itself (``meta["imported"]``)."""

    format: str
    window: int
    scaling: str

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "window": self.window, "scaling": self.scaling}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any], where: str) -> ImportedSpec:
        found = meta.get("imported")
        try:
            spec = cls(str(found["format"]), int(found["window"]), str(found["scaling"]))  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            raise EngineError(f"{where}: meta.json has no valid 'imported' record") from None
        if spec.format not in FILE_OF or spec.scaling not in SCALINGS:
            raise EngineError(f"{where}: unknown import format {spec.format!r}/{spec.scaling!r}")
        if not 1 <= spec.window <= MAX_WINDOW:
            raise EngineError(f"{where}: window {spec.window} outside 1..{MAX_WINDOW}")
        return spec


def format_of(path: Path) -> str:
    """The format a file's suffix names; EngineError listing the known suffixes otherwise."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise EngineError(
            f"{path}: unknown model file type {path.suffix or '(no suffix)'!r}"
            f" (known: {', '.join(FORMATS)})"
        )
    return found


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _sklearn(path: Path) -> tuple[One, int | None]:
    import joblib  # comes with scikit-learn; reads plain pickles too

    estimator = joblib.load(path)
    if not callable(getattr(estimator, "predict", None)):
        raise ValueError(f"it holds a {type(estimator).__name__}, which has no predict()")
    width = getattr(estimator, "n_features_in_", None)

    def one(scaled: np.ndarray) -> float:
        return float(np.asarray(estimator.predict(scaled.reshape(1, -1))).reshape(-1)[0])

    return one, None if width is None else int(width)


def _keras(path: Path) -> tuple[One, int | None]:
    from engines.regression.lstm import import_tensorflow

    tf = import_tensorflow()
    model = tf.keras.models.load_model(path, compile=False, safe_mode=True)
    shape = tuple(model.inputs[0].shape)
    if len(shape) not in (2, 3) or shape[1] is None or (len(shape) == 3 and shape[2] != 1):
        raise ValueError(f"its input shape {shape} is not (batch, window) or (batch, window, 1)")
    window = int(shape[1])
    full = (1, window) if len(shape) == 2 else (1, window, 1)
    spec = tf.TensorSpec(shape=full, dtype=tf.float32)
    call = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    buffer = np.zeros(full, dtype=np.float32)

    def one(scaled: np.ndarray) -> float:
        buffer.reshape(-1)[:] = scaled
        return float(np.asarray(call(buffer)).reshape(-1)[0])

    return one, window


def _onnx(path: Path) -> tuple[One, int | None]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one sample at a time: threads only add hand-over cost
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    first = session.get_inputs()[0]
    shape = tuple(first.shape)
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, None, "1")):
        raise ValueError(f"its input shape {shape} is not (batch, window) or (batch, window, 1)")
    window = shape[1] if isinstance(shape[1], int) else None
    name = first.name
    rank = len(shape)

    def one(scaled: np.ndarray) -> float:
        x = scaled.astype(np.float32).reshape((1, -1) if rank == 2 else (1, -1, 1))
        return float(np.asarray(session.run(None, {name: x})[0]).reshape(-1)[0])

    return one, window


LOADERS: dict[str, Callable[[Path], tuple[One, int | None]]] = {
    "sklearn": _sklearn,
    "keras": _keras,
    "onnx": _onnx,
}


def open_model(fmt: str, path: Path) -> tuple[One, int | None]:
    """``(predict on one scaled window, the window the file declares or None)``; EngineError
    naming the file when it cannot be loaded as ``fmt``."""
    if not path.is_file():
        raise EngineError(f"{path}: missing")
    try:
        return LOADERS[fmt](path)
    except EngineError:
        raise
    except ImportError as exc:
        raise EngineError(
            f"{path}: a {fmt} model needs {exc.name or 'a package'}, which is not installed:"
            " pip install 'harmone-tui[lstm]' (TensorFlow and onnxruntime)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - whatever fails, the file is not a usable model
        raise EngineError(f"{path}: not a loadable {fmt} model ({_reason(exc)})") from None


@dataclass
class ImportedModel:
    """A loaded import: the last ``window`` raw values, scaled, through the user's model."""

    name: str
    version: int
    window: int
    low: float
    span: float
    one: One
    serving: str = "framework"

    def predict(self, x: np.ndarray) -> float:
        return self.one((x[-self.window :] - self.low) / self.span) * self.span + self.low
