"""A user's own pipeline managed by `harmone serve`: two scikit-learn models on a traffic stream.

    harmone serve &                                   # the managing system, on 127.0.0.1:5000
    python examples/sklearn_pipeline.py [--server URL] [--steps N]

The pipeline forecasts the next 5-minute traffic count from the previous five. It starts on a
cheap baseline (the training mean); the server's loop sees its R² fall below the policy's
``min_score`` and posts ``switch_model`` to the agent, which moves to the ridge regression.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge

sys.path.insert(0, str(Path(__file__).parent))
from harmone_agent import Agent

DATA = Path(__file__).resolve().parent.parent / "sample_data"
LAGS = 5
POLICY = """\
name = "sklearn-demo"
engine = "regression"
models = ["mean", "ridge"]
start_model = "mean"
seed = 7

[score]
beta = 0.9
initial = { mean = 0.8, ridge = 0.8 }

[switch]
every_steps = 50
window_steps = 50
min_score = 0.6
explore = 0.0
min_dwell_steps = 100

[drift]
enabled = false
"""


def flows(name: str) -> np.ndarray:
    with open(DATA / name, newline="") as f:
        return np.array([float(row["flow"]) for row in csv.DictReader(f)])


def windows(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.lib.stride_tricks.sliding_window_view(series[:-1], LAGS)
    return x, series[LAGS:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="http://127.0.0.1:5000")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--rate", type=float, default=100.0, help="inferences per second")
    args = parser.parse_args()
    x_train, y_train = windows(flows("flow_train.csv"))
    models = {
        "mean": DummyRegressor().fit(x_train, y_train),
        "ridge": Ridge(alpha=1.0).fit(x_train, y_train),
    }
    x_stream, y_stream = windows(flows("pems_stream.csv"))
    with Agent(args.server, "sklearn-traffic", models, policy=POLICY, batch=25) as agent:
        for x, y in zip(x_stream[: args.steps], y_stream[: args.steps], strict=True):
            agent.predict(x)
            agent.observe(y)
            time.sleep(1 / args.rate)  # data arrives over time, as in production
    received = [f"{t['tactic_id']} {t.get('model')}" for t in agent.tactics]
    print(f"tactics received: {received}")
    print(f"model at the end: {agent.active}")


if __name__ == "__main__":
    main()
