"""The vision presets parse, name only vision models, and their drift settings fit the sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engines.vision.engine import MODELS
from mape.drift import KLDetector
from mape.policy import check_models
from mape.policy_file import parse_policy, preset_names, preset_text
from tests.vision.conftest import vision_engine

VISION_PRESETS = (
    "vision-harmone",
    "vision-switch",
    "vision-single-yolo_n",
    "vision-single-yolo_s",
    "vision-single-yolo_m",
)


@pytest.mark.parametrize("name", VISION_PRESETS)
def test_vision_preset_parses(name: str) -> None:
    assert name in preset_names()
    policy = parse_policy(preset_text(name), f"preset {name}")
    assert policy.name == name and policy.engine == "vision"
    check_models(policy, [m.name for m in MODELS], name)
    if name.startswith("vision-single-"):
        assert policy.models == (name.removeprefix("vision-single-"),)
        assert not policy.switch.enabled and not policy.drift.enabled


def test_harmone_drift_settings_fire_once_after_the_induced_drift(tmp_path: Path) -> None:
    """The KL settings of vision-harmone, run over the sample's luminance: no alarm in the day
    part, one alarm within 15 steps of the change to night (step 40)."""
    drift = parse_policy(preset_text("vision-harmone"), "vision-harmone").drift
    engine = vision_engine(None, tmp_path)
    values = np.array([s.drift_value for s in engine.samples()])
    detector = KLDetector(drift.window, drift.bins, drift.threshold, drift.every_steps)
    fired = [i for i, v in enumerate(values) if detector.update(float(v)).drift_detected]
    assert len(fired) == 1 and 40 <= fired[0] < 55 and fired[0] >= drift.warmup_steps
