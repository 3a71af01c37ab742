"""Training a YOLO detector; runs in a spawn worker process (everything here must pickle).

A version is built from its size's architecture (``yolov8{n,s,m}.yaml``, random weights: nothing is
downloaded) or fine-tuned from ``params["init_weights"]`` (a ``weights.pt`` of ours), trained for a
few epochs on the generated dataset, and its best checkpoint is written as ``weights.pt`` into the
staging directory. Ultralytics' run directory (plots off, last/best checkpoints, CSV) lives in a
temporary directory and is removed. Ultralytics stays quiet (``YOLO_VERBOSE=False``, set by
``engines.vision.offline``); whatever else the worker prints goes to the trainer pool's log.

Defaults are sized for two CPU cores, so that all three sizes train in about four minutes.
Ultralytics' defaults suit long GPU runs and learn almost nothing in a few CPU epochs: early
training is paced by optimiser steps, so we take batches of 4 (twice the steps of 8 for about the
same CPU time), no gradient accumulation (``nbs`` = batch; the default 64 would make 1.5 optimiser
steps per epoch of 24 batches), no warm-up (it would last 100 iterations, most of a run) and a
fixed AdamW learning rate of 0.005; mosaic augmentation runs for the first two thirds. The bigger
the model, the fewer epochs (each costs more), so within this budget the nano model ends up the
best trained. Images are trained at 160 px: the generated cars are large, and real frames are
predicted at 320 px, where real cars appear at a similar scale.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from engines.base import TrainRequest, TrainResult

ARCHITECTURES = {"yolo_n": "yolov8n.yaml", "yolo_s": "yolov8s.yaml", "yolo_m": "yolov8m.yaml"}
DEFAULT_EPOCHS = {"yolo_n": 10, "yolo_s": 8, "yolo_m": 6}
DEFAULT_TRAIN_IMGSZ = 160
DEFAULT_BATCH = 4
LEARNING_RATE = 0.005
TORCH_THREADS = 2


def settings_for(model: str, params: dict[str, Any]) -> dict[str, Any]:
    """Epochs, image size, batch and seed weights of one training, from params and defaults.

    >>> chosen = settings_for("yolo_m", {"imgsz": 64})
    >>> chosen["epochs"] == DEFAULT_EPOCHS["yolo_m"], chosen["imgsz"]
    (True, 64)
    """
    if model not in ARCHITECTURES:
        raise ValueError(f"unknown vision model {model!r} (known: {', '.join(ARCHITECTURES)})")
    return {
        "epochs": int(params.get("epochs") or DEFAULT_EPOCHS[model]),
        "imgsz": int(params.get("imgsz") or DEFAULT_TRAIN_IMGSZ),
        "batch": int(params.get("batch") or DEFAULT_BATCH),
        "init_weights": params.get("init_weights"),
    }


def _metrics(trainer_metrics: Any) -> dict[str, float]:
    """mAP figures of the final validation, when Ultralytics reports them."""
    box = getattr(trainer_metrics, "box", None)
    if box is None:
        return {}
    return {"val_map50": float(box.map50), "val_map50_95": float(box.map)}


def _export_onnx(yolo_class: Any, weights: Path) -> str:
    """Write ``weights.onnx`` beside the trained weights for the fast serving path (committed
    with the version, its checksum recorded). A failure leaves it out (said in the metadata);
    the fast path then exports at load."""
    from engines.vision.onnx_serving import EXPORT_IMGSZ, export_onnx, onnx_missing

    if onnx_missing():
        return f"skipped: {' and '.join(onnx_missing())} not installed"
    try:
        export_onnx(yolo_class, weights, EXPORT_IMGSZ)
    except Exception as exc:  # noqa: BLE001 - serving can still export at load, or use torch
        return f"failed: {type(exc).__name__}: {str(exc).strip()[:200]}"
    return "weights.onnx"


def train_yolo(request: TrainRequest, defaults: dict[str, Any] | None = None) -> TrainResult:
    """Train ``request.model`` on the dataset YAML ``request.data`` into ``request.out_dir``.

    ``defaults`` are the engine's training settings (bound with ``functools.partial``); keys in
    ``request.params`` override them: ``epochs``, ``imgsz``, ``batch``, ``init_weights``,
    ``config_dir`` (Ultralytics' config directory).
    """
    started = time.process_time()
    params = {**(defaults or {}), **request.params}
    chosen = settings_for(request.model, params)
    data_yaml = Path(request.data)
    if not data_yaml.is_file():
        raise ValueError(f"{data_yaml}: training dataset not found")
    from engines.vision.offline import import_yolo

    if not params.get("config_dir"):
        raise ValueError("train_yolo needs config_dir (Ultralytics' config directory)")
    YOLO = import_yolo(Path(params["config_dir"]))
    import torch

    torch.set_num_threads(TORCH_THREADS)
    source = chosen["init_weights"] or ARCHITECTURES[request.model]
    run_root = Path(tempfile.mkdtemp(prefix=".yolo-run-", dir=request.out_dir))
    try:
        model = YOLO(str(source), task="detect")
        model.train(
            data=str(data_yaml),
            epochs=chosen["epochs"],
            imgsz=chosen["imgsz"],
            batch=chosen["batch"],
            device="cpu",
            workers=0,
            amp=False,
            plots=False,
            optimizer="AdamW",
            lr0=LEARNING_RATE,
            nbs=chosen["batch"],
            warmup_epochs=0,
            close_mosaic=math.ceil(chosen["epochs"] / 3),
            seed=request.seed,
            deterministic=True,
            project=str(run_root),
            name="train",
            exist_ok=True,
            verbose=False,
        )
        trainer = model.trainer
        best = Path(trainer.best) if Path(trainer.best).exists() else Path(trainer.last)
        shutil.copyfile(best, request.out_dir / "weights.pt")
        exported = _export_onnx(YOLO, request.out_dir / "weights.pt")
        metrics = _metrics(getattr(trainer, "validator", None) and trainer.validator.metrics)
    finally:
        shutil.rmtree(run_root, ignore_errors=True)
    meta = {
        "architecture": ARCHITECTURES[request.model],
        "init_weights": str(chosen["init_weights"]) if chosen["init_weights"] else None,
        "imgsz": chosen["imgsz"],
        "epochs": chosen["epochs"],
        "batch": chosen["batch"],
        "dataset": str(data_yaml.parent),
        "train_images": len(list((data_yaml.parent / "images" / "train").glob("*.jpg"))),
        **metrics,
        "onnx_export": exported,
    }
    return TrainResult(request.model, meta, time.process_time() - started)
