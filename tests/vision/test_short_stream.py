"""A folder with files that do not decode: the stream is shorter than stream_length() promised.

With the real YOLO engine (the fake-engine tests in tests/test_run_lifecycle.py cover the runtime
in detail): the run ends when the stream does, and a folder with nothing decodable is refused.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from engines.base import EngineError
from harmone_tui.settings import RunSettings
from mape.policy_file import parse_policy, preset_text
from tests.running import NewRun
from tests.vision.conftest import SAMPLE_STREAM

BOUND_S = 120.0  # a hang fails the test instead of the suite


def _runtime(vision_root: Path, tmp_path: Path, folder: Path) -> NewRun:
    data_dir = Path(shutil.copytree(vision_root, tmp_path / "data"))
    text = preset_text("vision-single-yolo_n")
    policy = parse_policy(text, "vision-single-yolo_n")
    settings = RunSettings(data_dir=data_dir, engine="vision", data=folder)
    return NewRun(settings, policy, "vision-single-yolo_n", text)


def _folder(tmp_path: Path, frames: int, broken: list[str]) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    for path in sorted(SAMPLE_STREAM.glob("*.jpg"))[:frames]:
        shutil.copyfile(path, folder / path.name)
    for name in broken:
        (folder / name).write_text("not an image")
    return folder


def test_a_broken_last_file_ends_the_run_with_the_stream(vision_root: Path, tmp_path: Path) -> None:
    runtime = _runtime(vision_root, tmp_path, _folder(tmp_path, 3, ["zz-broken.jpg"]))

    async def scenario() -> dict:
        return await asyncio.wait_for(runtime.run(), BOUND_S)

    summary = asyncio.run(scenario())
    assert runtime.engine.stream_length() == 4
    assert summary["status"] == "finished" and summary["steps"] == 3
    (skipped,) = runtime.store.events(runtime.run_id, ["error"])
    assert skipped.detail["file"] == "zz-broken.jpg"


def test_a_folder_of_only_broken_files_is_refused(vision_root: Path, tmp_path: Path) -> None:
    runtime = _runtime(vision_root, tmp_path, _folder(tmp_path, 0, ["a.jpg", "b.jpg"]))

    async def scenario() -> None:
        await asyncio.wait_for(runtime.prepare(), BOUND_S)

    expected = r"frames: no usable item in the stream \(2 skipped, e.g. a.jpg"
    with pytest.raises(EngineError, match=expected):
        asyncio.run(scenario())
    assert runtime.runtime is None and runtime.final_summary is None  # no run was created
