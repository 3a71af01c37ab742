"""When the main process dies (kill -9, OOM), its training worker and multiprocessing's resource
tracker must not live on: a real run, killed while its worker trains the LSTM on first use."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import harmone_cmd, subprocess_env

pytestmark = pytest.mark.slow


def _children(parent: psutil.Process) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """(spawn workers, resource trackers) among the parent's children."""
    workers, trackers = [], []
    for child in parent.children():
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in line:
            workers.append(child)
        elif "resource_tracker" in line:
            trackers.append(child)
    return workers, trackers


def test_worker_and_resource_tracker_exit_when_the_run_is_killed(tmp_path: Path) -> None:
    log = (tmp_path / "run.log").open("w")
    run = subprocess.Popen(
        harmone_cmd(
            "--no-ui",
            "--policy",
            "single-lstm",
            "--steps",
            "20",
            "--data-dir",
            str(tmp_path / "data"),
        ),
        env=subprocess_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    parent = psutil.Process(run.pid)
    left: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        workers: list[psutil.Process] = []
        trackers: list[psutil.Process] = []
        while not (workers and trackers) and time.monotonic() < deadline:
            assert run.poll() is None, (tmp_path / "run.log").read_text()
            workers, trackers = _children(parent)
            time.sleep(0.2)
        assert workers and trackers, "the run never started its training worker"
        left = workers + trackers
        time.sleep(2.0)  # the worker is importing TensorFlow or training by now
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        gone, alive = psutil.wait_procs(left, timeout=15)
        assert alive == [], f"still running after the parent died: {[p.cmdline() for p in alive]}"
    finally:
        for process in left:
            if process.is_running():
                process.kill()
        if run.poll() is None:
            run.kill()
        log.close()
