"""What one inference of each model costs on its framework path and on its fast path.

    python benchmarks/model_paths.py [--data-dir DIR] [--calls 5000] [--repeats 3]
                                     [--j-per-cpu-s X] [--vision [--frames DIR]]

Each model version is loaded twice from the same files, as a run with ``serving = "framework"``
and with ``serving = "fast"`` (the default) would load it, and called on the same windows of the
bundled stream. Two costs per call, in thread CPU time (the clock the runtime charges):
``loop`` is one clock read around many calls, divided (the model's own cost); ``charged`` is
what the runtime's hot path (:func:`harmone_tui.inference.run_batch`) charges a call: its chunk's
CPU time shared by the chunk's calls, so it also holds the loop's step from call to call and one
pair of clock reads per chunk (the ``no-op`` row shows what that leaves when the call is free).
Energy is ``charged`` × the meter's joules per CPU-second, the runtime's estimated energy per
inference. Paths are interleaved and each figure is the median of the repeats, so a busy machine
moves both alike. ``max diff`` is the largest relative difference of the path's predictions from
the framework's over the version's training windows (the tests hold it under 1e-6). ``numpy``
is the LSTM's other fast-path candidate, not used.

Versions come from ``--data-dir`` (each model's newest stored version) or are trained here on
the bundled training file (the LSTM takes about a minute).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engines.base import Sample, StreamArrays, TrainRequest  # noqa: E402
from engines.energy import create_meter  # noqa: E402
from engines.regression.factory import create_regression_engine  # noqa: E402
from engines.regression.training import WINDOW, train_model  # noqa: E402
from harmone_tui.inference import ArraySource, IteratorSource, StepSource, run_batch  # noqa: E402

MODELS = ("linear", "svm", "lstm", "naive")
Predict = Callable[[np.ndarray], float]


def version_dirs(data_dir: Path | None, work: Path, train: np.ndarray) -> dict[str, Path]:
    """Each model's newest version directory in ``data_dir``, or one trained into ``work``."""
    out = {}
    for model in MODELS:
        stored = sorted((data_dir / "models" / "regression" / model).glob("v*")) if data_dir else []
        stored = [d for d in stored if (d / "meta.json").is_file()]
        if stored:
            out[model] = max(stored, key=lambda d: int(d.name[1:]))
            continue
        target = work / model
        target.mkdir()
        print(f"training {model} ...", file=sys.stderr)
        meta = train_model(TrainRequest("regression", model, train, target)).meta
        (target / "meta.json").write_text(json.dumps(meta))
        out[model] = target
    return out


def per_call_us(predict: Predict, xs: list[np.ndarray]) -> tuple[float, float]:
    """``(loop, charged)`` thread CPU µs per call (see the module docstring)."""
    clock = time.thread_time_ns
    start = clock()
    for x in xs:
        predict(x)
    loop = (clock() - start) / len(xs) / 1e3
    arrays = np.asarray(xs, dtype=float) if np.ndim(xs[0]) == 1 else None
    if arrays is None:  # frames: one call per chunk anyway
        source: StepSource = IteratorSource(Sample(i, x, None, 0.0) for i, x in enumerate(xs))
    else:
        nan = np.full(len(xs), np.nan)
        source = ArraySource(StreamArrays(arrays, nan, nan))
    figures = run_batch(source, predict, len(xs), None, clock)
    return loop, sum(figures.chunk_cpu_ns) / figures.steps / 1e3


def max_relative(predict: Predict, reference: np.ndarray, windows: np.ndarray) -> float:
    got = np.array([predict(w) for w in windows])
    return float(np.max(np.abs(got - reference) / np.abs(reference)))


def paths(model: str, version: Path, engine: Any) -> dict[str, Predict]:
    """The model's predict on each path (plus the numpy LSTM candidate)."""
    out = {}
    for serving in ("framework", "fast"):
        engine.serving = serving
        out[serving] = engine.load(model, 1, version).predict
    if model == "lstm":
        from benchmarks.lstm_numpy import NumpyLstm
        from engines.regression.engine import read_scaler
        from engines.regression.lstm import read_keras
        from engines.regression.lstm_onnx import network_weights

        path, _, keras_model = read_keras(version)
        out["numpy"] = NumpyLstm(network_weights(keras_model, path), *read_scaler(version)).predict
    return out


