"""`harmone engine new` writes a package that installs with pip and runs as written.

The package is pip-installed (editable) into a throwaway venv that sees the running
interpreter's packages through a ``.pth`` file (so nothing is fetched, and the shared venv is
not touched), then found by its entry point: `engine list` shows it, a headless run uses it,
and its own test passes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from harmone_tui.cli import main
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _venv_with_package(root: Path, package: Path) -> Path:
    """A venv (no pip of its own) seeing our packages, with ``package`` installed editable."""
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-build-isolation", "--no-deps", "--no-index", "-e", str(package)],
        check=True,
        timeout=120,
    )
    return python


def test_the_skeleton_installs_and_runs_headless(tmp_path: Path) -> None:
    assert main(["engine", "new", "tides", "--dir", str(tmp_path)]) == 0
    package = tmp_path / "tides"
    python = _venv_with_package(tmp_path, package)
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def harmone(*args: str) -> str:
        done = subprocess.run(
            [python, "-m", "harmone_tui", "--data-dir", str(tmp_path / "data"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = {row["name"]: row for row in json.loads(harmone("engine", "list", "--json"))}
    assert listed["tides"] == {
        "name": "tides",
        "origin": "harmone-tides",
        "target": "harmone_tides.engine:create_engine",
        "available": True,
        "problem": None,
    }
    summary = json.loads(
        harmone("--engine", "tides", "--no-ui", "--steps", "3000", "--summary", "-", "--quiet")
    )
    assert (summary["engine"], summary["status"], summary["steps"]) == ("tides", "finished", 3000)
    assert set(summary["model_share"]) == {"ols", "ridge"} and summary["r2"] > 0.9
    own = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=package,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert own.returncode == 0, own.stdout + own.stderr
    assert "3 passed" in own.stdout


def test_engine_new_refuses_an_existing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tides").mkdir()
    assert main(["engine", "new", "tides", "--dir", str(tmp_path)]) == 2
    assert f"{tmp_path / 'tides'}: already exists" in capsys.readouterr().err
    assert list((tmp_path / "tides").iterdir()) == []
