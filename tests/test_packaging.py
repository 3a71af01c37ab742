"""The wheel ships the data the app needs, and the layers import only what they may."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, subprocess_env

FORBIDDEN = {
    "mape": ("textual", "tensorflow", "torch", "ultralytics", "sklearn", "harmone_tui"),
    "engines": ("textual", "harmone_tui"),
    "harmone_tui.headless": ("textual",),
    "harmone_tui.runtime": ("textual",),
    "harmone_tui.cli": ("textual", "tensorflow", "torch"),
}
CORE_MODULES = [
    "mape.knowledge", "mape.model_repo", "mape.policy", "mape.policy_file", "mape.loop",
    "mape.effector",
]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_nothing_it_must_not(package: str) -> None:
    modules = {
        "mape": CORE_MODULES,
        "engines": ["engines.base", "engines.registry", "engines.energy", "engines.regression.engine",
                    "engines.regression.factory", "engines.regression.training"],
    }.get(package, [package])
    probe = "import importlib, sys\n"
    probe += "".join(f"importlib.import_module({m!r})\n" for m in modules)
    probe += f"print(sorted(m for m in {FORBIDDEN[package]!r} if m in sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=subprocess_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_wheel_contains_sample_data_themes_and_presets(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("harmone_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("sample_data/pems_stream.csv", "sample_data/flow_train.csv", "sample_data/README.md",
                   "mape/presets/single-lstm.toml", "harmone_tui/cli.py", "engines/base.py"):
        assert needed in names, needed
    assert any(n.startswith("themes/") and n.endswith(".toml") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_sample_data_is_found_through_the_installed_package_not_the_cwd(tmp_path: Path) -> None:
    probe = "from harmone_tui import paths; print(paths.sample_file('pems_stream.csv').is_file())"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=subprocess_env())
    assert done.stdout.strip() == "True", done.stderr
