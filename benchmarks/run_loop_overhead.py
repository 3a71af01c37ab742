"""Per-step overhead of the run loop (everything but the model call), as a fraction of the
linear model's own predict time, measured in one process on the bundled demo stream.

    python benchmarks/run_loop_overhead.py [--steps 14000] [--repeats 3]

Prints, for each repeat: the linear model's predict time called alone in a tight loop, the run
loop's wall time per step, the predict time measured inside the loop, and the overhead ratio
(wall per step - predict inside) / predict alone. Target: under 0.10.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from mape.policy_file import resolve_policy


async def one_run(data_dir: Path, steps: int) -> dict[str, float]:
    policy, source, text = resolve_policy("single-linear")
    runtime = await Runtime.create(
        RunSettings(data_dir=data_dir, steps=steps), policy, source, text
    )
    model = runtime.slots.model("linear")
    xs = [s.x for _, s in zip(range(steps), runtime.engine.samples(), strict=False)]
    t0 = time.perf_counter()
    for x in xs:
        model.predict(x)
    alone_ms = (time.perf_counter() - t0) / len(xs) * 1e3
    t0 = time.perf_counter()
    summary = await runtime.run()
    per_step_ms = (time.perf_counter() - t0) / summary["steps"] * 1e3
    inside_ms = summary["latency_ms_mean"]
    return {
        "predict_alone_ms": alone_ms,
        "per_step_ms": per_step_ms,
        "predict_inside_ms": inside_ms,
        "overhead_ratio": (per_step_ms - inside_ms) / alone_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=14000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [asyncio.run(one_run(Path(tmp), args.steps)) for _ in range(args.repeats)]
    print(
        f"{'repeat':>6} {'predict alone ms':>17} {'per step ms':>12}"
        f" {'predict inside ms':>18} {'overhead':>9}"
    )
    for i, r in enumerate(results, 1):
        print(
            f"{i:>6} {r['predict_alone_ms']:>17.4f} {r['per_step_ms']:>12.4f}"
            f" {r['predict_inside_ms']:>18.4f} {r['overhead_ratio']:>9.3f}"
        )
    median = statistics.median(r["overhead_ratio"] for r in results)
    print(f"median overhead: {median:.3f} of the linear model's predict time (target < 0.10)")


if __name__ == "__main__":
    main()
