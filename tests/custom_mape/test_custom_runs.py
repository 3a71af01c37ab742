"""Harmonica-style MAPE files decide real runs (regression engine, bundled stream, real models):
ones that work and switch, and ones that raise, hang, crash, flood or name a model the run lacks.
"""

from __future__ import annotations

import asyncio
import csv
import json
import time
from pathlib import Path
from typing import Any

import pytest

from harmone_tui import paths
from harmone_tui.settings import RunSettings
from mape.custom.folder import with_folder
from mape.policy_file import parse_policy
from tests.custom_mape.harmonica_files import (
    EXECUTE_ON_DRIFT,
    HARMONE_STYLE,
    PLAN_CRASHES,
    PLAN_FLOODS,
    PLAN_HANGS,
    PLAN_RAISES,
    PLAN_RANDOM,
    PLAN_TOGGLE,
    PLAN_WRONG_MODEL,
    PYRAPL_EXECUTE,
    write_folder,
)
from tests.running import NewRun

STEPS = 300
EVERY = 50  # custom cycles at steps 50, 100, 150, 200, 250


def policy_text(folder: Path, **mape: Any) -> str:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in mape.items())
    return f"""
name = "custom"
engine = "regression"
models = ["linear", "svm"]
start_model = "linear"
[switch]
every_steps = {EVERY}
window_steps = {EVERY}
min_score = 0.99
min_dwell_steps = 0
explore = 0.0
[drift]
enabled = false
[mape]
custom = "{folder}"
{extra}"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir for the module: linear and svm are trained once, on the first run."""
    return tmp_path_factory.mktemp("custom-runs")


def run(data_dir: Path, text: str) -> tuple[NewRun, dict[str, Any]]:
    policy = parse_policy(text, "test policy")
    policy = with_folder(policy, "test policy", None)
    runtime = NewRun(RunSettings(data_dir=data_dir, steps=STEPS), policy, "test policy", text)

    async def scenario() -> dict[str, Any]:
        await runtime.prepare()
        return await runtime.run()

    return runtime, asyncio.run(scenario())


def events(runtime: NewRun, kind: str) -> list[dict[str, Any]]:
    rows = runtime.store.events(runtime.run_id)
    return [{"step": e.step, **e.detail} for e in rows if e.kind == kind]


def log_text(runtime: NewRun) -> str:
    return paths.custom_mape_log(runtime.settings.data_dir, runtime.run_id).read_text()


def test_working_files_decide_the_model_and_see_harmonicas_knowledge(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "mine", plan=PLAN_TOGGLE, execute=PYRAPL_EXECUTE)
    runtime, summary = run(data_dir, policy_text(folder))
    assert summary["status"] == "finished" and summary["steps"] == STEPS
    switches = events(runtime, "switch")
    assert [(s["step"], s["to"]) for s in switches] == [
        (50, "svm"),
        (100, "linear"),
        (150, "svm"),
        (200, "linear"),
        (250, "svm"),
    ], switches
    assert switches[0]["reason"] == "custom MAPE: execute_mape wrote 'svm' to model.csv"
    assert events(runtime, "error") == []
    said = summary["custom_mape"]
    assert said["dir"] == str(folder) and said["state"] == "in charge"
    assert (said["calls"], said["failed_calls"]) == (15, 0)  # execute + 2 monitors, 5 cycles
    knowledge = paths.custom_mape_dir(data_dir, runtime.run_id) / "knowledge"
    with (knowledge / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "true_value",
        "predicted_value",
        "model_used",
        "inference_time",
        "energy",
    ]
    assert len(rows) == 250  # the steps before the last call
    assert {r["model_used"] for r in rows[:50]} == {"linear"}
    assert {r["model_used"] for r in rows[50:100]} == {"svm"}
    assert float(rows[10]["true_value"]) == runtime.telemetry.truth[10:11][0]
    assert (knowledge / "model.csv").read_text() == "svm"
    info = json.loads((knowledge / "mape_info.json").read_text())
    assert info["event_counters"]["model_switches"] == 4  # as of the last call, at step 250
    assert info["last_line"] == 0 and "ema_scores" in info
    assert json.loads((knowledge / "thresholds.json").read_text())["min_score"] == 0.99
    view = runtime.custom.view() if runtime.custom else None
    assert view is not None and view.state == "in charge" and view.failed_calls == 0
    assert view.figures["score"] in (0.65, 0.95) and view.figures["kl_div"] == 0.05
    assert "stand-in" in view.pyrapl
    log = log_text(runtime)
    assert "[TogglePlan] local" in log and "[CustomMonitor] Reporting" in log
    assert "[CustomExecute] energy uJ" in log  # pyRAPL.Measurement worked


