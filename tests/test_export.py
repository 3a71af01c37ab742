"""`harmone --no-ui --export`: a real headless run's steps, events and summary as files a script
reads (CSV and JSON Lines), or one JSON Lines stream on stdout; and the comparability figures
(pace, mode, machine, energy source) every summary carries."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from engines.energy_profile import machine as profile_machine
from mape.knowledge import KnowledgeStore
from tests.headless_runs import FLIPPING, run


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "flipping.toml"
    path.write_text(FLIPPING)
    return path


def test_export_dir_has_every_step_with_its_time_and_every_event(
    tmp_path: Path, policy: Path
) -> None:
    root, out = tmp_path / "data", tmp_path / "out"
    done = run("--no-ui", "--policy", str(policy), "--steps", "700", "--data-dir", str(root))
    assert done.returncode == 0, done.stderr  # first use: trains linear and svm
    done = run(
        "--no-ui", "--policy", str(policy), "--steps", "700", "--data-dir", str(root),
        "--export", str(out), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    rows = list(csv.DictReader((out / "steps.csv").open()))
    lines = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert [int(r["step"]) for r in rows] == list(range(700)) == [r["step"] for r in lines]
    times = [float(r["ts"]) for r in rows]
    assert times == sorted(times)  # finish times never go back
    store = KnowledgeStore.open(root / "knowledge.sqlite3")
    try:
        run_row = store.run(summary["run_id"])
        stored = store.events(summary["run_id"])
        stored_steps = store.steps(summary["run_id"])
    finally:
        store.close()
    assert run_row is not None and run_row.started_at <= times[0] <= times[-1]
    assert times[-1] <= (run_row.finished_at or 0)
    assert [s.ts for s in stored_steps] == times
    assert [r["model"] for r in rows] == [s.model for s in stored_steps]
    assert lines[10]["energy_mj"] == pytest.approx(stored_steps[10].energy_mj, abs=1e-6)
    assert rows[0]["time"].startswith(lines[0]["time"][:19])
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert len(stored) >= 2 and summary["switches"] >= 2
    assert [(e["step"], e["kind"]) for e in events] == [(e.step, e.kind) for e in stored]
    table = list(csv.DictReader((out / "events.csv").open()))
    assert json.loads(table[0]["detail"]) == events[0]["detail"]
    assert table[0]["text"] == events[0]["text"] and "switch" in table[0]["text"]
    ledger = list(csv.DictReader((out / "ledger.csv").open()))
    stages = {r["stage"]: float(r["energy_j"]) for r in ledger if r["scope"] == "stage"}
    assert sum(stages.values()) >= summary["energy"]["energy_j"] > 0  # 'other' is the remainder
    assert stages["inference"] == pytest.approx(
        summary["energy"]["stages"]["inference"]["energy_j"]
    )
    versions = [r for r in ledger if r["scope"] == "version" and r["stage"] == "inference"]
    assert sum(int(r["steps"]) for r in versions) == 700
    assert {r["model"] for r in versions} == {r["model"] for r in rows}
    jsonl = [json.loads(line) for line in (out / "ledger.jsonl").read_text().splitlines()]
    assert len(jsonl) == len(ledger) and jsonl[0]["energy_source"] == "estimated"


def test_export_dash_is_one_json_lines_stream_on_stdout(tmp_path: Path, policy: Path) -> None:
    root = tmp_path / "data"
    args = ("--no-ui", "--policy", str(policy), "--steps", "300", "--data-dir", str(root))
    done = run(*args, "--export", "-")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [r["record"] for r in records]
    assert kinds.count("step") == 300 and kinds[-1] == "summary" and kinds.count("summary") == 1
    assert kinds.count("ledger") >= 8  # a row per stage, then per model version
    assert records[-1]["steps"] == 300 and records[-1]["mode"] == "headless"
    both = run(*args, "--export", "-", "--summary", "-")
    assert both.returncode == 2 and both.stderr.count("\n") == 1
    assert "only one of them can be standard output" in both.stderr
    tui = run("--export", str(tmp_path / "x"), "--data-dir", str(root))
    assert tui.returncode == 2 and "--export is for headless runs" in tui.stderr


def test_summary_records_pace_mode_machine_and_energy_source(tmp_path: Path, policy: Path) -> None:
    root = tmp_path / "data"
    paced = run(
        "--no-ui", "--policy", str(policy), "--steps", "400", "--speed", "2000",
        "--data-dir", str(root), "--quiet", "--summary", "-",
    )  # fmt: skip
    assert paced.returncode == 0, paced.stderr
    summary = json.loads(paced.stdout)
    assert summary["mode"] == "headless" and summary["energy_source"] == "estimated"
    pace = summary["pace"]
    assert pace["speed_setting"] == 2000.0 and "speed_at_end" not in pace
    assert pace["steps_per_s"] == pytest.approx(400 / summary["wall_s"], rel=1e-2)  # wall_s: ms
    assert pace["steps_per_s"] < 2000 * 1.25  # paced: not the thousands of steps/s of 'max'
    machine = summary["machine"]
    assert (
        machine["cores"] == os.cpu_count()
        and machine["cpu_model"] == profile_machine()["cpu_model"]
    )
    assert set(summary["calibration_uj_per_call"]) == {"linear", "svm"}
    store = KnowledgeStore.open(root / "knowledge.sqlite3")
    try:
        run_row = store.run(summary["run_id"])
        store_settings = store.run_settings(summary["run_id"]) or {}
    finally:
        store.close()
    assert run_row is not None and run_row.summary is not None
    assert run_row.summary["pace"] == pace
    assert store_settings["mode"] == "headless"
    shown = run("runs", "show", str(summary["run_id"]), "--data-dir", str(root))
    assert shown.returncode == 0, shown.stderr
    (line,) = [x for x in shown.stdout.splitlines() if x.startswith("conditions")]
    assert line.split(None, 1)[1].startswith("headless, paced at 2000 steps/s, ")
    assert f"{machine['cpu_model']}, {machine['cores']} cores" in line
