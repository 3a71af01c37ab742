"""YOLO n/s/m side by side on the bundled vision stream: latency, estimated energy, confidence.

    python benchmarks/vision_models.py [--data-dir DIR] [--frames N] [--imgsz 320]

Uses the latest stored version of each model in the data directory, training the missing ones
first exactly as ``harmone models bootstrap vision`` does. Each frame is predicted once per model,
as the runtime does: latency is the wall time of ``predict``; energy is the process CPU time of the
call times the meter's joules per CPU-second, so it is labelled "estimated" (RAPL's package
counter would charge the whole socket to a call). Confidence is the model's output (mean box
confidence, 0 when nothing is detected), overall and for the day and night parts of the sample.
Ratios are against yolo_m.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MODELS = ("yolo_n", "yolo_s", "yolo_m")


def measure(model: Any, frames: list[tuple[str, Any]], j_per_cpu_s: float) -> dict[str, float]:
    """Per-frame wall latency, CPU time, estimated energy and confidence of one loaded model."""
    latency, cpu, conf, day, night = [], [], [], [], []
    for name, x in frames:
        w0, c0 = time.perf_counter(), time.process_time()
        value = model.predict(x)
        cpu_s = time.process_time() - c0
        latency.append((time.perf_counter() - w0) * 1e3)
        cpu.append(cpu_s * 1e3)
        conf.append(value)
        (night if "_night_" in name else day).append(value)
    return {
        "latency_ms": statistics.fmean(latency),
        "latency_p50_ms": statistics.median(latency),
        "cpu_ms": statistics.fmean(cpu),
        "energy_mj": statistics.fmean(cpu) * j_per_cpu_s,
        "confidence": statistics.fmean(conf),
        "confidence_day": statistics.fmean(day) if day else float("nan"),
        "confidence_night": statistics.fmean(night) if night else float("nan"),
    }


def table(results: dict[str, dict[str, float]], versions: dict[str, int], source: str) -> str:
    ref = results["yolo_m"]
    lines = [
        f"{'model':<8} {'ver':>4} {'ms/img':>8} {'p50 ms':>8} {'CPU ms':>8} "
        f"{'mJ/img (' + source + ')':>22} {'conf':>6} {'day':>6} {'night':>6} "
        f"{'t/m':>6} {'E/m':>6}"
    ]
    for name, r in results.items():
        lines.append(
            f"{name:<8} {'v' + str(versions[name]):>4} {r['latency_ms']:8.1f} "
            f"{r['latency_p50_ms']:8.1f} {r['cpu_ms']:8.1f} {r['energy_mj']:22.1f} "
            f"{r['confidence']:6.3f} {r['confidence_day']:6.3f} {r['confidence_night']:6.3f} "
            f"{r['latency_ms'] / ref['latency_ms']:6.2f} {r['energy_mj'] / ref['energy_mj']:6.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    from engines.energy import create_meter
    from engines.vision.engine import PREDICT_IMGSZ, create_vision_engine
    from harmone_tui import paths
    from harmone_tui.commands.models import bootstrap
    from mape.knowledge import KnowledgeStore
    from mape.model_repo import ModelRepository

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="data directory (default: user data dir)")
    parser.add_argument("--frames", type=int, help="only the first N frames of the stream")
    parser.add_argument("--imgsz", type=int, default=PREDICT_IMGSZ, help="inference image size")
    args = parser.parse_args()

    root = paths.data_dir(args.data_dir)
    asyncio.run(bootstrap(root, list(MODELS), None, None, None))
    engine = create_vision_engine(
        None,
        paths.vision_dir(root),
        config_dir=paths.ultralytics_dir(root),
        predict_imgsz=args.imgsz,
    )
    frames = [(p.name, s.x) for p, s in zip(engine.files, engine.samples(), strict=True)]
    frames = frames[: args.frames] if args.frames else frames
    j_per_cpu_s = create_meter().j_per_cpu_s
    store = KnowledgeStore.open(paths.knowledge_file(root))
    repo = ModelRepository(root, store)
    results, versions = {}, {}
    for name in MODELS:
        stored = repo.latest("vision", name)
        assert stored is not None, f"{name}: bootstrap left no version"
        versions[name] = stored.version
        loaded = engine.load(name, stored.version, stored.directory)
        results[name] = measure(loaded, frames, j_per_cpu_s)
    store.close()
    print(
        f"{len(frames)} frames of {engine.source}, imgsz {args.imgsz}, "
        f"energy estimated at {j_per_cpu_s} J per CPU-second"
    )
    print(table(results, versions, "estimated"))


if __name__ == "__main__":
    main()
