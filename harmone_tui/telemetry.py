"""Per-step telemetry of a run in bounded memory: a ring of recent steps, a downsampled whole
run for the chart, and running aggregates for the summary.

Holding every step of a run grew memory with its length (a 1M-step headless run: 218 → 296 MB)
and an endless stream would exhaust it. Nothing here grows with the run any more:

- the **ring** holds at least the last ``history`` steps of every per-step figure, indexed by
  absolute step (``tel.truth[lo:hi]`` is a view; asking for a step no longer held raises). The
  runtime sizes ``history`` to cover every window the policy reads plus the steps not yet
  handed to the store (:func:`history_steps`);
- the **chart series** (truth and prediction) keep min/max/mean per bucket over the whole run in
  a fixed number of buckets (:mod:`harmone_tui.downsample`);
- the **summary** (R², MAE, energy, CPU, latency, share per model) comes from running aggregates
  (:mod:`harmone_tui.run_totals`), exact, never from the downsample.

The chart series and the aggregates catch up with the ring every ``AGGREGATE_STEPS`` steps and
whenever they are read (:meth:`Telemetry.catch_up`), not after every batch.

Every step still goes to the knowledge store in full (``step_rows``), which is where exports read
them. The inference thread records batches; front ends read views between batches.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from harmone_tui.downsample import DEFAULT_BUCKETS, Downsampled
from harmone_tui.inference import BatchFigures
from harmone_tui.run_totals import RunTotals
from mape.policy import Policy

MIN_HISTORY = 8192  # covers the dashboard's sparklines (2,000 steps) and the chart's tail view
AGGREGATE_STEPS = 4096  # steps recorded before the aggregates catch up (sooner when read)
COLUMNS = {
    "truth": np.float64,
    "prediction": np.float64,
    "drift_value": np.float64,
    "model_index": np.int16,
    "version": np.int32,
    "latency_ms": np.float64,
    "cpu_ms": np.float64,
    "energy_mj": np.float64,
}


def history_steps(policy: Policy) -> int:
    """Steps of history the run's readers need: the largest window of the policy (the retrain
    window, both drift windows, the quality window, the settle period) or ``MIN_HISTORY``."""
    return max(
        MIN_HISTORY,
        policy.retrain.window,
        2 * policy.drift.window,
        policy.switch.window_steps,
        policy.drift.settle_steps,
    )


@dataclass(frozen=True)
class _Ring:
    """The held rows: ``arrays[name][i]`` is step ``first + i``. Replaced whole, never moved in
    place, so a reader on another thread always sees one consistent ring."""

    first: int
    arrays: dict[str, np.ndarray]


class StepColumn:
    """One per-step figure, sliced by absolute step over the steps still held."""

    __slots__ = ("_name", "_tel")

    def __init__(self, tel: Telemetry, name: str) -> None:
        self._tel, self._name = tel, name

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("telemetry columns take a slice of steps, e.g. tel.truth[lo:hi]")
        tel = self._tel
        count = tel.count  # before the ring: a newer ring holds every step below an older count
        ring = tel._ring
        lo = 0 if index.start is None else index.start
        hi = count if index.stop is None else min(index.stop, count)
        if lo < ring.first:
            raise IndexError(f"step {lo} is no longer held (the oldest is {ring.first})")
        return ring.arrays[self._name][lo - ring.first : max(lo, hi) - ring.first]


class Telemetry:
    """Bounded per-step figures of one run; see the module docstring."""

    def __init__(
        self,
        total: int,
        models: tuple[str, ...],
        history: int = MIN_HISTORY,
        chart_buckets: int = DEFAULT_BUCKETS,
    ) -> None:
        self.total = total  # steps the run will take at most (the stream or --steps)
        self.models = models
        self.history = history
        self.count = 0
        self.lock = threading.RLock()  # held while the ring, the count or the aggregates change
        self._ring = _Ring(0, {name: np.zeros(2 * history, dtype=t) for name, t in COLUMNS.items()})
        self._totals = RunTotals(len(models))
        self._chart_truth = Downsampled(chart_buckets)
        self._chart_prediction = Downsampled(chart_buckets)
        self._aggregated = 0  # the aggregates cover steps [0, _aggregated)
        self.truth = StepColumn(self, "truth")
        self.prediction = StepColumn(self, "prediction")
        self.drift_value = StepColumn(self, "drift_value")
        self.model_index = StepColumn(self, "model_index")
        self.version = StepColumn(self, "version")
        self.latency_ms = StepColumn(self, "latency_ms")
        self.cpu_ms = StepColumn(self, "cpu_ms")
        self.energy_mj = StepColumn(self, "energy_mj")

    @property
    def totals(self) -> RunTotals:
        """The running aggregates, up to the last recorded step."""
        self.catch_up()
        return self._totals

    @property
    def chart_truth(self) -> Downsampled:
        self.catch_up()
        return self._chart_truth

    @property
    def chart_prediction(self) -> Downsampled:
        self.catch_up()
        return self._chart_prediction

    def catch_up(self) -> None:
        """Add the steps recorded since the last catch-up to the aggregates.

        The aggregates are updated every ``AGGREGATE_STEPS`` steps and when read, not per batch:
        their dozen numpy calls cost about as much as a batch of 300 fast-path calls. The steps
        not yet added are still in the ring (``AGGREGATE_STEPS`` is below any ``history``).
        """
        with self.lock:
            lo, hi = self._aggregated, self.count
            if hi <= lo:
                return
            ring = self._ring
            rows = slice(lo - ring.first, hi - ring.first)
            b = ring.arrays
            truth, prediction = b["truth"][rows], b["prediction"][rows]
            self._totals.add(
                truth,
                prediction,
                b["energy_mj"][rows],
                b["cpu_ms"][rows],
                b["latency_ms"][rows],
                b["model_index"][rows],
            )
            self._chart_truth.add(lo, truth)
            self._chart_prediction.add(lo, prediction)
            self._aggregated = hi

    def energy_j(self) -> float:
        """Joules of every step so far, without bringing the aggregates up to date (the
        runtime's snapshot after each batch asks)."""
        with self.lock:
            ring, lo, hi = self._ring, self._aggregated, self.count
            pending = ring.arrays["energy_mj"][lo - ring.first : hi - ring.first]
            return (self._totals.total("energy_mj") + float(pending.sum())) / 1000.0

    @property
    def first_held(self) -> int:
        """The oldest step still held in the ring."""
        return self._ring.first

    @property
    def nbytes(self) -> int:
        """Bytes of every array held (what must not grow with the run)."""
        arrays = sum(a.nbytes for a in self._ring.arrays.values())
        return arrays + self.totals.nbytes + self.chart_truth.nbytes + self.chart_prediction.nbytes

    def held(self, name: str) -> np.ndarray:
        """Every step of one figure still held, oldest first (one consistent ring, even while
        the inference thread records a batch)."""
        count = self.count
        ring = self._ring
        return ring.arrays[name][: count - ring.first]

    def hold(self, history: int) -> None:
        """Keep at least ``history`` steps from now on (a new policy with a larger window)."""
        self.history = max(self.history, history)

    def record(
        self,
        start: int,
        figures: BatchFigures,
        model: str,
        version: int,
        j_per_cpu_s: float | None,
    ) -> int:
        """Store a batch's figures from ``start``; energy from CPU time when ``j_per_cpu_s`` is
        given (the estimated meter), else from the RAPL readings. Returns the next step.

        Each step gets its chunk's equal share of the chunk's time and energy
        (:mod:`harmone_tui.inference` says why and what that includes)."""
        if start != self.count:
            raise ValueError(f"steps must be recorded in order: expected {self.count}, got {start}")
        stop = start + figures.steps
        if start - self._aggregated >= min(AGGREGATE_STEPS, self.history):
            self.catch_up()  # before the ring may drop steps the aggregates still need
        ring = self._make_room(start, stop)
        rows = slice(start - ring.first, stop - ring.first)
        b = ring.arrays
        b["prediction"][rows] = figures.predictions
        b["truth"][rows] = figures.truths
        b["drift_value"][rows] = figures.drift_values
        b["latency_ms"][rows] = figures.per_step(figures.chunk_wall_ns) / 1e6
        b["cpu_ms"][rows] = figures.per_step(figures.chunk_cpu_ns) / 1e6
        if j_per_cpu_s is not None:
            b["energy_mj"][rows] = b["cpu_ms"][rows] * j_per_cpu_s
        else:
            b["energy_mj"][rows] = figures.per_step(figures.chunk_energy_j) * 1e3
        b["model_index"][rows] = self.model_id(model)
        b["version"][rows] = version
        with self.lock:
            self._ring = ring
            self.count = stop
        return stop

    def _make_room(self, start: int, stop: int) -> _Ring:
        """The ring to write rows [start, stop) into, after at least the last ``history`` steps.

        Rows past ``count`` are free, so a batch that fits is written in place. Otherwise the
        kept rows are copied into new arrays twice ``history`` long (once every ``history``
        steps at most), which replace the old ones when the batch is complete.
        """
        ring = self._ring
        size = len(ring.arrays["truth"])
        if stop - ring.first <= size and size >= 2 * self.history:
            return ring
        keep_from = max(ring.first, start - self.history)
        kept = start - keep_from
        size = max(2 * self.history, stop - keep_from)
        arrays = {}
        for name, old in ring.arrays.items():
            arrays[name] = np.zeros(size, dtype=old.dtype)
            arrays[name][:kept] = old[keep_from - ring.first : start - ring.first]
        return _Ring(keep_from, arrays)

    def step_rows(self, lo: int, hi: int, run_id: int, source: str) -> list[tuple[Any, ...]]:
        """Rows of the knowledge store's ``steps`` table for steps [lo, hi) (still held).

        NaN truths (vision) stay floats: SQLite stores NaN as NULL. A step without a prediction
        (its predict raised: ``harmone_tui.inference``) has no row.
        """
        n = hi - lo
        names = [self.models[m] for m in self.model_index[lo:hi].tolist()]
        rows = list(
            zip(
                repeat(run_id, n),
                range(lo, hi),
                self.truth[lo:hi].tolist(),
                self.prediction[lo:hi].tolist(),
                names,
                self.version[lo:hi].tolist(),
                self.latency_ms[lo:hi].tolist(),
                self.cpu_ms[lo:hi].tolist(),
                self.energy_mj[lo:hi].tolist(),
                repeat(source, n),
                strict=False,
            )
        )
        if np.isnan(self.prediction[lo:hi]).any():
            return [row for row in rows if row[3] == row[3]]
        return rows

    def model_id(self, name: str) -> int:
        return self.models.index(name)

    def model_share(self) -> dict[str, float]:
        """Share of the steps run by each model (rounded to 4 digits)."""
        with self.lock:
            totals = self.totals
            n, counts = totals.steps, totals.counts.tolist()
        if n == 0:
            return {m: 0.0 for m in self.models}
        return {m: round(c / n, 4) for m, c in zip(self.models, counts, strict=True)}

    # the summary ----------------------------------------------------------------------------
    def summary(self, quality_metric: str) -> dict[str, Any]:
        """Whole-run accuracy and cost figures, from the running aggregates."""
        with self.lock:
            return self._summary(quality_metric)

    def _summary(self, quality_metric: str) -> dict[str, Any]:
        t = self.totals
        n = t.steps
        out: dict[str, Any] = {"steps": n}
        if quality_metric == "r2":
            out["r2"] = t.r2()
            out["mae"] = t.mae()
        else:
            out["mean_confidence"] = t.mean("prediction")
        mean_mj = t.mean("energy_mj")
        out["energy_j_per_inference"] = None if mean_mj is None else mean_mj / 1000.0
        out["energy_j_total"] = t.total("energy_mj") / 1000.0  # inference only: see "energy"
        out["cpu_ms_per_inference"] = t.mean("cpu_ms")
        out["latency_ms_mean"] = t.mean("latency_ms")
        out["latency_ms_p95"] = t.latency_p95()
        out["model_share"] = self.model_share()
        return out
