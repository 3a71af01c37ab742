"""Vision fixtures: one tiny bootstrap per session, through the real training worker process."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any

import pytest

SAMPLE_STREAM = Path(__file__).resolve().parents[2] / "sample_data" / "vision" / "stream"


@pytest.fixture(scope="session")
def vision_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding yolo_n v1 trained on 8 generated images (imgsz 64, 1 epoch)."""
    if importlib.util.find_spec("ultralytics") is None:  # not importorskip: importing it here
        pytest.skip("needs the [vision] extra")  # would bypass the offline set-up
    from harmone_tui.commands.models import bootstrap

    root = tmp_path_factory.mktemp("vision-data")
    assert asyncio.run(bootstrap(root, ["yolo_n"], epochs=1, imgsz=64, images=8)) == 0
    return root


def vision_engine(data: Path | None, work_dir: Path, **kwargs: Any) -> Any:
    """The vision engine with Ultralytics' config dir beside ``work_dir`` (the app passes both
    from ``harmone_tui.paths``; these tests never load a model, so where it is does not matter)."""
    from engines.vision.engine import create_vision_engine

    return create_vision_engine(
        data, work_dir, config_dir=Path(work_dir).parent / "ultralytics", **kwargs
    )
