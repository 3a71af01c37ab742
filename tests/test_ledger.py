"""The energy ledger: stages measured where the work happens, reconciled with the process tree.

The run tests start `harmone --no-ui` as a subprocess (the harmone policy with the linear and
svm models, on the bundled lane-closure scenario, where it detects a drift and retrains) and
compare its ledger with the CPU time the operating system charged to the process and its
reaped children (``getrusage(RUSAGE_CHILDREN)``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engines.energy import EstimatedMeter
from harmone_tui.carbon import REGIONS, CarbonFactors
from harmone_tui.ledger import EnergyLedger, process_cpu_s
from harmone_tui.ledger_report import STAGES
from tests.conftest import REPO, SAMPLE, harmone_cmd, subprocess_env

J_PER_CPU_S = 2.0
FACTORS = CarbonFactors(400.0, 1.0, "test", "test")
SHUTDOWN_ALLOWANCE_S = 1.0  # interpreter teardown after the summary is written: not in a ledger


def spin(seconds: float) -> None:
    """Spend about ``seconds`` of CPU time on this thread."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_nested_stages_are_exclusive_and_stay_within_the_process_cpu() -> None:
    ledger = EnergyLedger(EstimatedMeter(J_PER_CPU_S, "test"), FACTORS)
    with ledger.stage("mape"):
        spin(0.05)
        with ledger.stage("drift"):
            spin(0.1)
        spin(0.05)
    report = ledger.report()
    cpu = report.stages_cpu_s
    assert cpu["drift"] == pytest.approx(0.1, abs=0.02)
    assert cpu["mape"] == pytest.approx(0.1, abs=0.02)  # the drift check inside is not in it
    assert report.stages_j["mape"] == pytest.approx(cpu["mape"] * J_PER_CPU_S)
    assert sum(report.stages_j.values()) == pytest.approx(report.total_j, rel=1e-9)
    assert report.attributed_j <= report.total_j and report.reconciled


def test_other_threads_charge_their_own_cpu_time_and_watched_threads_their_stage() -> None:
    ledger = EnergyLedger(EstimatedMeter(J_PER_CPU_S, "test"), FACTORS)
    go, spun, end = threading.Event(), threading.Event(), threading.Event()

    def rendering() -> None:
        go.wait()
        spin(0.1)
        spun.set()
        end.wait()

    def storing() -> None:
        with ledger.stage("store"):
            spin(0.08)

    painter, writer = threading.Thread(target=rendering), threading.Thread(target=storing)
    assert not ledger.watch_thread("frontend", painter)  # not started: no CPU clock yet
    painter.start()
    assert ledger.watch_thread("frontend", painter)
    go.set()
    writer.start()
    spun.wait()
    ledger.report()  # a thread is read while it lives (the TUI reports every second) ...
    end.set()
    painter.join()
    writer.join()
    report = ledger.report()  # ... and its last reading stays once it ended
    assert report.stages_cpu_s["store"] == pytest.approx(0.08, abs=0.02)
    assert report.stages_cpu_s["frontend"] == pytest.approx(0.1, abs=0.03)
    assert report.stages_cpu_s["inference"] == 0.0
    assert report.attributed_j <= report.total_j + report.tolerance_j


def test_attributed_stages_above_the_total_are_reported_not_hidden() -> None:
    ledger = EnergyLedger(EstimatedMeter(J_PER_CPU_S, "test"), FACTORS)
    ledger.add_inference("linear", 1, steps=10, cpu_s=0.0, energy_j=1000.0)  # more than spent
    report = ledger.report()
    assert report.stages_j["other"] == 0.0
    assert report.excess_j > 999.0
    assert not report.reconciled
    assert report.to_dict()["reconciliation"]["reconciled"] is False


