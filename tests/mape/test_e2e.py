"""Real headless runs (subprocesses, real models, the knowledge store) on a small drifted stream.

The stream (helpers.drifted_stream) is 4,500 real PeMS rows: normal, then the affine regime, then
normal again. Windows are small so the runs take seconds; models are linear and svm.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.mape.helpers import REGIME, drifted_stream, events, run_headless, write_stream

DRIFT_POLICY = """
# a small-window harmone for a 4,500-step stream
name = "e2e"
engine = "regression"
models = ["linear"]
start_model = "linear"
seed = 7

[switch]
enabled = false

[drift]
detector = "kl"
window = 576          # two days of 5-minute rows
bins = 50
threshold = 1.0
every_steps = 10
warmup_steps = 600
cooldown_steps = 600
on_drift = "reuse_or_retrain"
reuse_threshold = 0.75
settle_steps = 200

[retrain]
window = 400
delay_steps = 20
"""

DETERMINISM_POLICY = """
name = "replay"
engine = "regression"
models = ["linear", "svm"]
start_model = "svm"
seed = 11

[score]
beta = 0.9
energy_ceiling_uj = 1000000   # fixed: measured energy (CPU time) must not steer this test
initial = { linear = 0.8, svm = 0.8 }

[switch]
every_steps = 100
window_steps = 100
min_score = 0.97       # always unmet: every cycle asks the planner, exploration draws often
explore = 0.5
min_dwell_steps = 300

[drift]
window = 576
threshold = 1.0
every_steps = 10
warmup_steps = 600
cooldown_steps = 600
settle_steps = 200

[retrain]
window = 400
delay_steps = 50
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """linear and svm v1, trained once for the module (first use, as a user's first run)."""
    root = tmp_path_factory.mktemp("trained")
    for p in ("single-linear", "single-svm"):
        done = run_headless("--policy", p, "--steps", "10", "--data-dir", str(root))
        assert done.returncode == 0, done.stderr
    return root


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_stream(tmp_path_factory.mktemp("stream") / "drifted.csv", drifted_stream())


def fresh(trained: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(trained, target)
    return target


def run_policy(text: str, data_dir: Path, stream: Path, tmp_path: Path) -> dict:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(text)
    summary = tmp_path / f"{data_dir.name}.json"
    done = run_headless(
        "--policy",
        str(policy_file),
        "--data",
        str(stream),
        "--data-dir",
        str(data_dir),
        "--summary",
        str(summary),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(summary.read_text())


def test_drift_then_retrain_then_reuse_when_the_old_regime_returns(
    trained: Path, stream: Path, tmp_path: Path
) -> None:
    data_dir = fresh(trained, tmp_path, "drift")
    summary = run_policy(DRIFT_POLICY, data_dir, stream, tmp_path)
    evs = events(data_dir)
    kinds = [k for k, _, _ in evs]
    drifts = [(s, d) for k, s, d in evs if k == "drift"]
    # 1. the affine change at row 1,500 is detected after it happens, within one window
    assert REGIME < drifts[0][0] < REGIME + 576
    # 2. no stored version fits the new regime: a retrain on data seen since the detection
    started = [(s, d) for k, s, d in evs if k == "retrain_started"]
    done = [(s, d) for k, s, d in evs if k == "retrain_done"]
    assert started and started[0][0] == drifts[0][1]["act_at"] and started[0][1]["rows"] == 200
    assert done and done[0][1]["version"] == 2 and done[0][0] == started[0][0] + 20
    # 3. the normal regime returns at row 3,000: the stored v1 is reused, not retrained
    later = [(s, d) for s, d in drifts if s > 2 * REGIME]
    assert later and later[0][0] < 2 * REGIME + 576
    reuses = [(s, d) for k, s, d in evs if k == "reuse"]
    assert reuses and reuses[-1][1]["version"] == 1 and reuses[-1][0] == later[0][1]["act_at"]
    kl = reuses[-1][1]["kl_by_version"]
    assert kl["linear v1"] < 0.75 < kl["linear v2"]
    assert kinds.count("retrain_started") == 1  # the return of the old regime cost no retrain
    # the summary's counters come from these events
    assert (summary["drifts"], summary["retrains"], summary["reuses"]) == (
        kinds.count("drift"),
        kinds.count("retrain_done"),
        kinds.count("reuse"),
    )
    assert summary["steps"] == 3 * REGIME - 5


def test_same_policy_data_and_seed_give_the_same_event_sequence(
    trained: Path, stream: Path, tmp_path: Path
) -> None:
    first = fresh(trained, tmp_path, "one")
    second = fresh(trained, tmp_path, "two")
    run_policy(DETERMINISM_POLICY, first, stream, tmp_path)
    run_policy(DETERMINISM_POLICY, second, stream, tmp_path)
    a, b = events(first), events(second)
    kinds = {k for k, _, _ in a}
    assert {"switch", "drift", "retrain_started", "retrain_done"} <= kinds, kinds
    assert sum(k == "switch" for k, _, _ in a) >= 5
    assert a == b


def test_a_failing_retrain_is_an_error_event_and_the_run_goes_on(
    trained: Path, stream: Path, tmp_path: Path
) -> None:
    data_dir = fresh(trained, tmp_path, "fail")
    text = DRIFT_POLICY.replace(
        "settle_steps = 200", "settle_steps = 5"
    )  # 5 rows: too few to train
    summary = run_policy(text, data_dir, stream, tmp_path)
    evs = events(data_dir)
    errors = [d for k, _, d in evs if k == "error"]
    assert errors and errors[0]["action"] == "retrain" and "too few rows" in errors[0]["error"]
    assert summary["status"] == "finished" and summary["steps"] == 3 * REGIME - 5
    assert summary["errors"] == len(errors) and summary["retrains"] == 0
    assert summary["model_share"] == {"linear": 1.0}
