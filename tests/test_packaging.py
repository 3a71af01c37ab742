"""The wheel ships the data the app needs (the import rules are in tests/test_architecture.py)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO, subprocess_env


def test_wheel_contains_sample_data_themes_and_presets(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("harmone_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "sample_data/pems_stream.csv",
        "sample_data/scenarios/recurring.csv",  # the stream of a run without --data
        "sample_data/flow_train.csv",
        "sample_data/README.md",
        "mape/presets/single-lstm.toml",
        "harmone_tui/cli.py",
        "engines/base.py",
        "harmone_common/errors.py",
        "mape/custom/standin/pyRAPL.py",  # put on a custom MAPE's path, not imported by us
        "mape/custom/compat/energy_utils.py",
    ):
        assert needed in names, needed
    assert any(n.startswith("themes/") and n.endswith(".toml") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_sample_data_is_found_through_the_installed_package_not_the_cwd(tmp_path: Path) -> None:
    probe = "from harmone_tui import paths; print(paths.sample_file('pems_stream.csv').is_file())"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=subprocess_env(),
    )
    assert done.stdout.strip() == "True", done.stderr
