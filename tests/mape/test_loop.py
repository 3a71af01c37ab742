"""The loop against an in-memory runtime: windows, scores, guards, drift actions, retraining."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from mape.effector import VersionInfo
from mape.loop import MapeLoop
from tests.mape.helpers import (
    REGIME,
    RecordingEffector,
    SimRuntime,
    drifted_stream,
    policy,
    r2_quality,
    summary_of,
)

BASE = """
name = "t"
models = ["cheap", "costly"]
start_model = "costly"
seed = 3
[score]
beta = 0.95
initial = { cheap = 0.8, costly = 0.8 }
[switch]
every_steps = 100
window_steps = 100
min_score = 0.5
explore = 0.0
min_dwell_steps = 0
[drift]
enabled = false
"""


def make(text: str, sim: SimRuntime, start: str = "costly") -> MapeLoop:
    loop = MapeLoop(policy(text), r2_quality, sim, start, 1)
    loop.set_energy_profile(sim.energy)
    return loop


def sine(n: int) -> np.ndarray:
    return 100 + 50 * np.sin(2 * np.pi * np.arange(n) / 288)


def test_window_holds_rows_of_the_active_model_only() -> None:
    eff = RecordingEffector()
    loop = MapeLoop(policy(BASE), r2_quality, eff, "costly", 1)
    truth = sine(200)
    loop.observe(0, "costly", truth[:100] + 400.0, truth[:100], truth[:100], np.ones(100))  # awful
    loop.set_active("cheap", 1)
    loop.observe(100, "cheap", truth[100:] + 0.1, truth[100:], truth[100:], np.ones(100))  # exact
    loop.cycle(200)
    status = loop.status()
    assert status.quality is not None and status.quality > 0.99
    assert status.window_rows == 100 and status.active_model == "cheap"


def test_ema_moves_for_the_active_model_only_and_score_uses_energy() -> None:
    sim = SimRuntime({"cheap": 5.0, "costly": 5.0}, {"cheap": 100.0, "costly": 1000.0})
    loop = make(BASE, sim)
    sim.run(loop, sine(100), "costly")
    loop.cycle(100)
    s = loop.status()
    assert s.e_norm == {"cheap": 0.1, "costly": 1.0} and s.energy_ceiling_uj == 1000.0
    assert (
        s.score is not None and abs(s.score - 0.95 * s.quality) < 1e-9
    )  # E_norm 1: no energy credit
    assert s.ema["costly"] == round(0.8 * s.score + 0.2 * 0.8, 6)
    assert s.ema["cheap"] == 0.8  # not run: unchanged


def test_dwell_bounds_switching_even_when_every_cycle_wants_to_switch() -> None:
    # Both models are bad (noise >> signal): every cycle finds a need; exploration flips models.
    text = BASE.replace("min_score = 0.5", "min_score = 0.99").replace(
        "explore = 0.0", "explore = 1.0"
    )
    free = SimRuntime({"cheap": 200.0, "costly": 200.0}, {"cheap": 1.0, "costly": 1.0})
    free.run(make(text, free), sine(5000), "costly")
    dwell = SimRuntime({"cheap": 200.0, "costly": 200.0}, {"cheap": 1.0, "costly": 1.0})
    dwell.run(
        make(text.replace("min_dwell_steps = 0", "min_dwell_steps = 1000"), dwell),
        sine(5000),
        "costly",
    )
    assert free.kinds().count("switch") >= 40
    switch_steps = [i for i in range(1, 5000) if dwell.model_at[i] != dwell.model_at[i - 1]]
    assert 3 <= len(switch_steps) <= 5
    assert all(b - a >= 1000 for a, b in pairwise(switch_steps))


def test_energy_violation_leaves_the_costly_model_then_recovers() -> None:
    text = BASE.replace("[switch]", "[switch]\nenergy_budget = 0.5\nrecovery_cycles = 3")
    sim = SimRuntime({"cheap": 5.0, "costly": 5.0}, {"cheap": 100.0, "costly": 1000.0})
    sim.run(make(text, sim), sine(2000), "costly")
    switches = [c for k, c in sim.calls if k == "switch"]
    assert switches[0][0] == "cheap" and switches[0][2]["cause"] == "energy"
    assert sim.model_at.index("cheap") == 200  # credit 0.5 -> 0 -> -0.5: the second cycle
    assert len(switches) == 1  # the cheap model fits the budget and scores well: it stays


def test_start_model_keeps_running_when_it_is_best_and_affordable() -> None:
    sim = SimRuntime({"cheap": 40.0, "costly": 2.0}, {"cheap": 100.0, "costly": 1000.0})
    sim.run(make(BASE, sim), sine(3000), "costly")
    assert "switch" not in sim.kinds()
    status = sim.loop.status()
    assert status.decision == "stay" and "min_score" in status.reason


DRIFT = """
name = "d"
models = ["m"]
start_model = "m"
[switch]
enabled = false
[drift]
detector = "kl"
window = 576
bins = 50
threshold = 1.0
every_steps = 10
warmup_steps = 600
cooldown_steps = 600
settle_steps = 200
reuse_threshold = 0.75
[retrain]
window = 400
delay_steps = 20
"""


def drift_versions(stream: np.ndarray) -> list[VersionInfo]:
    edges = np.linspace(-130, 400, 51)
    return [
        VersionInfo("m", 1, summary_of(stream[:REGIME], edges), "first use"),  # normal
        VersionInfo("m", 2, summary_of(stream[REGIME : 2 * REGIME], edges), "drift"),  # affine
        VersionInfo("m", 3, summary_of(stream[:REGIME] + 200, edges), "drift"),  # far away
    ]


def test_drift_reuses_the_closest_stored_version_after_settling() -> None:
    stream = drifted_stream()
    sim = SimRuntime({"m": 5.0}, {"m": 1.0}, versions=drift_versions(stream))
    loop = make(DRIFT, sim, start="m")
    sim.run(loop, stream, "m")
    drifts = [c for k, c in sim.calls if k == "drift"]
    assert REGIME < drifts[0]["detected_at"] < REGIME + 576
    reuses = [c for k, c in sim.calls if k == "reuse"]
    # into the affine regime: v2 (trained on it) is closest; back to normal: v1
    assert [r[1] for r in reuses] == [2, 1]
    assert reuses[0][3]["kl_by_version"]["m v2"] < 0.75 < reuses[0][3]["kl_by_version"]["m v3"]
    second = [d for d in drifts if d["detected_at"] > 2 * REGIME][0]
    assert 2 * REGIME < second["detected_at"] < 2 * REGIME + 576
    assert (
        sim.reuse_steps[1] == second["act_at"] and second["act_at"] - second["detected_at"] >= 200
    )


def test_a_drift_the_running_version_fits_is_recorded_as_keep() -> None:
    stream = drifted_stream()
    edges = np.linspace(-130, 400, 51)
    both = [VersionInfo("m", 1, summary_of(stream[: 2 * REGIME], edges), "first use")]
    sim = SimRuntime({"m": 5.0}, {"m": 1.0}, versions=both)
    sim.run(make(DRIFT, sim, start="m"), stream, "m")
    drifts = [c for k, c in sim.calls if k == "drift"]
    kept = [c for k, c in sim.calls if k == "keep"]
    assert drifts and len(kept) == len(drifts), sim.kinds()
    assert kept[0]["model"] == "m" and kept[0]["version"] == 1
    assert kept[0]["kl_by_version"]["m v1"] < 0.75 and "closest data" in kept[0]["reason"]
    assert not {"reuse", "retrain"} & set(sim.kinds())


def test_drift_retrains_on_new_regime_data_when_no_version_is_close() -> None:
    stream = drifted_stream()
    versions = drift_versions(stream)[:1]  # only v1 (normal): the affine regime matches nothing
    sim = SimRuntime({"m": 5.0}, {"m": 1.0}, versions=versions)
    sim.run(make(DRIFT, sim, start="m"), stream, "m")
    retrains = [c for k, c in sim.calls if k == "retrain"]
    assert retrains, sim.kinds()
    values, detail = retrains[0][1], retrains[0][3]
    assert detail["trigger"] == "drift" and len(values) == 200  # settle_steps values, nothing older
    affine = stream[REGIME : 2 * REGIME]
    assert set(values) <= set(affine.tolist())


def test_a_refused_retrain_is_retried_and_the_loop_goes_on() -> None:
    stream = drifted_stream()
    sim = SimRuntime(
        {"m": 5.0}, {"m": 1.0}, versions=drift_versions(stream)[:1], accept_retrain=False
    )
    loop = make(DRIFT, sim, start="m")
    sim.run(loop, stream[: 2 * REGIME], "m")
    attempts = [c for k, c in sim.calls if k == "retrain"]
    assert len(attempts) > 10  # retried at every drift check while the worker is busy
    assert loop.status().decision == "wait" and loop.status().step == 2 * REGIME


def test_periodic_retrain_uses_the_last_window_of_truths() -> None:
    text = (
        BASE.replace('models = ["cheap", "costly"]', 'models = ["cheap", "costly"]')
        + "[retrain]\nwindow = 250\nevery_steps = 1000\n"
    )
    sim = SimRuntime({"cheap": 5.0, "costly": 5.0}, {"cheap": 1.0, "costly": 1.0})
    truth = sine(3500)
    sim.run(make(text, sim), truth, "costly")
    retrains = [c for k, c in sim.calls if k == "retrain"]
    assert len(retrains) == 3
    model, values, reason, detail = retrains[0]
    assert model == "costly" and values == truth[750:1000].tolist() and "periodic" in reason


def test_next_due_covers_the_cycle_and_retrain_periods_but_not_drift_checks() -> None:
    text = DRIFT.replace("[switch]\nenabled = false", "[switch]\nevery_steps = 267")
    loop = MapeLoop(policy(text), r2_quality, RecordingEffector(), "m", 1)
    # drift checks (every 10 steps here) run inside a batch and date their findings exactly
    assert loop.next_due(0) == 267 and loop.next_due(267) == 534
    periodic = MapeLoop(
        policy(text + "every_steps = 100\n"), r2_quality, RecordingEffector(), "m", 1
    )
    assert periodic.next_due(0) == 100 and periodic.next_due(250) == 267


def test_policy_change_takes_effect_at_the_next_cycle() -> None:
    sim = SimRuntime({"cheap": 5.0, "costly": 5.0}, {"cheap": 1.0, "costly": 1.0})
    loop = make(BASE, sim)
    sim.run(loop, sine(300), "costly")
    loop.apply_policy(
        policy(
            BASE.replace("window_steps = 100", "window_steps = 50").replace(
                "min_score = 0.5", "min_score = 0.999"
            )
        )
    )
    assert loop.policy.switch.min_score == 0.5
    loop.cycle(300)
    assert loop.policy.switch.min_score == 0.999 and loop.status().window_rows == 50


def test_a_regime_that_returns_within_the_cooldown_is_reused_at_once() -> None:
    # the cool-down (2,000 steps) outlasts the affine regime (1,500): the return to normal used
    # to wait for its end (~1,100 steps into the normal regime), and then retrained
    stream = drifted_stream()
    sim = SimRuntime({"m": 5.0}, {"m": 1.0}, versions=drift_versions(stream))
    text = DRIFT.replace("cooldown_steps = 600", "cooldown_steps = 2000")
    sim.run(make(text, sim, start="m"), stream, "m")
    reuses = [c for k, c in sim.calls if k == "reuse"]
    assert [r[1] for r in reuses] == [2, 1]
    assert 2 * REGIME < sim.reuse_steps[1] < 2 * REGIME + 576 + 200
    assert not [c for k, c in sim.calls if k == "retrain"]
    drifts = [c for k, c in sim.calls if k == "drift"]
    assert len(drifts) == 2  # the return is recorded as a drift, when it brought v1 back


def test_a_finding_in_the_cooldown_never_retrains() -> None:
    stream = drifted_stream()
    sim = SimRuntime({"m": 5.0}, {"m": 1.0}, versions=drift_versions(stream)[:1])
    text = DRIFT.replace("cooldown_steps = 600", "cooldown_steps = 5000")
    sim.run(make(text, sim, start="m"), stream, "m")
    # one retrain for the affine regime; back to normal, v1 (running) fits: nothing to do
    assert [k for k in sim.kinds() if k in ("drift", "retrain", "reuse")] == ["drift", "retrain"]


def test_back_to_the_running_versions_regime_keeps_it() -> None:
    stream = drifted_stream()
    versions = drift_versions(stream)
    sim = SimRuntime({"m": 5.0}, {"m": 1.0}, versions=versions)
    # a false alarm in the normal regime (a low threshold), with v1 running: keep, not retrain
    text = DRIFT.replace("threshold = 1.0", "threshold = 0.05")
    sim.run(make(text, sim, start="m"), stream[:REGIME], "m")
    assert [k for k in sim.kinds() if k == "drift"], "the low threshold must fire"
    assert not [k for k in sim.kinds() if k in ("retrain", "reuse")]
