"""The run loop against the model call: headless single-linear steps/s beside a bare numpy loop
doing the same predictions over the same stream, measured in one process.

    python benchmarks/run_loop_overhead.py [--stream-repeats 10] [--repeats 5]
                                           [--serving fast|framework] [--policy single-linear]

Each repeat, in this order on the same windows of the bundled stream (replayed
``--stream-repeats`` times, so a run lasts long enough to measure):

- ``bare``: a list comprehension of ``float(weights.dot(x)) + offset`` over the stream's windows
  (the fast path's arithmetic with nothing around it; ``--serving fast`` only);
- ``alone``: the loaded model's ``predict`` over the same windows in a tight loop;
- ``run``: a headless ``--speed max`` run of the policy (``Runtime.run``, which is what
  ``harmone --no-ui`` calls): steps / the summary's ``wall_s``, as the CLI reports it. The
  knowledge store gets every step, as in any run.

A first, uncounted repeat trains the model (a new data dir) and warms up. Printed per repeat
and as medians: steps/s of each, ``run / bare``, the loop's overhead per step
(``run`` µs per step minus ``alone``) in µs and as a multiple of the model call, and whether the
run's predictions equal the bare loop's (the last steps the telemetry holds).
Goals (issue 15): run >= 100k steps/s and >= 0.3x bare; overhead <= 0.10x the model call.

Runs on main's code as well (it only uses the Runtime's public set-up), so a baseline is
``PYTHONPATH=<main checkout> python benchmarks/run_loop_overhead.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from mape.policy_file import parse_policy, resolve_policy

REPO = Path(__file__).resolve().parents[1]


def repeated_stream(tmp: Path, repeats: int) -> Path:
    """The bundled stream ``repeats`` times in one CSV (one header)."""
    lines = (REPO / "sample_data" / "pems_stream.csv").read_text().splitlines(keepends=True)
    path = tmp / f"pems_stream_x{repeats}.csv"
    path.write_text(lines[0] + "".join(lines[1:]) * repeats)
    return path


def per_step_s(fn: Any, xs: np.ndarray) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    out = fn(xs)
    return (time.perf_counter() - t0) / len(xs), out


async def one_repeat(data_dir: Path, stream: Path, policy_name: str, serving: str) -> dict:
    policy, source, text = resolve_policy(policy_name)
    if serving != policy.serving:
        text = f'serving = "{serving}"\n{text}'
        policy = parse_policy(text, source)
    runtime = await Runtime.create(
        RunSettings(data_dir=data_dir, data=stream), policy, source, text
    )
    model = runtime.slots.model(policy.start_model)
    xs = np.array([s.x for s in runtime.engine.samples()])
    out: dict[str, Any] = {}
    if serving == "fast":
        dot, offset = model.weights.dot, model.offset
        out["bare_s"], bare = per_step_s(lambda xs: [float(dot(x)) + offset for x in xs], xs)
    else:
        out["bare_s"], bare = float("nan"), [float(model.predict(x)) for x in xs]
    predict = model.predict
    out["alone_s"], _ = per_step_s(lambda xs: [predict(x) for x in xs], xs)
    summary = await runtime.run()
    out["steps"] = summary["steps"]
    out["run_s"] = summary["wall_s"] / summary["steps"]
    held = runtime.telemetry.held("prediction")
    out["same"] = bool(np.array_equal(held, np.asarray(bare[: summary["steps"]])[-len(held) :]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream-repeats", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--policy", default="single-linear")
    parser.add_argument("--serving", choices=("fast", "framework"), default="fast")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        stream = repeated_stream(Path(tmp), args.stream_repeats)
        for _ in range(args.repeats + 1):  # the first trains the model and warms up: not shown
            rows.append(asyncio.run(one_repeat(Path(tmp), stream, args.policy, args.serving)))
    rows = rows[1:]
    print(
        f"{args.policy}, serving {args.serving}, {rows[0]['steps']:,} steps per run"
        f" ({args.stream_repeats}x the bundled stream)"
    )
    print(
        f"{'repeat':>6} {'bare steps/s':>13} {'alone steps/s':>14} {'run steps/s':>12}"
        f" {'run/bare':>9} {'overhead µs':>12} {'x model':>8} {'same':>5}"
    )
    for i, r in enumerate([*rows, None], 1):
        if r is None:
            r = {k: statistics.median(x[k] for x in rows) for k in ("bare_s", "alone_s", "run_s")}
            r["same"] = all(x["same"] for x in rows)
            i = "median"
        overhead = r["run_s"] - r["alone_s"]
        print(
            f"{i:>6} {1 / r['bare_s']:>13,.0f} {1 / r['alone_s']:>14,.0f} {1 / r['run_s']:>12,.0f}"
            f" {r['bare_s'] / r['run_s']:>9.3f} {overhead * 1e6:>12.3f}"
            f" {overhead / r['alone_s']:>8.2f} {'yes' if r['same'] else 'NO':>5}"
        )
    print("goals: run >= 100,000 steps/s and >= 0.3x bare; overhead <= 0.10x the model call")


if __name__ == "__main__":
    main()
