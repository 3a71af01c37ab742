"""A plug-in engine that breaks the protocol is one error line naming it and the problem (exit 2);
one whose predict raises mid-run has those steps skipped, reported, and the run goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmone_tui.cli import main
from mape.knowledge import KnowledgeStore
from tests.plugins.broken import write_engine

FAULTS = [
    ("import", "cannot import engine_import: ImportError: no module named 'secret_sauce'"),
    ("construct", "failed to start: ValueError: license server unreachable"),
    ("no_models", "it has no models"),
    ("lambda", "its trainer does not pickle"),
    ("string", "model ls: predict returned a str ('high'), not a number"),
    ("not_an_engine", "the factory returned a object, not an engines.base.Engine"),
]


@pytest.mark.parametrize(("fault", "expected"), FAULTS, ids=[f for f, _ in FAULTS])
def test_a_broken_engine_is_one_error_naming_it(
    fault: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_engine(tmp_path, f"engine_{fault}", fault)
    argv = ["--no-ui", "--engine", str(path), "--steps", "200", "--data-dir", str(tmp_path / "d")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("harmone: error: ")]
    assert len(errors) == 1, err
    assert errors[0].startswith(f"harmone: error: engine {str(path)!r}: {expected}"), err
    assert "Traceback" not in err


def test_a_working_file_engine_runs_and_trains_in_the_worker(tmp_path: Path) -> None:
    """The file's folder is on sys.path, so the spawned training worker imports it too."""
    path = write_engine(tmp_path, "engine_ok", None)
    summary = tmp_path / "s.json"
    argv = ["--no-ui", "--engine", f"{path}:create_engine", "--steps", "400", "--quiet"]
    assert main([*argv, "--summary", str(summary), "--data-dir", str(tmp_path / "d")]) == 0
    found = json.loads(summary.read_text())
    assert (found["engine"], found["steps"], found["errors"]) == ("broken", 400, 0)
    assert found["r2"] > 0.9


def test_a_predict_that_raises_mid_run_skips_the_step_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    path = write_engine(tmp_path, "engine_raises", "raises")
    summary, data = tmp_path / "s.json", tmp_path / "d"
    argv = ["--no-ui", "--engine", str(path), "--steps", "1000", "--quiet"]
    assert main([*argv, "--summary", str(summary), "--data-dir", str(data)]) == 0
    found = json.loads(summary.read_text())
    assert (found["status"], found["steps"]) == ("finished", 1000)
    assert found["r2"] > 0.9  # the skipped steps are not scored: no NaN, no penalty
    store = KnowledgeStore.open(data / "knowledge.sqlite3")
    try:
        errors = [e for e in store.events(found["run_id"]) if e.kind == "error"]
    finally:
        store.close()
    skipped = sum(e.detail["skipped_steps"] for e in errors)
    # calls 1-31 are the start-up calibration, the run makes calls 32-1031, and every 50th
    # call from 50 to 1000 raises: 20 steps skipped, each one reported
    assert skipped == 20
    assert found["errors"] == len(errors) >= 1
    assert all("predict raised RuntimeError: sensor offline" in e.detail["error"] for e in errors)
