"""Loading YOLO checkpoints without running code a crafted ``.pt`` carries.

A ``.pt`` file is a pickle: loaded the usual way (``torch.load(weights_only=False)``, Ultralytics'
default) it can run any command. Ultralytics 8.4 has an opt-in restricted loader
(``torch_safe_load(safe_only=True)``: ``weights_only=True`` plus an allow-list of its model
classes, and model construction without ``eval``); ``engines.vision.offline`` turns it on for the
whole process (``ULTRALYTICS_SAFE_LOAD=1``) before Ultralytics is imported. Where Ultralytics was
imported before that (a host program, a test session), :func:`check_checkpoint` loads the file
with the restricted loader first, so a checkpoint outside the allow-list is refused before the
unrestricted load can run it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engines.base import EngineError


def first_line(exc: BaseException) -> str:
    """The error's first line, without Ultralytics' "ERROR ❌️ <path>" decoration."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return re.sub(r"^ERROR\W*\S+\s+", "", line)


def check_checkpoint(path: Path, shown: Path | None = None) -> dict[str, Any]:
    """Unpickle ``path`` with Ultralytics' restricted loader; EngineError (naming ``shown``,
    default ``path``) if it is refused. Call after ``import_yolo`` (which sets up Ultralytics).
    """
    from ultralytics.nn.tasks import torch_safe_load

    name = shown or path
    try:
        ckpt, _ = torch_safe_load(str(path), safe_only=True)
    except Exception as exc:  # noqa: BLE001 - refused, truncated or garbled: not loadable
        raise EngineError(f"{name}: not a YOLO checkpoint ({first_line(exc)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("model") is None and ckpt.get("ema") is None:
        raise EngineError(f"{name}: not a YOLO checkpoint (no model in it)")
    return ckpt


def process_loads_safely() -> bool:
    """True when every load Ultralytics does in this process is already the restricted one."""
    import ultralytics.nn.tasks as tasks

    return bool(getattr(tasks, "SAFE_LOAD", False)) and bool(tasks._SafeLoad.SUPPORTED)


def load_yolo(yolo_class: Any, path: Path, shown: Path | None = None) -> Any:
    """``YOLO(path)``, after the restricted check unless the process already loads safely."""
    if not process_loads_safely():
        check_checkpoint(path, shown)
    return yolo_class(str(path), task="detect")


def check_version(version_dir: Path, config_dir: Path) -> None:
    """``harmone models check`` for a vision version: its weights load with the restricted
    loader (EngineError naming the file otherwise)."""
    from engines.vision.offline import import_yolo

    weights = version_dir / "weights.pt"
    if not weights.is_file():
        raise EngineError(f"{weights}: model weights missing")
    import_yolo(config_dir)
    check_checkpoint(weights)