def median_costs(
    by_path: dict[str, Predict], xs: list[np.ndarray], repeats: int
) -> dict[str, tuple[float, float]]:
    """Median ``(loop, charged)`` µs per path, the paths interleaved in every repeat."""
    for predict in by_path.values():
        predict(xs[0])
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in by_path}
    for _ in range(repeats):
        for name, predict in by_path.items():
            runs[name].append(per_call_us(predict, xs))
    return {
        name: (statistics.median(r[0] for r in got), statistics.median(r[1] for r in got))
        for name, got in runs.items()
    }


def print_table(
    rows: list[tuple[str, str, float, float, float]], j_per_cpu_s: float, unit: str = "µs"
) -> None:
    """One line per model and path; ``unit`` ms divides the µs figures by 1000."""
    scale, energy = (1e-3, "mJ") if unit == "ms" else (1.0, "µJ")
    print(
        f"{'model':<7} {'path':<10} {'loop ' + unit:>9} {'charged ' + unit:>11}"
        f" {energy + '/call':>9} {'framework/path':>15} {'max diff':>9}"
    )
    framework = {m: charged for m, p, _, charged, _ in rows if p == "framework"}
    for model, path, loop, charged, diff in rows:
        ratio = f"{framework[model] / charged:,.1f}x" if model in framework else ""
        print(
            f"{model:<7} {path:<10} {loop * scale:>9.2f} {charged * scale:>11.2f}"
            f" {charged * scale * j_per_cpu_s:>9.2f} {ratio:>15} {diff:>9.1e}"
        )


def vision_rows(args: argparse.Namespace) -> list[tuple[str, str, float, float, float]]:
    from benchmarks.vision_paths import max_difference, vision_paths

    xs, models = vision_paths(args.data_dir, args.frames, args.frame_limit)
    rows = []
    for model, by_path in models.items():
        reference = np.array([by_path["framework"](x) for x in xs])
        costs = median_costs(by_path, xs, args.repeats)
        for name, predict in by_path.items():
            rows.append((model, name, *costs[name], max_difference(predict, reference, xs)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a harmone data dir with stored versions")
    parser.add_argument("--calls", type=int, default=5000, help="calls per path and repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--j-per-cpu-s", type=float, help="the meter's coefficient (default: auto)")
    parser.add_argument(
        "--vision",
        action="store_true",
        help="also the YOLO versions stored in --data-dir, on --frames",
    )
    parser.add_argument("--frames", type=Path, help="image folder (default: the bundled stream)")
    parser.add_argument("--frame-limit", type=int, default=20, help="frames per path and repeat")
    args = parser.parse_args()
    if args.vision and args.data_dir is None:
        parser.error("--vision needs --data-dir with stored YOLO versions")
    meter = create_meter(args.j_per_cpu_s)
    engine = create_regression_engine(None)
    xs = [s.x for _, s in zip(range(args.calls), engine.samples(), strict=False)]
    windows = np.lib.stride_tricks.sliding_window_view(engine.train, WINDOW + 1)[:, :WINDOW]
    with tempfile.TemporaryDirectory() as tmp:
        versions = version_dirs(args.data_dir, Path(tmp), engine.train)
        rows: list[tuple[str, str, float, float, float]] = []

        def noop(x: np.ndarray) -> float:  # the clock reads alone
            return 0.0

        rows.append(("-", "no-op", *median_costs({"no-op": noop}, xs, args.repeats)["no-op"], 0.0))
        for model in MODELS:
            by_path = paths(model, versions[model], engine)
            reference = np.array([by_path["framework"](w) for w in windows])
            costs = median_costs(by_path, xs, args.repeats)
            for name, predict in by_path.items():
                rows.append((model, name, *costs[name], max_relative(predict, reference, windows)))
    print(
        f"{args.calls} calls x {args.repeats} repeats per path; thread CPU time; energy"
        f" estimated at {meter.j_per_cpu_s:g} J per CPU-second (meter: {meter.source});"
        " max diff: relative to the framework's prediction on the training windows"
    )
    print_table(rows, meter.j_per_cpu_s)
    if args.vision:
        rows = vision_rows(args)
        print(
            f"\n{args.frame_limit} frames x {args.repeats} repeats per path; max diff: absolute,"
            " of the mean box confidence"
        )
        print_table(rows, meter.j_per_cpu_s, unit="ms")


if __name__ == "__main__":
    main()
