"""Plan: the switching rule, its dwell and recovery guards, the drift tactic (reuse, retrain)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mape.analyse import SwitchNeed
from mape.effector import VersionInfo
from mape.plan import plan_drift, plan_switch
from tests.mape.helpers import summary_of

MODELS = ["linear", "svm", "lstm"]
EMA = {"linear": 0.90, "svm": 0.85, "lstm": 0.70}
SCORE = SwitchNeed("score", "EMA low")
ENERGY = SwitchNeed("energy", "budget exceeded")
NONE = SwitchNeed(None, "fine")


class FixedRandom(random.Random):
    """A Random whose draws are set by the test (random() value, randrange index)."""

    def __init__(self, draw: float, pick: int = 0) -> None:
        super().__init__(0)
        self.draw, self.pick = draw, pick

    def random(self) -> float:
        return self.draw

    def randrange(self, n: int) -> int:  # type: ignore[override]
        return self.pick % n


@pytest.mark.parametrize(
    ("case", "active", "need", "draw", "pick", "explore", "dwell", "recovery", "action", "model"),
    [
        ("no need: stay", "lstm", NONE, 0.0, 0, 0.1, 0, 0, "stay", "lstm"),
        ("score: best EMA", "lstm", SCORE, 0.5, 0, 0.1, 0, 0, "switch", "linear"),
        ("score: explore picks another", "linear", SCORE, 0.05, 1, 0.1, 0, 0, "switch", "lstm"),
        ("score: explore never picks active", "linear", SCORE, 0.05, 0, 0.1, 0, 0, "switch", "svm"),
        ("score: explore off", "lstm", SCORE, 0.0, 0, 0.0, 0, 0, "switch", "linear"),
        ("score: active is best -> stay", "linear", SCORE, 0.5, 0, 0.1, 0, 0, "stay", "linear"),
        (
            "energy: best OTHER even if active best",
            "linear",
            ENERGY,
            0.0,
            0,
            1.0,
            0,
            0,
            "switch",
            "svm",
        ),
        ("energy: from lstm to linear", "lstm", ENERGY, 0.5, 0, 0.1, 0, 0, "switch", "linear"),
        ("dwell blocks", "lstm", SCORE, 0.5, 0, 0.1, 10, 0, "hold", "lstm"),
        ("dwell blocks energy too", "lstm", ENERGY, 0.5, 0, 0.1, 1, 0, "hold", "lstm"),
        ("recovery blocks", "lstm", SCORE, 0.5, 0, 0.1, 0, 2, "hold", "lstm"),
    ],
)
def test_plan_switch_table(
    case: str,
    active: str,
    need: SwitchNeed,
    draw: float,
    pick: int,
    explore: float,
    dwell: int,
    recovery: int,
    action: str,
    model: str,
) -> None:
    d = plan_switch(active, MODELS, EMA, need, FixedRandom(draw, pick), explore, dwell, recovery)
    assert (d.action, d.model) == (action, model), case
    assert d.reason, "every decision has a reason"


def test_switch_reason_names_cause_and_target() -> None:
    d = plan_switch("lstm", MODELS, EMA, SCORE, FixedRandom(0.9), 0.1)
    assert "linear" in d.reason and "best EMA" in d.reason
    assert d.detail["cause"] == "score" and d.detail["ema"]["lstm"] == 0.7
    e = plan_switch("lstm", MODELS, EMA, SCORE, FixedRandom(0.01), 0.1)
    assert e.detail["cause"] == "explore" and "exploring" in e.reason


def test_exploration_is_seeded() -> None:
    def run(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [plan_switch("lstm", MODELS, EMA, SCORE, rng, 0.5).model for _ in range(40)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert set(run(7)) == {"linear", "svm"}  # lstm (active) is never an exploration target


EDGES = np.linspace(0.0, 400.0, 41)
RNG = np.random.default_rng(3)
LOW = summary_of(RNG.normal(100, 20, 2000), EDGES)
HIGH = summary_of(RNG.normal(250, 20, 2000), EDGES)
MID = summary_of(RNG.normal(175, 20, 2000), EDGES)
VERSIONS = [
    VersionInfo("m", 1, LOW, "first use"),
    VersionInfo("m", 2, HIGH, "drift"),
    VersionInfo("m", 3, MID, "drift"),
    VersionInfo("m", 4, None, "imported"),
]


@pytest.mark.parametrize(
    ("case", "on_drift", "running", "center", "threshold", "action", "version"),
    [
        ("closest is v1", "reuse_or_retrain", 3, 100, 0.75, "reuse", 1),
        ("closest is v2", "reuse_or_retrain", 1, 250, 0.75, "reuse", 2),
        # the data came back to what the running version learnt: keep it, retrain nothing
        ("closest is running: keep it", "reuse_or_retrain", 2, 250, 0.75, "keep", 2),
        ("running is close, another closer", "reuse_or_retrain", 3, 110, 2.0, "reuse", 1),
        ("nothing close enough", "reuse_or_retrain", 1, 360, 0.75, "retrain", None),
        ("threshold zero never reuses", "reuse_or_retrain", 3, 100, 0.0, "retrain", None),
        ("retrain tactic", "retrain", 3, 100, 0.75, "retrain", None),
        ("alert", "alert", 3, 100, 0.75, "alert", None),
        ("ignore", "ignore", 3, 100, 0.75, "ignore", None),
    ],
)
def test_plan_drift_table(
    case: str,
    on_drift: str,
    running: int,
    center: float,
    threshold: float,
    action: str,
    version: int | None,
) -> None:
    recent = np.random.default_rng(9).normal(center, 20, 600)
    p = plan_drift(on_drift, ("m", running), recent, VERSIONS, threshold)
    assert (p.action, p.version) == (action, version), case
    assert p.model == (None if version is None else "m"), case
    assert p.reason


def test_reuse_distances_are_reported_per_version() -> None:
    recent = np.random.default_rng(9).normal(100, 20, 600)
    p = plan_drift("reuse_or_retrain", ("m", 3), recent, VERSIONS, 0.75)
    assert set(p.distances) == {"m v1", "m v2", "m v3"}  # v4 has no summary: not comparable
    assert p.distances["m v1"] < p.distances["m v3"] < p.distances["m v2"]


# every model's first version is trained on the same data; svm was retrained on the high regime
ACROSS = [
    VersionInfo("linear", 1, LOW, "first use"),
    VersionInfo("svm", 1, LOW, "first use"),
    VersionInfo("lstm", 1, LOW, "first use"),
    VersionInfo("svm", 2, HIGH, "drift"),
]


@pytest.mark.parametrize(
    ("case", "running", "center", "action", "model", "version"),
    [
        ("a regime another model was retrained on returns", ("linear", 1), 250, "reuse", "svm", 2),
        ("the first regime returns to the retrained model", ("svm", 2), 100, "reuse", "svm", 1),
        ("first versions tie: the running one is kept", ("lstm", 1), 100, "keep", "lstm", 1),
        ("the running version fits", ("svm", 2), 250, "keep", "svm", 2),
    ],
)
def test_plan_drift_across_models(
    case: str, running: tuple[str, int], center: float, action: str, model: str, version: int
) -> None:
    recent = np.random.default_rng(9).normal(center, 20, 600)
    p = plan_drift("reuse_or_retrain", running, recent, ACROSS, 0.75, EMA)
    assert (p.action, p.model, p.version) == (action, model, version), case
    assert set(p.distances) == {"linear v1", "svm v1", "lstm v1", "svm v2"}


def test_plan_drift_ties_between_other_models_go_to_the_best_ema() -> None:
    recent = np.random.default_rng(9).normal(100, 20, 600)
    running_far = [*ACROSS[:3], VersionInfo("naive", 1, HIGH, "first use")]
    p = plan_drift("reuse_or_retrain", ("naive", 1), recent, running_far, 0.75, EMA)
    assert (p.action, p.model, p.version) == ("reuse", "linear", 1)  # EMA linear 0.90 is best
    p = plan_drift("reuse_or_retrain", ("naive", 1), recent, running_far, 0.75, {"lstm": 0.95})
    assert p.model == "lstm"
