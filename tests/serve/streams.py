"""Record streams for the /v1 tests: deterministic, with a model change and a level shift."""

from __future__ import annotations

import math
import random
from typing import Any

POLICY = """\
name = "remote-test"
engine = "regression"
models = ["ridge", "mean"]
start_model = "mean"
seed = 3

[score]
beta = 0.9
initial = { ridge = 0.8, mean = 0.8 }

[switch]
every_steps = 50
window_steps = 50
min_score = 0.5
explore = 0.2
min_dwell_steps = 100

[drift]
window = 100
bins = 20
threshold = 0.5
every_steps = 20
warmup_steps = 200
cooldown_steps = 300
settle_steps = 40

[retrain]
window = 200
delay_steps = 30
"""


def records(
    n: int, seed: int = 1, switch_at: int = 400, shift_at: int = 900
) -> list[dict[str, Any]]:
    """``mean`` (poor) until ``switch_at``, then ``ridge`` (good); the level moves at
    ``shift_at``; energy per call differs by model."""
    rng = random.Random(seed)
    out = []
    for step in range(n):
        truth = 100 + 40 * math.sin(step / 15) + rng.gauss(0, 3) + (120 if step >= shift_at else 0)
        model = "mean" if step < switch_at else "ridge"
        prediction = 100.0 if model == "mean" else truth + rng.gauss(0, 4)
        out.append(
            {
                "prediction": prediction,
                "truth": truth,
                "model": model,
                "energy_uj": 20.0 if model == "mean" else 90.0,
                "latency_ms": 0.1,
            }
        )
    return out


def batches(items: list[Any], seed: int) -> list[list[Any]]:
    """``items`` cut into batches of random sizes (1 to 120)."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(items):
        size = rng.randint(1, 120)
        out.append(items[i : i + size])
        i += size
    return out
