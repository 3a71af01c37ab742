"""The vision engine: YOLO object detection (n/s/m) on an image stream, fully offline.

Quality is the mean box confidence (no labels needed); what the drift detector sees is each
frame's mean luminance (0-255), so a day-to-night change shows as drift.

Frames that cannot be decoded, or are above the pixel limit (``engines.vision.limits``), do not
stop a run: ``samples()`` skips them and appends ``(file name, reason)`` to ``engine.skipped``
(once per file, however often the stream is read), which the runtime turns into ``error`` events
by watching the list grow.
Sample indices stay contiguous (they are stream steps), so the stream is shorter by the number of
skipped files; ``stream_length()`` counts the image files and is therefore an upper bound until
the stream has been read once.

The models are trained on a generated, labelled dataset (``engines.vision.synthetic``), the only
frames we have labels for: both ``initial_training_data`` and ``retraining_data`` return it.
Retraining therefore refreshes a model (or fine-tunes one from stored weights) but cannot learn
the stream's new conditions; version reuse and model switching are the useful reactions to drift.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
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
from engines.vision import images, synthetic
from engines.vision.limits import MAX_FRAME_SIDE, StreamLimits
from engines.vision.offline import import_yolo
from engines.vision.onnx_serving import OnnxYolo, load_onnx_yolo, onnx_missing
from engines.vision.safe_load import first_line, load_yolo
from engines.vision.training import train_yolo

MODELS = (
    ModelSpec("yolo_n", "YOLOv8 nano detector (3.2 M parameters)"),
    ModelSpec("yolo_s", "YOLOv8 small detector (11 M parameters)"),
    ModelSpec("yolo_m", "YOLOv8 medium detector (26 M parameters)"),
)
PREDICT_IMGSZ = 320
PREDICT_CONF = 0.25
LUMINANCE_EDGES = tuple(float(e) for e in np.linspace(0.0, 255.0, 33))
SAMPLE_STREAM = ("vision", "stream")
WEIGHTS = "weights.pt"


@dataclass
class YoloModel:
    """A loaded YOLO version; ``predict`` returns the mean confidence of the boxes it finds."""

    name: str
    version: int
    yolo: Any
    imgsz: int = PREDICT_IMGSZ
    conf: float = PREDICT_CONF
    serving: str = "framework"

    def predict(self, x: np.ndarray) -> float:
        """Mean box confidence for one RGB frame (0.0 when nothing is detected)."""
        confidences = self.confidences(x)
        return float(confidences.mean()) if len(confidences) else 0.0

    def confidences(self, x: np.ndarray) -> np.ndarray:
        """The confidence of each box found in one RGB frame."""
        bgr = np.ascontiguousarray(x[..., ::-1])  # Ultralytics reads arrays as OpenCV's BGR
        result = self.yolo.predict(
            bgr, imgsz=self.imgsz, conf=self.conf, device="cpu", verbose=False
        )[0]
        return result.boxes.conf.numpy()


@dataclass
class VisionEngine(Engine):
    """Detects vehicles in ``files`` (name order) with YOLO n/s/m; trains in ``work_dir``."""

    files: list[Path]
    work_dir: Path
    config_dir: Path
    source: str = ""
    predict_imgsz: int = PREDICT_IMGSZ
    dataset: synthetic.DatasetSpec = field(default_factory=synthetic.DatasetSpec)
    train_params: dict[str, Any] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    limits: StreamLimits = field(default_factory=StreamLimits)
    serving: str = "fast"  # the policy's serving key: engines/vision/onnx_serving.py

    name = "vision"
    quality_metric = "confidence"
    serving_paths = ("fast", "framework")

    def models(self) -> list[ModelSpec]:
        return list(MODELS)

    def stream_length(self) -> int:
        return len(self.files)

    def unavailable(self, model: str) -> str | None:
        missing = onnx_missing() if self.serving == "fast" else []
        if missing:
            return (
                f"the {model} model's fast path needs {' and '.join(missing)}, not installed:"
                " pip install 'harmone-tui[vision]', or set serving = \"framework\""
            )
        return None

    def samples(self) -> Iterator[Sample]:
        """Decoded frames in name order, one at a time (reduced to a long side the detector can
        use); undecodable or oversized files are skipped into ``self.skipped``."""
        side = max(MAX_FRAME_SIDE, self.predict_imgsz)
        frames = images.decoded(self.files, self._skip, self.limits.max_image_pixels, side)
        for index, (_, rgb) in enumerate(frames):
            yield Sample(index, rgb, None, images.luminance(rgb))

    def _skip(self, name: str, reason: str) -> None:
        """Record a skipped file once, however many times the stream is read."""
        if all(seen != name for seen, _ in self.skipped):
            self.skipped.append((name, reason))

    def load(self, model: str, version: int, version_dir: Path) -> YoloModel | OnnxYolo:
        if model not in {m.name for m in MODELS}:
            known = ", ".join(m.name for m in MODELS)
            raise EngineError(f"unknown vision model {model!r} (known: {known})")
        weights = version_dir / WEIGHTS
        if not weights.is_file():
            raise EngineError(f"{weights}: model weights missing")
        YOLO = import_yolo(self.config_dir)
        try:
            yolo = load_yolo(YOLO, weights)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure means the file is unusable
            raise EngineError(f"{weights}: not a YOLO checkpoint ({first_line(exc)})") from None
        loaded: YoloModel | OnnxYolo
        if self.serving == "fast":
            loaded = load_onnx_yolo(
                YOLO, yolo, model, version, version_dir, self.predict_imgsz, PREDICT_CONF
            )
        else:
            loaded = YoloModel(model, version, yolo, self.predict_imgsz)
        loaded.predict(np.zeros((360, 640, 3), dtype=np.uint8))  # warm up off the hot path
        return loaded

    def quality(self, predictions: Sequence[float], truths: Sequence[float | None]) -> float:
        """Mean confidence of the window (truths are unknown for detection and ignored)."""
        values = np.asarray(predictions, dtype=float)
        values = values[np.isfinite(values)]
        return float(values.mean()) if values.size else 0.0

    def initial_training_data(self, model: str) -> Path:
        """The generated dataset's ``data.yaml`` (generated on first use)."""
        return synthetic.generate(self.work_dir / "datasets", self.dataset)

    def retraining_data(self, recent_truths: Sequence[float]) -> Path:
        """The generated dataset again: the stream has no labels to retrain on."""
        return self.initial_training_data("")

    def trainer(self) -> Callable[[TrainRequest], TrainResult]:
        """``train_yolo`` with this engine's settings bound (a partial of a module-level function
        pickles, so it runs in the spawn worker)."""
        defaults = {"config_dir": str(self.config_dir), **self.train_params}
        return functools.partial(train_yolo, defaults=defaults)

    def summarise(self, data: Any) -> DataSummary:
        """Luminance histogram of the training images of the dataset at ``data``."""
        return _summary(str(Path(data).resolve()))


