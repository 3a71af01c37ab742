"""Machine-readable output: `--json` on every list, `runs list/show`, `-` for standard output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmone_tui import cli
from mape.knowledge import KnowledgeStore, VersionRow

RUN_KEYS = {
    "run_id",
    "policy",
    "engine",
    "status",
    "data",
    "started_at",
    "started",
    "finished_at",
    "wall_s",
    "steps",
    "quality_metric",
    "quality",
    "r2",
    "mae",
    "energy_source",
    "energy_j_per_inference",
    "energy_j_total",
    "energy_j_all_stages",
    "carbon_g_all_stages",
    "switches",
    "retrains",
    "reuses",
    "drifts",
    "errors",
    "steps_stored",
}


def call(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A real store: a finished regression run with steps and events, a running one, and a
    model version."""
    store = KnowledgeStore.open(tmp_path / "knowledge.sqlite3")
    done = store.start_run("switch", "regression", "bundled sample", {"steps": 3})
    store.add_step_tuples(
        (done, s, 10.0, 11.0, "linear", 1, 0.2, 0.1, 0.15, "estimated", None) for s in range(3)
    )
    store.add_event(done, 2, "switch", {"from": "lstm", "to": "linear", "reason": "EMA 0.7 < 0.8"})
    summary = {
        "steps": 3,
        "r2": 0.91,
        "mae": 1.5,
        "energy_mj_per_inference": 0.15,  # a summary stored before the unit convention
        "energy_j_total": 0.00045,
        "energy_source": "estimated",
        "switches": 1,
        "retrains": 0,
        "reuses": 0,
        "drifts": 0,
        "errors": 0,
        "wall_s": 0.25,
    }
    store.finish_run(done, "finished", summary)
    store.start_run("harmone", "regression", "week.csv", {})  # still running (this process)
    store.add_version(
        VersionRow(
            "regression",
            "linear",
            1,
            "models/regression/linear/v1",
            1.7e9,
            done,
            "first use",
            {"validation_r2": 0.9},
        )
    )
    store.close()
    return tmp_path


def test_runs_list_json_has_stable_keys_in_base_units(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert call(["runs", "list", "--json", "--data-dir", str(store_dir)]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in runs] == [2, 1]
    assert all(set(r) == RUN_KEYS for r in runs)
    running, done = runs
    assert running["status"] == "running" and running["quality"] is None
    assert done["energy_j_per_inference"] == pytest.approx(0.00015)  # 0.15 mJ, in joules
    assert (done["quality_metric"], done["quality"], done["switches"]) == ("r2", 0.91, 1)
    assert done["steps_stored"] is True and done["started"].startswith("20")
    assert call(["runs", "list", "--json", "--limit", "1", "--data-dir", str(store_dir)]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [2]
    assert call(["runs", "list", "--data-dir", str(store_dir)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["RUN", "STARTED", "STATUS", "POLICY"] and len(table) == 3
    assert "150" in table[2]  # µJ per inference in the table, as the TUI shows it


def test_runs_show(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert call(["runs", "show", "1", "--json", "--data-dir", str(store_dir)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) == {"run", "step_rows", "settings", "summary", "events"}
    assert shown["run"]["run_id"] == 1 and shown["step_rows"] == 3
    assert shown["settings"] == {"steps": 3}
    assert [e["kind"] for e in shown["events"]] == ["switch"]
    assert call(["runs", "show", "1", "--data-dir", str(store_dir)]) == 0
    text = capsys.readouterr().out
    assert "switch lstm→linear: EMA 0.7 < 0.8" in text and "3 step rows stored" in text
    assert call(["runs", "show", "7", "--data-dir", str(store_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no run 7" in err and "Traceback" not in err


def test_lists_on_an_empty_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["runs", "list", "--json"], ["models", "list", "--json"]):
        assert call([*argv, "--data-dir", str(tmp_path)]) == 0
        assert json.loads(capsys.readouterr().out) == []
    assert not (tmp_path / "knowledge.sqlite3").exists()


def test_models_and_policy_lists_as_json(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert call(["models", "list", "--json", "--data-dir", str(store_dir)]) == 0
    (version,) = json.loads(capsys.readouterr().out)
    assert version == {
        "engine": "regression",
        "model": "linear",
        "version": 1,
        "created_at": 1.7e9,
        "reason": "first use",
        "run_id": 1,
        "path": str(store_dir / "models/regression/linear/v1"),
        "meta": {"validation_r2": 0.9},
    }
    assert call(["policy", "list", "--json", "--data-dir", str(store_dir)]) == 0
    policies = json.loads(capsys.readouterr().out)
    harmone = next(p for p in policies if p["name"] == "harmone")
    assert (harmone["kind"], harmone["path"]) == ("preset", None)
    assert all(set(p) == {"kind", "name", "description", "path"} for p in policies)


@pytest.mark.slow
def test_summary_dash_writes_the_summary_to_stdout_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = [
        "--no-ui",
        "--policy",
        "single-linear",
        "--steps",
        "20",
        "--summary",
        "-",
        "--data-dir",
        str(tmp_path / "data"),
    ]
    assert call([*argv, "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 20
    assert call(argv) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 20  # one document, not two
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("policy", "show", "harmone", "--explain", "--json"),
        ("--no-ui", "--policy", "single-linear", "--steps", "300", "--quiet", "--export", "-"),
    ],
    ids=["policy-show", "export-stream"],
)
def test_a_reader_that_leaves_early_ends_the_command_quietly(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """`harmone ... | head` closes the pipe before the output is written: exit 141, no
    traceback and no error line (a BrokenPipeError used to be printed, and `--export -`
    called it a write error)."""
    import os
    import subprocess

    from tests.conftest import harmone_cmd, subprocess_env

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        done = subprocess.run(
            harmone_cmd(*argv),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            env=subprocess_env(HARMONE_DATA_DIR=str(tmp_path)),
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert "error" not in done.stderr