def test_a_plan_that_raises_is_an_error_and_harmones_plan_decides(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "raises", plan=PLAN_RAISES)
    runtime, summary = run(data_dir, policy_text(folder, max_failures=0))
    assert summary["status"] == "finished" and summary["steps"] == STEPS
    errors = events(runtime, "error")
    assert len(errors) == 5
    assert "KeyError: 'min_score' (plan.py:3)" in errors[0]["error"]
    assert "fallback: harmone's built-in plan decides" in errors[0]["error"]
    switches = events(runtime, "switch")
    assert switches, "min_score = 0.99: the built-in plan switches"
    assert all(s["fallback"] == "custom MAPE execute.execute_mape failed" for s in switches)
    assert "Traceback" in log_text(runtime) and "KeyError" in log_text(runtime)


def test_on_error_stay_means_no_adaptation(data_dir: Path, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "raises", plan=PLAN_RAISES)
    runtime, summary = run(data_dir, policy_text(folder, on_error="stay", max_failures=2))
    assert summary["status"] == "finished"
    assert events(runtime, "switch") == []
    errors = [e["error"] for e in events(runtime, "error")]
    assert len(errors) == 3, errors  # two failed cycles, then the custom code is ended
    assert "2 failed cycles in a row: the custom code is ended" in errors[-1]
    assert runtime.custom is not None and runtime.custom.view().state == "ended"


def test_a_hang_is_killed_at_the_timeout_and_the_run_goes_on(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "hangs", plan=PLAN_HANGS)
    started = time.monotonic()
    runtime, summary = run(data_dir, policy_text(folder, timeout_s=1.0, max_failures=2))
    assert summary["status"] == "finished" and summary["steps"] == STEPS
    errors = [e["error"] for e in events(runtime, "error")]
    assert "did not return from execute.execute_mape() within 1 s; process killed" in errors[0]
    assert len(errors) == 3  # 2 timeouts, then ended: no more waiting
    assert time.monotonic() - started < 60
    assert "[harmone] did not return from execute.execute_mape() within 1 s" in log_text(runtime)
    assert runtime.custom is not None and runtime.custom.process is not None
    assert not runtime.custom.process.alive


def test_a_crash_is_an_error_and_the_process_starts_again(data_dir: Path, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "crashes", plan=PLAN_CRASHES)
    runtime, summary = run(data_dir, policy_text(folder, max_failures=0))
    assert summary["status"] == "finished"
    errors = [e["error"] for e in events(runtime, "error")]
    assert len(errors) == 5
    assert "the process ended (exit code 9)" in errors[0]
    assert runtime.custom is not None and runtime.custom.process is not None
    assert runtime.custom.process.starts == 6  # once at start, then again after each crash


def test_a_flood_of_output_is_an_error_and_the_log_stays_bounded(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "floods", plan=PLAN_FLOODS)
    runtime, summary = run(data_dir, policy_text(folder, max_failures=0))
    assert summary["status"] == "finished"
    errors = [e["error"] for e in events(runtime, "error")]
    assert len(errors) == 5
    assert "execute_mape() printed 2," in errors[0] and "limit 1,000,000 per call" in errors[0]
    assert events(runtime, "switch") == [] or all(
        "fallback" in s for s in events(runtime, "switch")
    )
    log = paths.custom_mape_log(data_dir, runtime.run_id)
    kept = log.stat().st_size + (log.with_name(log.name + ".1").stat().st_size)
    assert kept < 6_000_000  # 5 calls of 2.4 M characters each, 1 M kept per call, rotated
    assert "more characters of this call's output dropped" in log.read_text()


def test_a_model_the_run_does_not_have_is_an_error_and_model_csv_is_put_back(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "wrong", plan=PLAN_WRONG_MODEL)
    runtime, summary = run(data_dir, policy_text(folder, on_error="stay", max_failures=0))
    assert summary["status"] == "finished"
    errors = [e["error"] for e in events(runtime, "error")]
    assert errors[0].startswith(
        "execute_mape wrote 'resnet50' to model.csv; this run's models are linear, svm"
    )
    assert events(runtime, "switch") == []
    knowledge = paths.custom_mape_dir(data_dir, runtime.run_id) / "knowledge"
    assert (knowledge / "model.csv").read_text() == "linear"


