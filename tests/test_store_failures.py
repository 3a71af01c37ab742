"""The knowledge store when writing goes wrong: a lock held by another process, a full disk,
runs whose process is gone. Real SQLite files and real processes throughout."""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mape.knowledge import KnowledgeError, KnowledgeStore
from mape.step_writer import StepWriter
from tests.conftest import harmone_cmd, subprocess_env


def _store(tmp_path: Path) -> KnowledgeStore:
    return KnowledgeStore.open(tmp_path / "knowledge.sqlite3")


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another connection (as another process would) in a write transaction, not committed."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO meta(key, value) VALUES ('held', 'by a test')")
    return other


# a busy store ---------------------------------------------------------------------------------
def test_a_lock_released_within_the_bound_is_waited_for(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run = store.start_run("p", "regression", "d", {})
    other = _hold_write_lock(store.path)
    threading.Timer(0.5, other.execute, ("COMMIT",)).start()
    store.add_event(run, 0, "info", {"note": "written once the lock was released"})
    assert store.event_counts(run) == {"info": 1}


@pytest.mark.parametrize("writer", ["events", "steps"])
def test_a_lock_held_past_the_bound_fails_cleanly_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    import mape.store_write as store_write

    monkeypatch.setattr(store_write, "BUSY_WAIT_S", 1.0)
    store = _store(tmp_path)
    run = store.start_run("p", "regression", "d", {})
    other = _hold_write_lock(store.path)
    with pytest.raises(KnowledgeError) as info:
        if writer == "events":
            store.add_event(run, 0, "info", {})
        else:
            steps = StepWriter(store.path)
            steps.write([(run, 0, 1.0, 1.0, "linear", 1, 0.1, 0.1, 0.1, "estimated", 0.0)])
            steps.close()
    message = str(info.value)
    assert "\n" not in message and str(store.path) in message
    assert "locked by another process" in message
    other.execute("ROLLBACK")


# a full disk ------------------------------------------------------------------------------------
def _limit_file_size() -> None:
    """A file-size limit: writes past it fail with EFBIG, which SQLite reports as a full disk.
    (Python ignores SIGXFSZ, so the write fails instead of killing the process.)"""
    resource.setrlimit(resource.RLIMIT_FSIZE, (192 * 1024, 192 * 1024))


@pytest.mark.slow
def test_a_full_disk_ends_the_run_failed_with_one_line_and_its_summary(tmp_path: Path) -> None:
    """Headless, real process: the step writer hits the limit mid-run. (SQLite reports the
    refused write as "disk I/O error"; ENOSPC on a really full disk reads "database or disk is
    full": both are the same OperationalError path.)"""
    root, out = tmp_path / "data", tmp_path / "s.json"
    trained = subprocess.run(
        harmone_cmd(
            "--no-ui",
            "--policy",
            "single-linear",
            "--steps",
            "10",
            "--data-dir",
            str(root),
            "--quiet",
        ),
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=240,
    )
    assert trained.returncode == 0, trained.stderr
    done = subprocess.run(
        harmone_cmd(
            "--no-ui",
            "--policy",
            "single-linear",
            "--data-dir",
            str(root),
            "--summary",
            str(out),
            "--quiet",
        ),
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=240,
        preexec_fn=_limit_file_size,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("harmone: error: ") and "cannot write the knowledge store" in line
    summary = json.loads(out.read_text())
    assert summary["status"] == "failed" and "cannot write the knowledge store" in summary["error"]
    assert summary["steps"] > 0
    store = KnowledgeStore.open(root / "knowledge.sqlite3")
    latest = store.runs()[0]
    assert latest.run_id == summary["run_id"] and latest.status in ("failed", "interrupted")
    store.close()


# runs whose process is gone ---------------------------------------------------------------------
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_whose_pid_was_reused_by_another_process_becomes_interrupted(tmp_path: Path) -> None:
    store = _store(tmp_path)
    live = store.start_run("p", "regression", "d", {})
    reused = store.start_run("p", "regression", "d", {})
    store._conn.execute(
        "UPDATE runs SET pid_started = pid_started - 3600 WHERE run_id=?", (reused,)
    )
    store.close()
    statuses = {r.run_id: r.status for r in _store(tmp_path).runs()}
    assert statuses == {live: "running", reused: "interrupted"}  # this process is alive


def test_a_listing_never_shows_a_dead_run_as_running(tmp_path: Path) -> None:
    """The store was opened before that run's process died (a TUI open for hours)."""
    store = _store(tmp_path)
    other = _store(tmp_path)
    run = other.start_run("p", "regression", "d", {})
    other._conn.execute("UPDATE runs SET pid=? WHERE run_id=?", (_dead_pid(), run))
    other.close()
    assert [r.status for r in store.runs()] == ["interrupted"]
    assert store.run(run).status == "interrupted"


def test_a_store_from_before_the_start_time_column_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, started_at REAL NOT NULL,"
        " finished_at REAL, status TEXT NOT NULL, pid INTEGER, policy TEXT NOT NULL,"
        " engine TEXT NOT NULL, data TEXT NOT NULL, settings_json TEXT NOT NULL DEFAULT '{}',"
        " summary_json TEXT)"
    )
    old.execute(
        "INSERT INTO runs(started_at, status, pid, policy, engine, data) VALUES (1, 'running', ?,"
        " 'p', 'regression', 'd')",
        (os.getpid(),),
    )
    old.commit()
    old.close()
    store = KnowledgeStore.open(path)
    assert [r.status for r in store.runs()] == ["running"]  # alive, start time unknown
    run = store.start_run("p", "regression", "d", {})
    assert store.run(run).status == "running"