def test_a_child_process_cpu_time_is_read_from_proc() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.process_time() + 0.3\n"
            "while time.process_time() < end: pass\ntime.sleep(5)",
        ]
    )
    try:
        deadline = time.monotonic() + 20
        cpu = 0.0
        while time.monotonic() < deadline:
            cpu = process_cpu_s(child.pid) or 0.0
            if cpu >= 0.3:
                break
            time.sleep(0.05)
        assert 0.3 <= cpu < 2.0
    finally:
        child.kill()
        child.wait()
    assert process_cpu_s(999_999_999) is None


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict, float]:
    """Run `harmone --no-ui`; returns its summary and the CPU time of the process tree."""
    policy = tmp_path / "harmone-ls.toml"
    text = (REPO / "mape" / "presets" / "harmone.toml").read_text()
    text = text.replace('models = ["linear", "svm", "lstm"]', 'models = ["linear", "svm"]')
    text = text.replace('start_model = "lstm"', 'start_model = "linear"')
    # a periodic retrain as well: the drifts of this stream may be met by keeping a fitting version
    text = text.replace("every_steps = 0            #", "every_steps = 3333         #")
    text = text.replace(", lstm = 0.82 }", " }")
    policy.write_text(text)
    summary = tmp_path / "summary.json"
    # the CPU time of this child's process tree alone (RUSAGE_CHILDREN would also count any
    # other child of the test process that happens to be reaped meanwhile)
    with (tmp_path / "stderr.txt").open("w+") as err:
        child = subprocess.Popen(
            harmone_cmd(
                "--no-ui",
                "--data-dir",
                str(tmp_path / "data"),
                "--policy",
                str(policy),
                "--data",
                str(SAMPLE / "scenarios" / "lane_closure.csv"),
                "--summary",
                str(summary),
                "--quiet",
                *args,
            ),
            env=env or subprocess_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        bound = threading.Timer(600, child.kill)  # a hung run fails the test, not the suite
        bound.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            bound.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        assert child.returncode == 0, err.read()
    tree = usage.ru_utime + usage.ru_stime
    return json.loads(summary.read_text()), tree


@pytest.mark.slow
def test_a_harmone_run_with_a_retrain_has_retraining_energy_and_reconciles(tmp_path: Path) -> None:
    summary, tree_cpu_s = _run(tmp_path, "--grid-intensity", "123", "--pue", "1.25")
    energy = summary["energy"]
    assert summary["retrains"] >= 1
    retrains = [t for t in energy["training"] if t["origin"] == "retrain"]
    assert len(retrains) == summary["retrains"]
    assert all(t["energy_j"] > 0 and t["cpu_s"] > 0 for t in retrains)
    assert energy["stages"]["training"]["energy_j"] >= sum(t["energy_j"] for t in retrains) > 0
    # inference per model and version adds up to the run's steps and to the inference stage
    assert sum(i["steps"] for i in energy["inference"]) == summary["steps"]
    inference_j = sum(i["energy_j"] for i in energy["inference"])
    assert energy["stages"]["inference"]["energy_j"] == pytest.approx(inference_j)
    for stage in ("inference", "mape", "drift", "store", "startup"):
        assert energy["stages"][stage]["energy_j"] > 0, stage
    # the stages, "other" included, are the total; the attributed ones do not exceed it
    total = energy["energy_j"]
    stages = [energy["stages"][s]["energy_j"] for s in STAGES]
    assert sum(stages) == pytest.approx(total, rel=1e-9)
    assert energy["reconciliation"]["reconciled"] and energy["reconciliation"]["excess_j"] == 0
    # and the total is the CPU time the OS charged to the process tree, up to its shutdown
    assert total == pytest.approx(energy["cpu_s"] * energy["j_per_cpu_s"], rel=1e-9)
    assert energy["cpu_s"] <= tree_cpu_s + 0.05
    assert tree_cpu_s - energy["cpu_s"] < SHUTDOWN_ALLOWANCE_S + 0.05 * tree_cpu_s
    # carbon follows the configured factors
    assert energy["carbon_g"] == pytest.approx(total / 3.6e6 * 123 * 1.25, rel=1e-9)
    assert energy["carbon"]["grid_intensity_source"] == "set by --grid-intensity"


@pytest.mark.slow
@pytest.mark.parametrize("region", ["fra", "pol"])
def test_carbon_follows_the_region_set_in_the_environment(tmp_path: Path, region: str) -> None:
    summary, _ = _run(tmp_path, "--steps", "300", env=subprocess_env(HARMONE_REGION=region))
    energy = summary["energy"]
    assert energy["carbon"]["grid_intensity_g_per_kwh"] == REGIONS[region]
    assert energy["carbon_g"] == pytest.approx(energy["energy_j"] / 3.6e6 * REGIONS[region])
    for stage in energy["stages"].values():
        assert stage["carbon_g"] == pytest.approx(stage["energy_j"] / 3.6e6 * REGIONS[region])


def test_with_rapl_the_total_is_the_package_counters_energy(tmp_path: Path) -> None:
    from engines.energy import RaplMeter
    from tests.test_energy import make_domain, set_uj

    package = make_domain(tmp_path / "powercap", "intel-rapl:0", "package-0", 1_000_000)
    ledger = EnergyLedger(RaplMeter(tmp_path / "powercap", J_PER_CPU_S, idle_sample_s=0), FACTORS)
    ledger.add_inference("svm", 2, steps=100, cpu_s=0.01, energy_j=2.0)  # measured deltas
    with ledger.stage("drift"):
        spin(0.05)
    set_uj(package, 51_000_000)  # +50 J on the package
    report = ledger.report()
    assert report.source == "rapl" and report.total_j == pytest.approx(50.0)
    assert report.stages_j["inference"] == 2.0
    assert report.stages_j["drift"] == pytest.approx(0.05 * J_PER_CPU_S, abs=0.04)
    assert sum(report.stages_j.values()) == pytest.approx(50.0)
    assert report.reconciled
    ledger.add_inference("svm", 2, steps=100, cpu_s=0.01, energy_j=60.0)  # above the counters
    assert not ledger.report().reconciled


def test_export_rows_have_one_shape_and_the_stage_rows_make_the_total() -> None:
    ledger = EnergyLedger(EstimatedMeter(J_PER_CPU_S, "test"), FACTORS)
    spin(0.02)  # the process spends more than the inference below
    ledger.add_inference("linear", 1, steps=10, cpu_s=0.001, energy_j=0.002)
    ledger.add_training("svm", 2, "retrain", cpu_s=0.5)
    report = ledger.report()
    rows = report.rows()
    assert len({tuple(r) for r in rows}) == 1  # the same columns, in the same order
    stages = [r for r in rows if r["item"] == "stage"]
    assert [r["stage"] for r in stages] == list(STAGES)
    assert sum(r["energy_j"] for r in stages) == pytest.approx(report.total_j)
    (trained,) = [r for r in rows if r["item"] == "trained_version"]
    assert (trained["model"], trained["version"], trained["origin"]) == ("svm", 2, "retrain")
    assert trained["energy_j"] == pytest.approx(0.5 * J_PER_CPU_S)
    assert trained["carbon_g"] == pytest.approx(0.5 * J_PER_CPU_S / 3.6e6 * 400.0)
