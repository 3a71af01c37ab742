"""YOLO's fast serving path: the version's ONNX export on ONNX Runtime, on the caller's thread.

Measured here on the bundled frames at 320 px (benchmarks/model_paths.py --vision): the network's
forward costs about half the CPU on ONNX Runtime that it costs in torch, with the same boxes and
confidences (differences of 1e-7 in confidence, 1e-4 px in box corners). Ultralytics' own ONNX
backend would run the session on every core, where the thread clock the runtime charges misses
the other threads' work, so the frame goes through the same steps as ``YOLO.predict`` here:
Ultralytics' ``LetterBox`` (rectangular, stride-aligned, as for the torch model), BGR to RGB,
scaled to 0..1 in float32, the session (one thread), Ultralytics' ``non_max_suppression`` with
the predictor's defaults; the prediction is the mean confidence of the boxes kept.

The ONNX file is exported with dynamic shapes when a version is trained and committed with it
(``weights.onnx``, its sha256 recorded with the others); a version stored before has none, and is
exported at load into a temporary directory (seconds; retrain or bootstrap to keep one).
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import EngineError

ONNX_FILE = "weights.onnx"
REQUIRED = ("onnx", "onnxruntime")
NMS_IOU = 0.7  # Ultralytics' predictor defaults (cfg/default.yaml: iou, max_det)
NMS_MAX_DET = 300
EXPORT_IMGSZ = 320  # the traced example's size; the exported input shape is dynamic


def onnx_missing() -> list[str]:
    """The packages of the fast YOLO path that are not installed."""
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def export_onnx(yolo_class: Any, weights: Path, imgsz: int) -> Path:
    """Export ``weights`` (a checkpoint already checked by the restricted loader) to an ONNX
    file beside it, with dynamic input shapes; nothing is downloaded (no simplifier)."""
    from engines.vision.safe_load import load_yolo

    model = load_yolo(yolo_class, weights)
    exported = model.export(
        format="onnx", dynamic=True, simplify=False, imgsz=imgsz, device="cpu", verbose=False
    )
    return Path(exported)


def _onnx_bytes(yolo_class: Any, version_dir: Path, weights: Path, imgsz: int) -> bytes:
    """The version's ONNX model: its committed export, or one made now from a copy of its
    weights in a temporary directory (the version directory is never written)."""
    stored = version_dir / ONNX_FILE
    if stored.is_file():
        return stored.read_bytes()
    with tempfile.TemporaryDirectory(prefix="harmone-onnx-") as tmp:
        copy = Path(tmp) / weights.name
        shutil.copyfile(weights, copy)
        return export_onnx(yolo_class, copy, imgsz).read_bytes()


def _session(model_bytes: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the caller's thread: the clock the runtime charges
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


@dataclass
class OnnxYolo:
    """A loaded YOLO version on ONNX Runtime; ``predict`` returns the mean box confidence."""

    name: str
    version: int
    session: Any
    stride: int
    imgsz: int
    conf: float
    serving: str = "fast"
    _steps: tuple[Any, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        import torch
        from ultralytics.data.augment import LetterBox
        from ultralytics.utils.nms import non_max_suppression

        letterbox = LetterBox((self.imgsz, self.imgsz), auto=True, stride=self.stride)
        input_name = self.session.get_inputs()[0].name
        self._steps = (letterbox, input_name, torch.from_numpy, non_max_suppression)

    def predict(self, x: np.ndarray) -> float:
        """Mean box confidence for one RGB frame (0.0 when nothing is detected)."""
        confidences = self.confidences(x)
        return float(confidences.mean()) if len(confidences) else 0.0

    def confidences(self, x: np.ndarray) -> np.ndarray:
        """The confidence of each box found in one RGB frame."""
        letterbox, input_name, to_torch, nms = self._steps
        # The torch path hands Ultralytics BGR, which it letterboxes and flips back to RGB; the
        # resize works per channel and the padding is grey, so letterboxing RGB is the same.
        boxed = letterbox(image=np.ascontiguousarray(x))
        image = np.ascontiguousarray(boxed.transpose(2, 0, 1)[None], dtype=np.float32)
        image /= 255  # as torch's .float().div_(255)
        (raw,) = self.session.run(None, {input_name: image})
        kept = nms(to_torch(raw), self.conf, NMS_IOU, max_det=NMS_MAX_DET)[0]
        return kept[:, 4].numpy()


def load_onnx_yolo(
    yolo_class: Any,
    yolo: Any,
    name: str,
    version: int,
    version_dir: Path,
    imgsz: int,
    conf: float,
) -> OnnxYolo:
    """``yolo`` (the version's checked torch model) served through its ONNX export."""
    weights = version_dir / "weights.pt"
    try:
        session = _session(_onnx_bytes(yolo_class, version_dir, weights, imgsz))
    except Exception as exc:  # noqa: BLE001 - a damaged export or one ORT cannot run
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(
            f"{version_dir / ONNX_FILE}: not runnable by ONNX Runtime ({text});"
            ' set serving = "framework" in the policy to run the torch model'
        ) from None
    stride = max(int(yolo.model.stride.max()), 32)
    return OnnxYolo(name, version, session, stride, imgsz, conf)