def test_a_drift_calls_execute_drift_and_its_model_is_applied(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "drift", plan=PLAN_WRONG_MODEL, execute=EXECUTE_ON_DRIFT)
    text = policy_text(folder, on_error="stay", max_failures=0).replace(
        "[drift]\nenabled = false\n",
        "[drift]\nwindow = 40\nbins = 10\nthreshold = 0.01\nevery_steps = 20\nwarmup_steps = 80\n"
        'cooldown_steps = 1000\non_drift = "alert"\n',
    )
    runtime, _ = run(data_dir, text)
    drifts = events(runtime, "drift")
    assert len(drifts) == 1, drifts
    switches = events(runtime, "switch")
    assert [s["reason"] for s in switches] == [
        "custom MAPE: execute_drift wrote 'svm' to model.csv"
    ]
    assert switches[0]["step"] == drifts[0]["step"]
    assert "[CustomExecute] drift acp: svm" in log_text(runtime)  # Harmonica's "ACP found it"


def test_harmone_style_files_keep_their_own_state_in_mape_info(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "harmone", **HARMONE_STYLE)
    runtime, summary = run(data_dir, policy_text(folder))
    assert summary["status"] == "finished"
    assert events(runtime, "error") == []
    switches = events(runtime, "switch")
    assert switches and all(s["reason"].startswith("custom MAPE: execute_mape") for s in switches)
    info = json.loads(
        (
            paths.custom_mape_dir(data_dir, runtime.run_id) / "knowledge" / "mape_info.json"
        ).read_text()
    )
    assert info["last_line"] == 250  # the monitor's own pointer, never reset by harmone
    assert info["ema_scores"]["linear"] != 0.8 and info["ema_scores"]["svm"] != 0.79
    assert info["event_counters"]["model_switches"] == len([s for s in switches if s["step"] < 250])
    assert info["event_counters"]["mape_k_energy_uJ"] > 0
    assert "[HarmonE] energy" in log_text(runtime)


def test_the_same_files_and_seed_make_the_same_decisions(data_dir: Path, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "random", plan=PLAN_RANDOM)
    decided = []
    for _ in range(2):
        runtime, _ = run(data_dir, policy_text(folder))
        decided.append([(s["step"], s["to"]) for s in events(runtime, "switch")])
    assert decided[0] == decided[1] and len(decided[0]) >= 1


def test_a_stop_ends_a_hanging_call_at_once(data_dir: Path, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "hangs", plan=PLAN_HANGS)
    text = policy_text(folder, timeout_s=60.0)
    policy = with_folder(parse_policy(text, "test policy"), "test policy", None)
    runtime = NewRun(RunSettings(data_dir=data_dir, steps=STEPS), policy, "test policy", text)

    async def scenario() -> dict[str, Any]:
        await runtime.prepare()
        asyncio.get_running_loop().call_later(3.0, runtime.stop, "test")
        return await runtime.run()

    started = time.monotonic()
    summary = asyncio.run(scenario())
    assert time.monotonic() - started < 20  # not the 60 s timeout
    assert summary["status"] == "stopped" and summary["steps"] == EVERY
    assert events(runtime, "error") == []  # the stop ended the call, not the user's code


def test_a_drift_in_a_switch_cycle_switches_once(data_dir: Path, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "both", plan=PLAN_TOGGLE, execute=EXECUTE_ON_DRIFT)
    text = (
        policy_text(folder)
        .replace(f"every_steps = {EVERY}", "every_steps = 20")
        .replace(
            "[drift]\nenabled = false\n",
            "[drift]\nwindow = 40\nbins = 10\nthreshold = 0.01\nevery_steps = 20\n"
            'warmup_steps = 80\ncooldown_steps = 1000\non_drift = "alert"\n',
        )
    )
    runtime, _ = run(data_dir, text)
    (drift,) = events(runtime, "drift")
    switches = {s["step"]: s["to"] for s in events(runtime, "switch")}
    # at the drift's cycle execute_mape toggled from svm to linear, then execute_drift wrote
    # svm: model.csv is back to the active model, so no switch at that step (one at most)
    assert drift["step"] == 80 and 80 not in switches, switches
    assert len(events(runtime, "switch")) == len(switches)
    assert [switches[s] for s in (20, 40, 60, 100)] == ["svm", "linear", "svm", "linear"]
    assert "[CustomExecute] drift acp: svm" in log_text(runtime)
