"""Training, loading, predicting and importing YOLO versions (real Ultralytics, real frames)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from engines.base import EngineError
from harmone_tui.cli import main
from harmone_tui.commands.models import import_checkpoint
from mape.knowledge import KnowledgeStore
from mape.model_repo import ModelRepository
from tests.vision.conftest import SAMPLE_STREAM

pytestmark = [pytest.mark.vision, pytest.mark.slow]


def _repo(root: Path) -> ModelRepository:
    return ModelRepository(root, KnowledgeStore.open(root / "knowledge.sqlite3"))


def test_bootstrap_commits_v1_with_weights_and_meta(vision_root: Path) -> None:
    stored = _repo(vision_root).latest("vision", "yolo_n")
    assert stored is not None and stored.version == 1 and stored.reason == "first use"
    assert (stored.directory / "weights.pt").stat().st_size > 1_000_000
    meta = json.loads((stored.directory / "meta.json").read_text())
    assert meta["imgsz"] == 64 and meta["epochs"] == 1 and meta["train_images"] == 6
    assert meta["architecture"] == "yolov8n.yaml" and meta["train_cpu_s"] > 0
    assert meta["data_summary"]["size"] == 6 and meta["data_summary"]["edges"][-1] == 255.0
    assert "val_map50" in meta
    assert not list(stored.directory.parent.glob(".staging-*"))
    font = vision_root / "ultralytics" / "Ultralytics" / "Arial.ttf"
    settings = json.loads((font.parent / "settings.json").read_text())
    assert font.stat().st_size > 100_000 and settings["sync"] is False


def test_load_and_predict_on_real_frames(vision_root: Path, tmp_path: Path) -> None:
    from engines.vision.engine import create_vision_engine

    frames = sorted(SAMPLE_STREAM.glob("*.jpg"))
    folder = tmp_path / "three"
    folder.mkdir()
    for f in (frames[0], frames[20], frames[60]):
        (folder / f.name).write_bytes(f.read_bytes())
    engine = create_vision_engine(
        folder, vision_root / "vision", config_dir=vision_root / "ultralytics"
    )
    stored = _repo(vision_root).latest("vision", "yolo_n")
    assert stored is not None
    model = engine.load("yolo_n", stored.version, stored.directory)
    assert (model.name, model.version) == ("yolo_n", 1)
    values = [model.predict(s.x) for s in engine.samples()]
    assert len(values) == 3
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in values)
    model.conf = 0.001
    assert 0.0 < model.predict(next(engine.samples()).x) <= 1.0  # the network does produce boxes
    with pytest.raises(EngineError, match="weights missing"):
        engine.load("yolo_n", 9, tmp_path)
    import ultralytics.utils

    assert ultralytics.utils.ONLINE is False  # imported offline: no download is ever attempted


def test_import_of_a_produced_checkpoint_creates_the_next_version(
    vision_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(vision_root)
    weights = repo.latest("vision", "yolo_n").directory / "weights.pt"  # type: ignore[union-attr]
    before = repo.store.max_version("vision", "yolo_s")
    code = main(["models", "import", "yolo_s", str(weights), "--data-dir", str(vision_root)])
    assert code == 0
    stored = _repo(vision_root).latest("vision", "yolo_s")
    assert stored is not None and stored.version == before + 1
    assert stored.reason == f"imported from {weights}"
    copied = (stored.directory / "weights.pt").read_bytes()
    assert hashlib.sha256(copied).hexdigest() == stored.meta["sha256"]
    assert copied == weights.read_bytes() and stored.meta["names"] == {"0": "vehicle"}
    assert main(["models", "list", "--engine", "vision", "--data-dir", str(vision_root)]) == 0
    out = capsys.readouterr().out
    assert "yolo_n" in out and "first use" in out and f"v{stored.version}" in out


def test_import_refuses_a_file_that_is_not_a_checkpoint(
    vision_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "x.pt"
    bogus.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(EngineError, match=r"x\.pt: not a YOLO checkpoint \(.+\)"):
        import_checkpoint(vision_root, "yolo_m", bogus)
    assert main(["models", "import", "yolo_m", str(bogus), "--data-dir", str(vision_root)]) == 2
    err = capsys.readouterr().err
    assert "not a YOLO checkpoint" in err and "Traceback" not in err
    assert _repo(vision_root).latest("vision", "yolo_m") is None
    assert not list((vision_root / "models" / "vision").glob("*/.staging-*"))


class _Shell:
    """What a crafted checkpoint holds: unpickling it runs a shell command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (self.command,))


def _crafted(path: Path, marker: Path) -> Path:
    import torch

    torch.save({"model": _Shell(f"touch {marker}"), "train_args": {}}, path)
    return path


def test_import_refuses_a_crafted_checkpoint_without_running_it(
    vision_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    evil = _crafted(tmp_path / "evil.pt", marker)
    assert main(["models", "import", "yolo_m", str(evil), "--data-dir", str(vision_root)]) == 2
    err = capsys.readouterr().err
    assert f"{evil}: not a YOLO checkpoint" in err and "Traceback" not in err
    assert not marker.exists()
    assert _repo(vision_root).latest("vision", "yolo_m") is None


def test_a_run_refuses_a_crafted_checkpoint_in_a_version_dir_without_running_it(
    vision_root: Path, tmp_path: Path
) -> None:
    """Someone who can write the data dir swaps weights.pt and rewrites its checksums: the
    restricted loader still refuses it, and the run goes on with the previous version."""
    import shutil

    from engines.vision.engine import create_vision_engine
    from harmone_tui.start_versions import load_start_versions
    from harmone_tui.trainer_pool import TrainerPool
    from tests.store.helpers import rewrite

    root = tmp_path / "data"
    shutil.copytree(vision_root, root)
    repo = _repo(root)
    v1 = repo.latest("vision", "yolo_n")
    assert v1 is not None
    v2 = repo.adopt(v1, "copy")
    marker = tmp_path / "pwned"
    rewrite(v2, "weights.pt", _crafted(tmp_path / "evil.pt", marker).read_bytes(), record=True)
    repo = _repo(root)
    engine = create_vision_engine(None, vision_root / "vision", config_dir=root / "ultralytics")
    errors: list[dict] = []
    pool = TrainerPool(repo, lambda s: s)
    started = asyncio.run(
        load_start_versions(engine, pool, ["yolo_n"], lambda _: None, errors.append)
    )
    assert started["yolo_n"].stored.version == 1
    assert not marker.exists()
    (error,) = errors
    assert "weights.pt: not a YOLO checkpoint (references types outside" in error["error"]
    assert str(v2.directory) in error["error"]


def test_the_same_checkpoint_imported_twice_is_stored_once(
    vision_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    import shutil

    shutil.copytree(vision_root, root)
    stored = _repo(root).latest("vision", "yolo_n")
    assert stored is not None
    weights = stored.directory / "weights.pt"
    copy = tmp_path / "mine.pt"
    copy.write_bytes(weights.read_bytes())
    assert main(["models", "import", "yolo_s", str(copy), "--data-dir", str(root)]) == 0
    first = capsys.readouterr().out
    assert main(["models", "import", "yolo_s", str(copy), "--data-dir", str(root)]) == 0
    second = capsys.readouterr().out
    version = _repo(root).latest("vision", "yolo_s").version  # type: ignore[union-attr]
    assert f"as vision yolo_s v{version}" in first
    assert f"is already imported as vision yolo_s v{version}" in second
    assert [v.version for v in _repo(root).versions("vision", "yolo_s")] == [version]
