"""Headless runs in a subprocess, as a user starts them, and a data dir with linear and svm
already trained (first use once per test module that asks for it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import harmone_cmd, subprocess_env


def run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harmone_cmd(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=subprocess_env(),
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir where linear and svm v1 are already trained (first use, once per module)."""
    root = tmp_path_factory.mktemp("trained")
    for policy in ("single-linear", "single-svm"):
        done = run(
            "--no-ui", "--policy", policy, "--steps", "10", "--data-dir", str(root), "--quiet"
        )
        assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def data_dir(trained_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(trained_dir, target)
    return target


# linear and svm, switching every 100 steps on an R² bar neither model clears: events for sure
FLIPPING = """
name = "flipping"
engine = "regression"
models = ["linear", "svm"]
start_model = "linear"
[score]
beta = 1.0
[switch]
every_steps = 100
window_steps = 100
min_score = 0.999
explore = 0.0
min_dwell_steps = 100
[drift]
enabled = false
[retrain]
every_steps = 0
"""
