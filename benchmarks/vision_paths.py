"""The vision half of ``benchmarks/model_paths.py``: each stored YOLO version on both paths.

Frames are the bundled stream's (or ``--frames DIR``), decoded once; the difference column is
the largest absolute difference of the mean box confidence (the prediction) from torch's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

MODELS = ("yolo_n", "yolo_s", "yolo_m")
Predict = Callable[[np.ndarray], float]


def newest(data_dir: Path, model: str) -> Path | None:
    found = [
        d
        for d in (data_dir / "models" / "vision" / model).glob("v*")
        if (d / "weights.pt").is_file()
    ]
    return max(found, key=lambda d: int(d.name[1:])) if found else None


def vision_paths(
    data_dir: Path, frames: Path | None, limit: int
) -> tuple[list[np.ndarray], dict[str, dict[str, Predict]]]:
    """``(frames, {model: {path: predict}})`` for every YOLO model stored in ``data_dir``."""
    from engines.vision.engine import create_vision_engine

    engine = create_vision_engine(frames, data_dir / "vision", config_dir=data_dir / "ultralytics")
    xs = [s.x for _, s in zip(range(limit), engine.samples(), strict=False)]
    out: dict[str, dict[str, Predict]] = {}
    for model in MODELS:
        version = newest(data_dir, model)
        if version is None:
            continue
        out[model] = {}
        for serving in ("framework", "fast"):
            engine.serving = serving
            out[model][serving] = engine.load(model, int(version.name[1:]), version).predict
    return xs, out


def max_difference(predict: Predict, reference: np.ndarray, xs: list[np.ndarray]) -> float:
    return float(np.max(np.abs(np.array([predict(x) for x in xs]) - reference)))
