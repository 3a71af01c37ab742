"""What a retrain of a light model costs in the trainer worker and in a thread of the run.

    python benchmarks/train_in_process.py [--rows N] [--repeats N]

For linear and svm, on the last ``--rows`` values of the bundled training file (the presets'
retrain window is 1,200), all in one run through :class:`harmone_tui.trainer_pool.TrainerPool`:

- **cold worker**: the first training of a fresh worker, as a run's first retrain meets it: the
  worker process's whole CPU time (start-up, imports, the fit), read from ``/proc`` as the
  energy ledger reads it;
- **warm worker**: the trainer's own CPU time in an already started worker (median of repeats);
- **in-process**: the training thread's CPU time (median of repeats), as the ledger now charges.

It prints the CPU-seconds and the ratios cold/in-process and warm/in-process; the in-process and
worker versions' predictions must be equal (checked).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engines.regression.data import read_series  # noqa: E402
from engines.regression.engine import RegressionEngine  # noqa: E402
from harmone_tui.ledger import process_cpu_s  # noqa: E402
from harmone_tui.trainer_pool import TrainedVersion, TrainerPool  # noqa: E402
from mape.knowledge import KnowledgeStore  # noqa: E402
from mape.model_repo import ModelRepository  # noqa: E402

MODELS = ("linear", "svm")


class WorkerRegression(RegressionEngine):
    """The regression engine with every model trained in the worker."""

    def trains_in_process(self, model: str) -> bool:
        return False


def _predictions(engine: RegressionEngine, trained: TrainedVersion) -> np.ndarray:
    s = trained.stored
    loaded = engine.load(s.model, s.version, s.directory)
    return np.array([loaded.predict(sample.x) for sample in engine.samples()])


async def _measure(model: str, rows: int, repeats: int, root: Path) -> dict[str, float]:
    train = read_series(REPO / "sample_data" / "flow_train.csv")
    stream = read_series(REPO / "sample_data" / "pems_stream.csv")[:2000]
    here, there = RegressionEngine(stream, train), WorkerRegression(stream, train)
    data = train[-rows:]
    repo = ModelRepository(root, KnowledgeStore.open(root / "knowledge.sqlite3"))
    pool = TrainerPool(repo, lambda cpu_s: cpu_s)
    try:
        first = await pool.train(there, model, data, "retrain", None)
        cold = sum(process_cpu_s(pid) or 0.0 for pid in pool.worker_pids())
        warm = [
            (await pool.train(there, model, data, "retrain", None)).cpu_s for _ in range(repeats)
        ]
        local = [await pool.train(here, model, data, "retrain", None) for _ in range(repeats)]
    finally:
        pool.close()
        repo.store.close()
    if not np.array_equal(_predictions(here, first), _predictions(here, local[0])):
        raise SystemExit(f"{model}: in-process and worker versions predict differently")
    return {
        "cold": cold,
        "warm": statistics.median(warm),
        "in_process": statistics.median(t.cpu_s for t in local),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1200, help="training rows (default 1200)")
    parser.add_argument("--repeats", type=int, default=5, help="trainings per figure")
    args = parser.parse_args()
    print(
        f"{'model':<7} {'cold worker':>12} {'warm worker':>12} {'in-process':>11}"
        f" {'cold/in-proc':>13} {'warm/in-proc':>13}"
    )
    for model in MODELS:
        with tempfile.TemporaryDirectory() as tmp:
            f = asyncio.run(_measure(model, args.rows, args.repeats, Path(tmp)))
        print(
            f"{model:<7} {f['cold']:>10.3f} s {f['warm']:>10.4f} s {f['in_process']:>9.4f} s"
            f" {f['cold'] / f['in_process']:>12.0f}x {f['warm'] / f['in_process']:>12.2f}x"
        )
    print("CPU-seconds; cold: the fresh worker's whole CPU time for its first training.")


if __name__ == "__main__":
    main()
