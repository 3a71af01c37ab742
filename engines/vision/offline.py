"""Importing Ultralytics so that it never reaches for the network.

Ultralytics downloads on demand: a font for plots (``Arial.ttf``), the AMP check weights, hub
weights named like ``yolov8n.pt``, datasets named in a data YAML, and it sends usage analytics.
With no network a download attempt hangs or fails mid-run, so before the first import we:

- set ``YOLO_OFFLINE=1`` (its online check answers False at once) and ``YOLO_AUTOINSTALL=False``,
  and, unless the user set it, ``YOLO_VERBOSE=False`` (its log lines would land on our terminal UI);
- set ``ULTRALYTICS_SAFE_LOAD=1``, so every checkpoint it loads is unpickled with
  ``torch.load(weights_only=True)`` against its allow-list of model classes;
- point ``YOLO_CONFIG_DIR`` at a directory of ours, so settings and fonts live with our data and
  never in the user's ``~/.config/Ultralytics``;
- place matplotlib's DejaVuSans there as ``Arial.ttf`` (the font the plotting code looks for);
- turn off analytics and every logging integration in its settings, and keep its datasets, runs
  and weights directories under ours.

Callers must still build models from ``yolov8{n,s,m}.yaml`` or load ``.pt`` files we produced, and
train with ``amp=False, plots=False``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from engines.base import EngineError

FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")
_INTEGRATIONS_OFF = {
    "sync": False,
    "clearml": False,
    "comet": False,
    "dvc": False,
    "mlflow": False,
    "raytune": False,
    "tensorboard": False,
    "wandb": False,
    "vscode_msg": False,
    "openvino_msg": False,
}


def _place_fonts(ultralytics_dir: Path) -> None:
    """Copy matplotlib's DejaVuSans under the names Ultralytics' ``check_font`` looks for."""
    import matplotlib

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    ultralytics_dir.mkdir(parents=True, exist_ok=True)
    for name in FONT_NAMES:
        target = ultralytics_dir / name
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            shutil.copyfile(source, tmp)
            tmp.replace(target)


def prepare_environment(config_dir: Path) -> Path:
    """Set the environment Ultralytics reads at import; return its config directory.

    Must run before ``ultralytics`` is first imported in this process (its settings and config
    directory are fixed at import). Safe to call again.
    """
    root = Path(config_dir).resolve()
    if "ultralytics" not in sys.modules:
        os.environ["YOLO_CONFIG_DIR"] = str(root)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "False"
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ["ULTRALYTICS_SAFE_LOAD"] = "1"  # weights_only loading: see engines.vision.safe_load
    _place_fonts(root / "Ultralytics")
    return root


def import_yolo(config_dir: Path) -> Any:
    """The ``ultralytics.YOLO`` class, imported offline (torch first, before any TensorFlow)."""
    root = prepare_environment(config_dir)
    try:
        import torch  # noqa: F401  (before TensorFlow, whose bundled libraries clash otherwise)
        from ultralytics import YOLO
        from ultralytics.utils import SETTINGS
    except ImportError as exc:
        raise EngineError(
            f"the vision engine needs the [vision] extra (torch, ultralytics): {exc}"
        ) from None
    wanted = {
        **_INTEGRATIONS_OFF,
        "datasets_dir": str(root / "datasets"),
        "runs_dir": str(root / "runs"),
        "weights_dir": str(root / "weights"),
    }
    if any(SETTINGS.get(k) != v for k, v in wanted.items()):
        SETTINGS.update(wanted)
    return YOLO
