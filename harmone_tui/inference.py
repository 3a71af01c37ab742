"""The hot path: run a batch of steps through one model, timing each call.

Kept apart from the runtime so that what is measured is plain to see: only the ``predict`` call
sits between the clock reads. Figures go to Python lists (cheaper than numpy item writes) and
into the telemetry arrays once per batch.

A ``predict`` that raises (a plug-in's model failing on one input) does not end the run: the
step is *skipped*: it is counted, with no prediction and its truth recorded as unknown (NaN),
so no quality window, summary or drift decision scores it, and the model stays active. The
failure is kept in ``BatchFigures.failures``; the runtime turns each batch's failures into one
``error`` event (the first message and how many steps failed). Falling back to another model
was not chosen: the MAPE loop owns model choice, and it sees the failing model's quality only
through the steps it did predict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engines.base import Sample
from engines.protocol import first_line


@dataclass
class BatchFigures:
    """Per-step figures of one batch; times in nanoseconds, energy in joules (RAPL only)."""

    predictions: list[float] = field(default_factory=list)
    truths: list[float] = field(default_factory=list)
    drift_values: list[float] = field(default_factory=list)
    latency_ns: list[int] = field(default_factory=list)
    cpu_ns: list[int] = field(default_factory=list)
    energy_j: list[float] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (batch offset, why)


def run_batch(
    samples: Iterator[Sample],
    predict: Callable[[Any], float],
    steps: int,
    read_energy: Callable[[], float] | None,
    cpu_clock: Callable[[], int],
    stopping: Callable[[], bool] = lambda: False,
) -> BatchFigures:
    """Up to ``steps`` predictions from ``samples`` (fewer when the stream ends or ``stopping()``).

    ``read_energy`` is the RAPL meter's read; None with the estimated meter, whose energy is the
    CPU time times its coefficient, so the CPU clock reads already give it. ``cpu_clock`` is
    ``time.thread_time_ns`` (or ``process_time_ns`` for an engine that computes on other threads).
    ``stopping`` is asked before each step, so a stop (a signal) waits for one predict, not for a
    batch of slow ones.
    """
    out = BatchFigures()
    pc, pt = time.perf_counter_ns, cpu_clock
    nan = float("nan")
    for _ in range(steps):
        if stopping():
            break
        sample = next(samples, None)
        if sample is None:
            break
        truth = nan if sample.truth is None else sample.truth
        try:
            if read_energy is None:
                c0, t0 = pt(), pc()
                y = predict(sample.x)
                t1, c1 = pc(), pt()
            else:
                c0, e0, t0 = pt(), read_energy(), pc()
                y = predict(sample.x)
                t1, e1, c1 = pc(), read_energy(), pt()
                out.energy_j.append(e1 - e0)
        except Exception as exc:  # noqa: BLE001 - skip the step (module docstring)
            t1, c1 = pc(), pt()
            if read_energy is not None:
                out.energy_j.append(read_energy() - e0)
            out.failures.append((len(out.predictions), first_line(exc)))
            y, truth = nan, nan
        out.predictions.append(y)
        out.truths.append(truth)
        out.drift_values.append(sample.drift_value)
        out.latency_ns.append(t1 - t0)
        out.cpu_ns.append(c1 - c0)
    return out
