"""Harmonica's dataset formats work with `--data` as they are (seeds/001, "Dataset Formats"):
a `dataset.csv` with one `flow` column, and a zip of JPEG/PNG images at its root or in one folder.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

from PIL import Image

from tests.conftest import harmone_cmd, subprocess_env
from tests.vision.conftest import SAMPLE_STREAM, vision_engine

SEED_DATASET = (
    "flow\n173.0\n169.0\n160.0\n187.0\n195.5\n205.0\n210.2\n180.5\n150.0\n140.0\n135.5\n"
    "130.0\n125.0\n140.0\n155.0\n165.0\n175.0\n185.0\n190.0\n195.0\n"
)


def test_the_seeds_dataset_csv_runs_as_it_is(tmp_path: Path) -> None:
    data = tmp_path / "dataset.csv"
    data.write_text(SEED_DATASET)
    done = subprocess.run(
        harmone_cmd("--no-ui", "--policy", "single-linear", "--data", str(data), "--quiet")
        + ["--summary", str(tmp_path / "s.json")],
        capture_output=True,
        text=True,
        timeout=240,
        env=subprocess_env(),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["steps"] == 15  # 20 values, a window of 5 before the first prediction
    assert summary["data_read"]["stream"]["rows"] == 20


def _png(jpeg: Path) -> bytes:
    out = io.BytesIO()
    Image.open(jpeg).save(out, format="PNG")
    return out.getvalue()


def test_a_zip_of_jpg_and_png_at_its_root_is_a_stream(tmp_path: Path) -> None:
    frames = sorted(SAMPLE_STREAM.glob("*.jpg"))[:3]
    archive = tmp_path / "images.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.jpg", frames[0].read_bytes())
        zf.writestr("b.png", _png(frames[1]))
        zf.writestr("c.jpg", frames[2].read_bytes())
    engine = vision_engine(archive, tmp_path / "work")
    assert [p.name for p in engine.files] == ["a.jpg", "b.png", "c.jpg"]
    assert engine.stream_length() == 3
