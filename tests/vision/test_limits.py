"""Hostile image streams: oversized images, zip bombs, symlink members, archives past the limits.

Every input is generated in tmp_path and read through the real vision engine's stream.
"""

from __future__ import annotations

import json
import shutil
import stat
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from engines.base import EngineError
from engines.vision import limits
from harmone_tui.cli import main
from mape.knowledge import KnowledgeStore
from tests.vision.conftest import SAMPLE_STREAM, vision_engine

FRAMES = sorted(p.name for p in SAMPLE_STREAM.glob("*.jpg"))


def _frames(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FRAMES[:count]:
        shutil.copyfile(SAMPLE_STREAM / name, folder / name)
    return FRAMES[:count]


def _huge_png(path: Path, side: int = 13_000) -> Path:
    """One colour, ``side`` x ``side``: a few KB on disk, 507 MB as RGB pixels at 13,000."""
    Image.new("1", (side, side), 1).save(path)
    return path


def _tree(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*"))


def test_an_image_above_the_pixel_limit_is_skipped_unread(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    _frames(folder, 2)
    _huge_png(folder / "001_zz_huge.png")
    engine = vision_engine(folder, tmp_path / "work")
    samples = list(engine.samples())
    assert [s.index for s in samples] == [0, 1]
    assert [name for name, _ in engine.skipped] == ["001_zz_huge.png"]
    reason = engine.skipped[0][1]
    assert "13000 x 13000" in reason and "HARMONE_MAX_IMAGE_PIXELS" in reason


def test_the_pixel_limit_is_set_by_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "frames"
    _frames(folder, 2)  # 640 x 360 = 230,400 pixels each
    monkeypatch.setenv("HARMONE_MAX_IMAGE_PIXELS", "200000")
    engine = vision_engine(folder, tmp_path / "work")
    assert list(engine.samples()) == []
    assert len(engine.skipped) == 2 and "200,000" in engine.skipped[0][1]
    monkeypatch.setenv("HARMONE_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(EngineError, match="HARMONE_MAX_IMAGE_PIXELS='lots': must be a whole"):
        vision_engine(folder, tmp_path / "work")


def test_large_frames_are_decoded_reduced_to_what_the_detector_can_use(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, shade in enumerate((40, 200)):
        Image.new("RGB", (4000, 3000), (shade, shade, shade)).save(folder / f"{i}.jpg")
    engine = vision_engine(folder, tmp_path / "work")
    samples = list(engine.samples())
    assert [s.x.shape for s in samples] == [(960, 1280, 3)] * 2
    assert [round(s.drift_value) for s in samples] == [40, 200]  # luminance kept


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.jpg", (SAMPLE_STREAM / FRAMES[0]).read_bytes())
        with zf.open("frames/b.png", "w") as member:
            zero = bytes(1 << 20)
            for _ in range(200):  # 200 MB of zeros, ~200 KB compressed
                member.write(zero)
    assert archive.stat().st_size < 1 << 20
    before = _tree(tmp_path)
    with pytest.raises(EngineError) as caught:
        vision_engine(archive, tmp_path / "work")
    message = str(caught.value)
    assert str(archive) in message and "compression ratio" in message and "zip bomb" in message
    assert _tree(tmp_path) == before


def test_a_zip_past_the_size_or_member_limit_is_refused_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = {n: (SAMPLE_STREAM / n).read_bytes() for n in FRAMES[:3]}
    archive = _zip(tmp_path / "clip.zip", members)
    total = sum(len(b) for b in members.values())
    monkeypatch.setenv("HARMONE_MAX_ZIP_BYTES", str(total - 1))
    with pytest.raises(EngineError, match=r"clip\.zip: .*HARMONE_MAX_ZIP_BYTES"):
        vision_engine(archive, tmp_path / "work")
    monkeypatch.setenv("HARMONE_MAX_ZIP_BYTES", str(total))
    monkeypatch.setenv("HARMONE_MAX_ZIP_MEMBERS", "2")
    with pytest.raises(EngineError, match=r"clip\.zip: 3 members, .*HARMONE_MAX_ZIP_MEMBERS"):
        vision_engine(archive, tmp_path / "work")
    assert not (tmp_path / "work").exists()
    monkeypatch.setenv("HARMONE_MAX_ZIP_MEMBERS", "3")
    assert len(vision_engine(archive, tmp_path / "work").files) == 3


def test_a_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.jpg", (SAMPLE_STREAM / FRAMES[0]).read_bytes())
        link = zipfile.ZipInfo("frames/b.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    before = _tree(tmp_path)
    with pytest.raises(EngineError) as caught:
        vision_engine(archive, tmp_path / "work")
    assert "'frames/b.jpg'" in str(caught.value) and "symbolic link" in str(caught.value)
    assert _tree(tmp_path) == before


def test_a_zip_is_extracted_member_by_member_never_whole_in_memory(tmp_path: Path) -> None:
    """24 MB of stored members: extracting (and hashing the archive) stays within a few MB."""
    noise = bytes(range(256)) * (3 << 12)  # 3 MB, not an image, but named like one
    members = {f"{i:02}.jpg": b"\xff\xd8\xff" + noise for i in range(8)}
    archive = _zip(tmp_path / "big.zip", members, zipfile.ZIP_STORED)
    tracemalloc.start()
    try:
        engine = vision_engine(archive, tmp_path / "work")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(engine.files) == 8
    assert peak < 4 << 20, f"peak {peak / 2**20:.1f} MB"


@pytest.mark.vision
@pytest.mark.slow
def test_a_run_reports_the_oversized_image_as_an_error_event(
    vision_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(vision_root, data)
    folder = tmp_path / "frames"
    _frames(folder, 40)  # more than the runtime's 30 calibration frames, which read past the PNG
    _huge_png(folder / "001_zz_huge.png")
    summary = tmp_path / "summary.json"
    code = main(
        [
            "--no-ui",
            "--engine",
            "vision",
            "--policy",
            "vision-single-yolo_n",
            "--data",
            str(folder),
            "--data-dir",
            str(data),
            "--summary",
            str(summary),
            "--quiet",
            "--steps",
            "5",
        ]
    )
    assert code == 0, capsys.readouterr().err
    result = json.loads(summary.read_text())
    assert result["steps"] == 5 and result["errors"] == 1
    store = KnowledgeStore.open(data / "knowledge.sqlite3")
    try:
        (event,) = store.events(result["run_id"], ["error"])
    finally:
        store.close()
    assert event.detail["file"] == "001_zz_huge.png" and "13000 x 13000" in event.detail["error"]


@pytest.mark.parametrize("command", ["run", "compare"])
def test_help_states_the_limits_in_force(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"images above {limits.DEFAULT_IMAGE_PIXELS // 10**6} MP are skipped" in text
    assert f"{limits.DEFAULT_ZIP_BYTES >> 30} GiB or {limits.DEFAULT_ZIP_MEMBERS:,} members" in text
    assert "$HARMONE_MAX_IMAGE_PIXELS" in text
