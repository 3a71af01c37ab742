"""Processes sharing one data directory never delete or overwrite each other's work."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mape.model_files import checksums
from mape.train_lock import TrainingLock
from tests.conftest import REPO, harmone_cmd, subprocess_env
from tests.store.helpers import repo_at, train_version

COMMITTER = """
import os, sys
from pathlib import Path
from mape.knowledge import KnowledgeStore
from mape.model_repo import ModelRepository
root, count = Path(sys.argv[1]), int(sys.argv[2])
repo = ModelRepository(root, KnowledgeStore.open(root / "knowledge.sqlite3"))
sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
for i in range(count):
    staging = repo.staging_dir("regression", "linear")
    (staging / "model.pkl").write_bytes(f"{os.getpid()} {i}".encode())
    if i % 5 == 0:
        repo.clean_leftovers()  # another run starting up meanwhile
    repo.commit("regression", "linear", staging, {"i": i}, "test", None)
"""

HOLDER = """
import sys
from pathlib import Path
from mape.knowledge import KnowledgeStore
from mape.model_repo import ModelRepository
root = Path(sys.argv[1])
staging = ModelRepository(root, KnowledgeStore.open(root / "knowledge.sqlite3")).staging_dir(
    "regression", "lstm")
(staging / "model.keras").write_bytes(b"half-written by a live run")
print(staging, flush=True)
sys.stdin.readline()
"""


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=subprocess_env(),
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_start_up_cleanup_leaves_a_live_runs_staging_and_removes_a_dead_ones(
    tmp_path: Path,
) -> None:
    holder = _python(HOLDER, str(tmp_path))
    assert holder.stdout is not None and holder.stdin is not None
    staging = Path(holder.stdout.readline().strip())
    repo = repo_at(tmp_path)
    try:
        assert repo.clean_leftovers() == []
        assert (staging / "model.keras").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert repo.clean_leftovers() == [staging]


def test_three_processes_committing_at_once_all_succeed_with_distinct_versions(
    tmp_path: Path,
) -> None:
    count = 40
    repo_at(tmp_path).store.close()
    workers = [_python(COMMITTER, str(tmp_path), str(count)) for _ in range(3)]
    for w in workers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready"
    for w in workers:  # all start committing together
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    errors = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], errors
    repo = repo_at(tmp_path)
    versions = repo.versions("regression", "linear")
    assert [v.version for v in versions] == list(range(1, 3 * count + 1))
    payloads = {(v.directory / "model.pkl").read_text() for v in versions}
    assert len(payloads) == 3 * count  # every commit kept its own files
    assert all(checksums(v.directory) == v.meta["files"] for v in versions)
    assert not list((tmp_path / "models" / "regression" / "linear").glob(".staging-*"))


@pytest.mark.slow
def test_a_run_needing_a_model_another_run_is_training_waits_and_uses_that_version(
    tmp_path: Path,
) -> None:
    """The test holds the first-use lock of linear, as a run training it would; a real run on
    the same data dir waits, saying so, then loads the version the holder commits."""
    root = tmp_path / "data"
    repo = repo_at(root)
    lock = TrainingLock(repo.models_root / "regression" / "linear")
    assert lock.try_acquire()
    run = subprocess.Popen(
        harmone_cmd(
            "--no-ui", "--policy", "single-linear", "--steps", "20", "--data-dir", str(root)
        ),
        env=subprocess_env(),
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stderr is not None
        line = run.stderr.readline()
        deadline = time.monotonic() + 120
        while "waiting for another harmone run" not in line and time.monotonic() < deadline:
            assert line, "the run ended without waiting"
            line = run.stderr.readline()
        assert "finish training linear" in line
        train_version(repo)
    finally:
        lock.release()
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "using linear v1, trained by the other run" in err
    assert [v.version for v in repo.versions("regression", "linear")] == [1]
