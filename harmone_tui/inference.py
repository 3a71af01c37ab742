"""The hot path: run a batch of steps through one model, clocks read per chunk of calls.

Kept apart from the runtime so that what is measured is plain to see: only the ``predict``
calls sit between the clock reads.

**Chunks.** A fast-path call (a dot product, ~0.4 µs here) is shorter than one read of the
thread's CPU clock (~0.5 µs: a system call on this VM), so reading the clocks around every
call reported mostly the clocks' own cost as the model's energy, and doubled the step's cost.
The calls of a batch therefore run in *chunks*, with the clocks (and a RAPL meter) read once
before and once after each chunk. A chunk is sized from the last one to last about
``CHUNK_NS`` (1 ms): a call longer than that (the LSTM on its framework path, YOLO) runs
alone in its chunk, measured exactly as before; a 0.4 µs call shares a chunk with a few
thousand others.

**Attribution.** Each step of a chunk is charged the chunk's mean: its CPU time (so its
estimated energy), its RAPL energy and its wall latency, divided equally among its calls.
The totals are exact, and so is each model's share: a batch runs one model version (the
runtime ends a batch at every switch, swap or forced action), and a chunk never leaves its
batch. What a chunk's CPU time holds besides the calls: the loop's own step from one call to
the next (a list comprehension's iteration, tens of ns) and one pair of clock reads per chunk
(under 1 ns per call at a few thousand calls). Per-step figures of fast calls are therefore
chunk means; the p95 latency of a run is the p95 of those means.

A stop (a signal) is asked for before each chunk, so it waits for about ``CHUNK_NS`` of calls,
or for one slow call.

**A ``predict`` that raises** (a plug-in's model failing on one input) does not end the run:
the step is *skipped*: it is counted, with no prediction and its truth recorded as unknown
(NaN), so no quality window, summary or drift decision scores it, and the model stays active.
The chunk goes on with the next input, so the other calls are neither lost nor run twice. The
failure is kept in ``BatchFigures.failures``; the runtime turns each batch's failures into one
``error`` event (the first message and how many steps failed). Falling back to another model
was not chosen: the MAPE loop owns model choice, and it sees the failing model's quality only
through the steps it did predict.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

import numpy as np

from engines.base import Engine, Sample, StreamArrays
from engines.protocol import first_line

CHUNK_NS = 1_000_000  # a chunk of calls lasts about this long
MAX_CHUNK = 65_536


class StepSource(Protocol):
    """Where the steps' inputs come from, in order."""

    def take(self, n: int) -> tuple[Sequence[Any], Sequence[float], Sequence[float]]:
        """Up to ``n`` next steps as (inputs, truths with NaN for unknown, drift values);
        fewer only when the stream ends."""
        ...


class ArraySource:
    """Steps sliced from a stream held in arrays (no per-step object)."""

    def __init__(self, arrays: StreamArrays) -> None:
        self._arrays = arrays
        self._next = 0

    def take(self, n: int) -> tuple[Sequence[Any], Sequence[float], Sequence[float]]:
        a, lo = self._arrays, self._next
        hi = min(lo + n, len(a.inputs))
        self._next = hi
        return a.inputs[lo:hi], a.truths[lo:hi], a.drift_values[lo:hi]


class IteratorSource:
    """Steps pulled from ``Engine.samples()`` (a stream read as it goes, e.g. image files)."""

    def __init__(self, samples: Iterator[Sample]) -> None:
        self._samples = samples

    def take(self, n: int) -> tuple[Sequence[Any], Sequence[float], Sequence[float]]:
        got = list(islice(self._samples, n))
        nan = math.nan
        return (
            [s.x for s in got],
            [nan if s.truth is None else s.truth for s in got],
            [s.drift_value for s in got],
        )


def step_source(engine: Engine) -> StepSource:
    """The engine's stream from its first step: sliced when it is held in arrays."""
    arrays = engine.stream_arrays()
    return IteratorSource(engine.samples()) if arrays is None else ArraySource(arrays)


