"""YOLO's fast serving path: the version's ONNX export, committed with it, finds the boxes the
torch model finds, on real frames; versions without an export still load, damaged ones do not."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from engines.base import EngineError
from mape.knowledge import KnowledgeStore
from mape.model_repo import ModelRepository, StoredVersion
from tests.vision.conftest import SAMPLE_STREAM

if TYPE_CHECKING:  # not at import: Ultralytics must be set up offline first
    from engines.vision.engine import VisionEngine

pytestmark = [pytest.mark.vision, pytest.mark.slow]
LOW_CONF = 0.01  # the session's 1-epoch model is unsure of everything: keep its many boxes


def stored_n(root: Path) -> StoredVersion:
    stored = ModelRepository(root, KnowledgeStore.open(root / "knowledge.sqlite3")).latest(
        "vision", "yolo_n"
    )
    assert stored is not None
    return stored


def engine_over(root: Path, folder: Path, serving: str) -> VisionEngine:
    from engines.vision.engine import create_vision_engine

    engine = create_vision_engine(folder, root / "vision", config_dir=root / "ultralytics")
    engine.serving = serving
    return engine


def some_frames(tmp_path: Path) -> Path:
    """Day and night frames of the bundled stream."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for f in sorted(SAMPLE_STREAM.glob("*.jpg"))[::8]:
        shutil.copyfile(f, folder / f.name)
    return folder


def test_a_trained_version_is_committed_with_its_onnx_export_recorded(vision_root: Path) -> None:
    stored = stored_n(vision_root)
    export = stored.directory / "weights.onnx"
    assert export.stat().st_size > 1_000_000 and stored.meta["onnx_export"] == "weights.onnx"
    assert stored.meta["files"]["weights.onnx"] == hashlib.sha256(export.read_bytes()).hexdigest()


def test_the_fast_path_finds_the_boxes_torch_finds_on_real_frames(
    vision_root: Path, tmp_path: Path
) -> None:
    stored = stored_n(vision_root)
    folder = some_frames(tmp_path)
    loaded = {}
    for serving in ("framework", "fast"):
        loaded[serving] = engine_over(vision_root, folder, serving).load(
            "yolo_n", 1, stored.directory
        )
        loaded[serving].conf = LOW_CONF
    assert (loaded["framework"].serving, loaded["fast"].serving) == ("framework", "fast")
    boxes = 0
    for sample in engine_over(vision_root, folder, "fast").samples():
        torch_conf, onnx_conf = (np.sort(m.confidences(sample.x)) for m in loaded.values())
        assert len(onnx_conf) == len(torch_conf)
        np.testing.assert_allclose(onnx_conf, torch_conf, rtol=1e-4, atol=1e-6)
        boxes += len(torch_conf)
    assert boxes > 0


def test_a_version_stored_without_an_export_is_exported_at_load_and_not_written(
    vision_root: Path, tmp_path: Path
) -> None:
    """Versions stored before exports were committed: the directory is never written."""
    stored = stored_n(vision_root)
    old = tmp_path / "v1"
    old.mkdir()
    shutil.copyfile(stored.directory / "weights.pt", old / "weights.pt")
    folder = some_frames(tmp_path)
    engine = engine_over(vision_root, folder, "fast")
    exported, committed = (engine.load("yolo_n", 1, d) for d in (old, stored.directory))
    assert sorted(p.name for p in old.iterdir()) == ["weights.pt"]
    for model in (exported, committed):
        model.conf = LOW_CONF
    frame = next(engine.samples()).x
    np.testing.assert_allclose(exported.confidences(frame), committed.confidences(frame), rtol=1e-5)


def test_a_damaged_export_is_refused_by_name(vision_root: Path, tmp_path: Path) -> None:
    version = tmp_path / "v1"
    shutil.copytree(stored_n(vision_root).directory, version)
    (version / "weights.onnx").write_bytes(b"not a model")
    engine = engine_over(vision_root, some_frames(tmp_path), "fast")
    with pytest.raises(
        EngineError,
        match=r"v1/weights.onnx: not runnable by ONNX Runtime.*"
        r'serving = "framework"',
    ):
        engine.load("yolo_n", 1, version)
