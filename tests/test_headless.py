"""`harmone --no-ui` as a user runs it: real subprocesses, real models, real files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from engines.regression.data import read_series
from mape.knowledge import KnowledgeStore
from tests.conftest import RAW_PEMS_WEEK, subprocess_env
from tests.headless_runs import data_dir, run, trained_dir

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


def test_first_use_progress_counts_the_models_still_to_train(tmp_path: Path) -> None:
    policy = tmp_path / "two.toml"
    policy.write_text(
        'name = "two"\nengine = "regression"\nmodels = ["linear", "svm"]\nstart_model = "linear"\n'
        "[switch]\nenabled = false\n[drift]\nenabled = false\n"
    )
    done = run(
        "--no-ui", "--policy", str(policy), "--steps", "20", "--data-dir", str(tmp_path / "d")
    )
    assert done.returncode == 0, done.stderr
    linear = done.stderr.index("training linear v1 on first use (1/2)")
    assert done.stderr.index("training svm v1 on first use (2/2)") > linear


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


__all__ = ["data_dir", "trained_dir"]  # fixtures, imported for pytest