@functools.lru_cache(maxsize=8)
def _summary(data_yaml: str) -> DataSummary:
    """Cached: a generated dataset never changes under its name."""
    lum = [images.luminance(images.load_rgb(p)) for p in synthetic.training_images(Path(data_yaml))]
    return DataSummary.of(lum, LUMINANCE_EDGES)


def bundled_stream() -> Path:
    """The sample stream shipped in the package (found through ``importlib.resources``)."""
    return Path(str(resources.files("sample_data").joinpath(*SAMPLE_STREAM)))


def create_vision_engine(
    data: Path | None,
    work_dir: Path,
    *,
    config_dir: Path,
    train_images: int = synthetic.DEFAULT_COUNT,
    epochs: int | None = None,
    train_imgsz: int | None = None,
    predict_imgsz: int = PREDICT_IMGSZ,
) -> VisionEngine:
    """Build the engine over a folder or zip of frames (None: the bundled sample stream).

    ``work_dir`` holds the generated dataset and extracted zips; ``config_dir`` is Ultralytics'
    config directory (the app passes ``<data dir>/vision`` and ``<data dir>/ultralytics``:
    ``harmone_tui.paths``).
    ``epochs`` and ``train_imgsz`` override the per-size training defaults. The stream's limits
    come from the environment (``engines.vision.limits``).
    """
    work = Path(work_dir)
    source = Path(data) if data is not None else bundled_stream()
    limits = StreamLimits.from_env()
    files = images.resolve_stream(source, work / "extracted", limits)
    params = {k: v for k, v in (("epochs", epochs), ("imgsz", train_imgsz)) if v}
    return VisionEngine(
        files=files,
        work_dir=work,
        config_dir=Path(config_dir),
        source=str(source),
        predict_imgsz=predict_imgsz,
        dataset=synthetic.DatasetSpec(count=train_images),
        train_params=params,
        limits=limits,
    )
