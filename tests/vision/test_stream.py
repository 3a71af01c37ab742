"""The image stream: bundled sample, bad files, zips (including zip-slip), empty inputs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engines.base import EngineError
from engines.vision import images
from engines.vision.engine import LUMINANCE_EDGES
from tests.conftest import REPO, subprocess_env
from tests.vision.conftest import SAMPLE_STREAM, vision_engine


def _copy_frames(dst: Path, count: int) -> list[str]:
    dst.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in SAMPLE_STREAM.glob("*.jpg"))[:count]
    for name in names:
        shutil.copyfile(SAMPLE_STREAM / name, dst / name)
    return names


def test_bundled_stream_in_name_order_with_day_to_night_drift(tmp_path: Path) -> None:
    engine = vision_engine(None, tmp_path / "work")
    names = [p.name for p in engine.files]
    assert len(names) == 80 == engine.stream_length()
    assert names == sorted(names)
    assert names[0].startswith("000_day_") and names[-1].startswith("079_night_")
    samples = list(engine.samples())
    assert [s.index for s in samples] == list(range(80))
    assert all(s.truth is None and s.x.ndim == 3 and s.x.shape[2] == 3 for s in samples)
    lum = np.array([s.drift_value for s in samples])
    assert ((lum >= 0) & (lum <= 255)).all()
    assert lum[:40].mean() > 90 and lum[40:].mean() < 45  # the documented induced drift
    assert engine.skipped == []


def test_undecodable_file_is_skipped_and_reported(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    good = _copy_frames(folder, 4)
    (folder / "001_zz_broken.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg " * 10)
    engine = vision_engine(folder, tmp_path / "work")
    assert engine.stream_length() == 5  # files, an upper bound until the stream is read
    for _ in range(2):  # reading the stream twice reports the file once
        samples = list(engine.samples())
        assert [s.index for s in samples] == [0, 1, 2, 3]
    assert len(engine.skipped) == 1
    name, reason = engine.skipped[0]
    assert name == "001_zz_broken.jpg" and "not a decodable image" in reason
    expected = images.luminance(images.load_rgb(folder / good[1]))
    assert samples[1].drift_value == expected  # order kept around the gap


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("evil", ["../evil.jpg", "/abs.jpg", "frames/../../evil2.jpg"])
def test_zip_slip_is_refused_before_anything_is_written(tmp_path: Path, evil: str) -> None:
    jpeg = (SAMPLE_STREAM / sorted(p.name for p in SAMPLE_STREAM.glob("*.jpg"))[0]).read_bytes()
    archive = _zip(tmp_path / "frames.zip", {"a.jpg": jpeg, evil: jpeg})
    work = tmp_path / "deep" / "work"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(EngineError) as caught:
        vision_engine(archive, work)
    message = str(caught.value)
    assert str(archive) in message and repr(evil) in message
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before
    assert not Path("/abs.jpg").exists()


def test_zip_stream_is_extracted_in_name_order_and_reused(tmp_path: Path) -> None:
    names = _copy_frames(tmp_path / "src", 3)
    members = {f"clip/{n}": (tmp_path / "src" / n).read_bytes() for n in reversed(names)}
    members["clip/readme.txt"] = b"not an image"
    archive = _zip(tmp_path / "clip.zip", members)
    engine = vision_engine(archive, tmp_path / "work")
    assert [p.name for p in engine.files] == [f"clip__{n}" for n in names]
    assert all(p.is_relative_to(tmp_path / "work") for p in engine.files)
    again = vision_engine(archive, tmp_path / "work")
    assert again.files == engine.files
    assert len(list((tmp_path / "work" / "extracted").iterdir())) == 1


def test_empty_inputs_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(EngineError, match="no JPEG/PNG images"):
        vision_engine(empty, tmp_path / "work")
    archive = _zip(tmp_path / "nothing.zip", {"notes.txt": b"x"})
    with pytest.raises(EngineError, match="nothing.zip: no JPEG/PNG images"):
        vision_engine(archive, tmp_path / "work")
    with pytest.raises(EngineError, match="no such file or folder"):
        vision_engine(tmp_path / "missing", tmp_path / "work")
    (tmp_path / "frames.csv").write_text("a,b\n")
    with pytest.raises(EngineError, match="not a folder or a .zip"):
        vision_engine(tmp_path / "frames.csv", tmp_path / "work")


def test_quality_is_mean_confidence_ignoring_nan(tmp_path: Path) -> None:
    engine = vision_engine(None, tmp_path / "work")
    assert engine.quality([0.2, 0.4, float("nan")], [None, None, None]) == pytest.approx(0.3)
    assert engine.quality([], []) == 0.0


def test_training_set_is_generated_once_and_summarised_by_luminance(tmp_path: Path) -> None:
    engine = vision_engine(None, tmp_path / "work", train_images=10)
    data_yaml = engine.initial_training_data("yolo_n")
    written = data_yaml.stat().st_mtime_ns
    assert engine.retraining_data([]) == data_yaml and data_yaml.stat().st_mtime_ns == written
    labels = sorted((data_yaml.parent / "labels" / "train").glob("*.txt"))
    assert len(labels) == 8 and len(list((data_yaml.parent / "images" / "val").glob("*.jpg"))) == 2
    rows = [line.split() for p in labels for line in p.read_text().splitlines()]
    assert rows and all(r[0] == "0" and all(0.0 <= float(v) <= 1.0 for v in r[1:]) for r in rows)
    assert f"path: {data_yaml.parent.resolve()}" in data_yaml.read_text()
    summary = engine.summarise(data_yaml)
    assert summary.edges == LUMINANCE_EDGES
    assert (summary.edges[0], summary.edges[-1]) == (0.0, 255.0)
    assert summary.size == 8 and sum(summary.hist) == pytest.approx(1.0)
    assert 20 < summary.mean < 235


def test_engine_import_loads_no_framework() -> None:
    code = (
        "import sys, engines.vision.engine, engines.registry;"
        "bad = [m for m in ('torch', 'ultralytics', 'tensorflow', 'textual', 'harmone_tui')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
