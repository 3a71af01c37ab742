"""`harmone --no-ui` as a user runs it: real subprocesses, real models, real files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from engines.regression.data import read_series
from mape.knowledge import KnowledgeStore
from tests.conftest import RAW_PEMS_WEEK, harmone_cmd, subprocess_env

SUMMARY_KEYS = {
    "run_id",
    "policy",
    "engine",
    "steps",
    "r2",
    "mae",
    "energy_j_per_inference",
    "energy_source",
    "latency_ms_mean",
    "latency_ms_p95",
    "switches",
    "retrains",
    "reuses",
    "drifts",
    "model_share",
    "wall_s",
}


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


def test_single_linear_run_writes_summary_and_knowledge(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    done = run(
        "--no-ui",
        "--policy",
        "single-linear",
        "--steps",
        "1500",
        "--data-dir",
        str(data_dir),
        "--summary",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(out.read_text())
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["steps"] == 1500 and summary["model_share"] == {"linear": 1.0}
    assert 0.8 < summary["r2"] < 1.0
    assert summary["energy_source"] == "estimated" and summary["energy_j_per_inference"] > 0
    assert json.loads(done.stdout)["run_id"] == summary["run_id"]
    store = KnowledgeStore.open(data_dir / "knowledge.sqlite3")
    assert store.step_count(summary["run_id"]) == 1500
    assert store.run(summary["run_id"]).status == "finished"


def test_first_use_trains_version_one_and_later_runs_load_it(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    first = run("--no-ui", "--policy", "single-linear", "--steps", "20", "--data-dir", str(root))
    assert "training linear v1 on first use" in first.stderr
    meta = json.loads((root / "models/regression/linear/v1/meta.json").read_text())
    assert meta["hyperparameters"]["alpha"] < 256 and "data_summary" in meta and "scaler" in meta
    second = run("--no-ui", "--policy", "single-linear", "--steps", "20", "--data-dir", str(root))
    assert second.returncode == 0 and "training" not in second.stderr
    assert not (root / "models/regression/linear/v2").exists()


def test_column_option_reads_a_raw_pems_week(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    done = run(
        "--no-ui",
        "--policy",
        "single-svm",
        "--data",
        str(RAW_PEMS_WEEK),
        "--column",
        "Flow (Veh/5 Minutes)",
        "--data-dir",
        str(data_dir),
        "--summary",
        str(out),
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(out.read_text())
    rows = len(read_series(RAW_PEMS_WEEK, "Flow (Veh/5 Minutes)"))
    assert summary["steps"] == rows - 5 and summary["r2"] > 0.85


def _fifo(path: Path) -> Path:
    os.mkfifo(path)  # opening it for reading would wait for a writer forever
    return path


def _bad_csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing.csv", "missing.csv: file not found"),
        (lambda d: _bad_csv(d, "empty.csv", ""), "empty.csv: the file is empty"),
        (
            lambda d: _bad_csv(d, "nocol.csv", "speed\n1\n2\n3\n4\n5\n6\n7\n"),
            "nocol.csv: no column 'flow'",
        ),
        (lambda d: _bad_csv(d, "text.csv", "flow\n1\n2\nx\n4\n5\n6\n7\n"), "text.csv: line 4"),
        (lambda d: _bad_csv(d, "nan.csv", "flow\n1\n2\n3\n4\nNaN\n6\n7\n"), "nan.csv: line 6"),
        (lambda d: _bad_csv(d, "short.csv", "flow\n1\n2\n3\n"), "short.csv: only 3 rows"),
        (
            lambda d: _bad_csv(d, "huge.csv", "flow\n1\n2\n1e300\n4\n5\n6\n7\n"),
            "huge.csv: line 4, column 'flow': 1e300 is out of range",
        ),
        (lambda d: _fifo(d / "pipe.csv"), "pipe.csv: is a named pipe (FIFO), not a regular file"),
    ],
)
def test_bad_stream_gets_one_clear_line_and_exit_2(
    data_dir: Path, tmp_path: Path, make, expected: str
) -> None:
    before = (data_dir / "knowledge.sqlite3").read_bytes()
    done = run(
        "--no-ui",
        "--policy",
        "single-linear",
        "--data",
        str(make(tmp_path)),
        "--data-dir",
        str(data_dir),
        timeout=60,
    )
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    store = KnowledgeStore.open(data_dir / "knowledge.sqlite3")
    assert len(store.runs()) == 2 and before[:16] == b"SQLite format 3\x00"


def test_gaps_are_held_and_counted_and_the_summary_is_strict_json(
    data_dir: Path, tmp_path: Path
) -> None:
    lines = RAW_PEMS_WEEK.read_text().splitlines()
    for line_no in (11, 12, 501):
        row = lines[line_no - 1].split(",")
        row[8] = ""  # the Flow cell: PeMS exports leave a cell empty when a detector missed it
        lines[line_no - 1] = ",".join(row)
    gaps = tmp_path / "gaps.csv.gz"
    gaps.write_bytes(__import__("gzip").compress(("\n".join(lines) + "\n").encode()))
    out = tmp_path / "s.json"
    done = run(
        "--no-ui",
        "--policy",
        "single-linear",
        "--steps",
        "300",
        "--data",
        str(gaps),
        "--column",
        "Flow (Veh/5 Minutes)",
        "--data-dir",
        str(data_dir),
        "--summary",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert "3 empty cells in column 'Flow (Veh/5 Minutes)' of 2,015 rows (3 held" in done.stderr
    assert "Warning" not in done.stderr and "Traceback" not in done.stderr

    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} in a summary is not JSON")

    for text in (out.read_text(), done.stdout):
        summary = json.loads(text, parse_constant=no_constants)
        assert summary["data_read"]["stream"] == {
            "rows": 2015,
            "gaps": 3,
            "gap_policy": "hold",
            "held": 3,
            "skipped": 0,
        }
        assert summary["steps"] == 300 and summary["data"] == str(gaps)


def test_unknown_policy_names_the_known_ones(tmp_path: Path) -> None:
    done = run("--no-ui", "--policy", "single-lsmt", "--data-dir", str(tmp_path / "d"))
    assert done.returncode == 2
    assert "unknown policy 'single-lsmt'" in done.stderr and "single-lstm" in done.stderr
    assert "Traceback" not in done.stderr


def test_corrupted_knowledge_file_is_refused_never_overwritten(tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    broken = root / "knowledge.sqlite3"
    broken.write_bytes(b"\x00garbage" * 512)
    done = run("--no-ui", "--policy", "single-linear", "--data-dir", str(root))
    assert done.returncode == 2
    assert "corrupted" in done.stderr and "mv " in done.stderr and "Traceback" not in done.stderr
    assert broken.read_bytes() == b"\x00garbage" * 512


def test_unusable_data_dir_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    done = run("--no-ui", "--policy", "single-linear", "--data-dir", str(blocker / "data"))
    assert done.returncode == 2 and "cannot create the data directory" in done.stderr


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


def _start(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        harmone_cmd(
            "--no-ui",
            "--policy",
            "single-linear",
            "--speed",
            "2000",
            "--data-dir",
            str(data_dir),
            *extra,
        ),
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
    proc = _start(data_dir)
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
    out = tmp_path / "partial.json"
    proc = _start(data_dir, "--summary", str(out))
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


def test_help_and_version_do_not_load_heavy_frameworks() -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['harmone', '--help']\n"
        "try:\n    runpy.run_module('harmone_tui', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = [m for m in ('textual', 'tensorflow', 'torch', 'ultralytics', 'sklearn', 'pandas')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [__import__("sys").executable, "-c", probe],
        capture_output=True,
        text=True,
        env=subprocess_env(),
    )
    assert "--no-ui" in done.stdout and "HEAVY []" in done.stdout
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("harmone ")


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
    proc = subprocess.Popen(
        harmone_cmd(
            "--no-ui",
            "--policy",
            "single-lstm",
            "--steps",
            "50",
            "--data-dir",
            str(root),
            "--summary",
            str(out),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        stdin=subprocess.DEVNULL,
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
    proc = subprocess.Popen(
        harmone_cmd(
            "--no-ui",
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
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        stdin=subprocess.DEVNULL,
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
