"""A headless run in a subprocess ended from outside: kill -9, Ctrl-C, SIGTERM during first-use
training, SIGHUP at a slow pace. The store stays intact and the run gets its final status."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from mape.knowledge import KnowledgeStore
from tests.conftest import harmone_cmd, subprocess_env
from tests.headless_runs import data_dir, run, trained_dir

__all__ = ["data_dir", "trained_dir"]  # fixtures, imported for pytest


def _wait_for_steps(
    db: Path, at_least: int, proc: subprocess.Popen[str], limit_s: float = 120
) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            with sqlite3.connect(db) as conn:
                row = conn.execute(
                    "SELECT COUNT(*) FROM steps s JOIN runs r USING (run_id)"
                    " WHERE r.status='running'"
                ).fetchone()
            if row[0] >= at_least:
                return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.2)
    raise AssertionError("the run never stored enough steps")


def _popen(*args: str) -> subprocess.Popen[str]:
    """A headless run in the background, its output piped for the test to read."""
    return subprocess.Popen(
        harmone_cmd("--no-ui", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_kill_9_mid_run_leaves_an_intact_store(data_dir: Path) -> None:
    db = data_dir / "knowledge.sqlite3"
    earlier = KnowledgeStore.open(db)
    before = {r.run_id: earlier.step_count(r.run_id) for r in earlier.runs()}
    earlier.close()
    proc = _popen("--policy", "single-linear", "--speed", "2000", "--data-dir", str(data_dir))
    _wait_for_steps(db, 1000, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    store = KnowledgeStore.open(db)
    assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {
        r.run_id: store.step_count(r.run_id) for r in store.runs() if r.run_id in before
    } == before
    killed = store.runs()[0]
    assert killed.status == "interrupted" and store.step_count(killed.run_id) >= 1000
    store.close()
    after = run(
        "--no-ui",
        "--policy",
        "single-linear",
        "--steps",
        "50",
        "--data-dir",
        str(data_dir),
        "--quiet",
    )
    assert after.returncode == 0, after.stderr


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_summary_and_exit_130(data_dir: Path, tmp_path: Path) -> None:
    out, exported = tmp_path / "partial.json", tmp_path / "export"
    proc = _popen(
        "--policy",
        "single-linear",
        "--speed",
        "2000",
        "--data-dir",
        str(data_dir),
        "--summary",
        str(out),
        "--export",
        str(exported),
    )
    _wait_for_steps(data_dir / "knowledge.sqlite3", 500, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    summary = json.loads(out.read_text())
    assert summary["status"] == "stopped" and 500 <= summary["steps"] < 14000
    store = KnowledgeStore.open(data_dir / "knowledge.sqlite3")
    assert store.run(summary["run_id"]).status == "stopped"
    assert store.step_count(summary["run_id"]) == summary["steps"]
    lines = (exported / "steps.jsonl").read_text().splitlines()  # a stopped run is exported too
    assert len(lines) == summary["steps"]
    assert json.loads((exported / "summary.json").read_text())["status"] == "stopped"


def _wait_for_line(proc: subprocess.Popen[str], text: str, limit_s: float = 120) -> list[str]:
    """Read stderr lines until one contains ``text``; returns the lines read."""
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"no {text!r} in: {''.join(lines)}")


@pytest.mark.slow
def test_sigterm_during_first_use_training_ends_the_start_up_at_once(tmp_path: Path) -> None:
    """The LSTM trains for a minute on first use: SIGTERM must not wait for it."""
    root, out = tmp_path / "fresh", tmp_path / "s.json"
    proc = _popen(
        "--policy", "single-lstm", "--steps", "50", "--data-dir", str(root), "--summary", str(out)
    )
    _wait_for_line(proc, "training lstm v1 on first use")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)  # the training alone takes longer than this
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    summary = json.loads(out.read_text())
    assert summary["status"] == "stopped" and summary["stop_reason"] == "SIGTERM"
    assert summary["steps"] == 0
    store = KnowledgeStore.open(root / "knowledge.sqlite3")
    assert [r.status for r in store.runs()] == ["stopped"]
    assert store.versions() == []  # the half-trained version was not committed


@pytest.mark.slow
def test_sighup_during_a_slow_paced_run_stores_it_and_exits_129(
    data_dir: Path, tmp_path: Path
) -> None:
    """A dropped SSH session while the run waits between steps (`--speed 0.5`: 2 s a step)."""
    out = tmp_path / "s.json"
    proc = _popen(
        "--policy",
        "single-linear",
        "--speed",
        "0.5",
        "--steps",
        "100",
        "--data-dir",
        str(data_dir),
        "--summary",
        str(out),
    )
    _wait_for_line(proc, "harmone: ready")
    time.sleep(0.5)
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 129, err
    assert "Traceback" not in err
    summary = json.loads(out.read_text())
    assert summary["status"] == "stopped" and summary["stop_reason"] == "SIGHUP"
    assert 1 <= summary["steps"] < 100
    store = KnowledgeStore.open(data_dir / "knowledge.sqlite3")
    assert store.run(summary["run_id"]).status == "stopped"
    assert store.step_count(summary["run_id"]) == summary["steps"]