@dataclass
class BatchFigures:
    """A batch's per-step values and its per-chunk measurements (see the module docstring);
    times in nanoseconds, energy in joules (RAPL only)."""

    predictions: list[float] = field(default_factory=list)
    truth_chunks: list[Sequence[float]] = field(default_factory=list)
    drift_chunks: list[Sequence[float]] = field(default_factory=list)
    chunk_steps: list[int] = field(default_factory=list)
    chunk_wall_ns: list[int] = field(default_factory=list)
    chunk_cpu_ns: list[int] = field(default_factory=list)
    chunk_energy_j: list[float] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (batch offset, why)

    @property
    def steps(self) -> int:
        return len(self.predictions)

    @property
    def truths(self) -> np.ndarray:
        return _joined(self.truth_chunks)

    @property
    def drift_values(self) -> np.ndarray:
        return _joined(self.drift_chunks)

    def per_step(self, chunk_values: Sequence[float]) -> np.ndarray:
        """A per-chunk total as each step's equal share."""
        counts = np.asarray(self.chunk_steps, dtype=np.int64)
        return np.repeat(np.asarray(chunk_values, dtype=np.float64) / counts, counts)


def _joined(chunks: list[Sequence[float]]) -> np.ndarray:
    if len(chunks) == 1:
        return np.asarray(chunks[0], dtype=np.float64)
    return (
        np.concatenate([np.asarray(c, dtype=np.float64) for c in chunks]) if chunks else np.empty(0)
    )


def _predict_chunk(
    predict: Callable[[Any], float], xs: Sequence[Any]
) -> tuple[list[float], list[tuple[int, str]]]:
    """``predict`` over ``xs``; a call that raises gives NaN and (its offset, why), and the
    chunk goes on with the next input. As fast as a list comprehension when nothing raises."""
    ys: list[float] = []
    failures: list[tuple[int, str]] = []
    append = ys.append
    rest = iter(xs)
    while True:
        try:
            for x in rest:
                append(predict(x))
            return ys, failures
        except Exception as exc:  # noqa: BLE001 - skip the step (module docstring)
            failures.append((len(ys), first_line(exc)))
            append(math.nan)


class ChunkSizer:
    """The chunk size for each model's ``predict``, from the last chunk it ran (see the module
    docstring)."""

    def __init__(self, target_ns: int | None = None) -> None:
        self.target_ns = CHUNK_NS if target_ns is None else target_ns  # 0: one call per chunk
        self._sizes: dict[Callable[[Any], float], int] = {}

    def size(self, key: Callable[[Any], float]) -> int:
        return self._sizes.get(key, 1)

    def update(self, key: Callable[[Any], float], steps: int, wall_ns: int) -> None:
        """At most double, else scale ``steps`` to the target duration (at least one call)."""
        fit = steps * self.target_ns // max(wall_ns, 1)
        self._sizes[key] = max(1, min(MAX_CHUNK, 2 * steps, fit))


def run_batch(
    source: StepSource,
    predict: Callable[[Any], float],
    steps: int,
    read_energy: Callable[[], float] | None,
    cpu_clock: Callable[[], int],
    stopping: Callable[[], bool] = lambda: False,
    sizer: ChunkSizer | None = None,
) -> BatchFigures:
    """Up to ``steps`` predictions from ``source`` (fewer when the stream ends or ``stopping()``).

    ``read_energy`` is the RAPL meter's read; None with the estimated meter, whose energy is the
    CPU time times its coefficient, so the CPU clock reads already give it. ``cpu_clock`` is
    ``time.thread_time_ns`` (or ``process_time_ns`` for an engine that computes on other threads).
    ``sizer`` keeps chunk sizes from batch to batch (a fresh one starts every model at one call).
    """
    sizer = sizer or ChunkSizer()
    out = BatchFigures()
    pc = time.perf_counter_ns
    left = steps
    while left > 0 and not stopping():
        want = min(sizer.size(predict), left)
        xs, truths, drifts = source.take(want)
        n = len(xs)
        if n == 0:
            break
        if read_energy is None:
            c0, t0 = cpu_clock(), pc()
            ys, failed = _predict_chunk(predict, xs)
            t1, c1 = pc(), cpu_clock()
        else:
            c0, e0, t0 = cpu_clock(), read_energy(), pc()
            ys, failed = _predict_chunk(predict, xs)
            t1, e1, c1 = pc(), read_energy(), cpu_clock()
            out.chunk_energy_j.append(e1 - e0)
        if failed:
            truths = np.array(truths, dtype=np.float64)
            truths[[i for i, _ in failed]] = math.nan
            out.failures += [(len(out.predictions) + i, why) for i, why in failed]
        out.predictions += ys
        out.truth_chunks.append(truths)
        out.drift_chunks.append(drifts)
        out.chunk_steps.append(n)
        out.chunk_wall_ns.append(t1 - t0)
        out.chunk_cpu_ns.append(c1 - c0)
        sizer.update(predict, n, t1 - t0)
        left -= n
        if n < want:
            break  # the stream ended
    return out
