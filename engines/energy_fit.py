"""Fitting joules per CPU-second against a real energy counter (Kepler's power-model idea, small).

A *window* is a stretch of a few hundred milliseconds in which one model predicts in a loop for a
fraction of the time (its *duty*) and sleeps for the rest; the window records its wall time, the
process CPU time and the package energy the counter saw. The energy is modelled as

    E = P_idle × wall_s + k × cpu_s

where ``P_idle`` is the package's power at rest and ``k`` the active coefficient the estimated
meter uses (J per CPU-second; idle power is reported apart, as the RAPL meter does). Duties from
low to full load make the two terms separable. ``k`` is fitted once for all models (*pooled*) and
once per model; per-model coefficients are kept only if they predict the energy of held-out
windows clearly better (:data:`PER_MODEL_GAIN`, :data:`PER_MODEL_MIN_POINTS`).

Fit error is measured on windows the fit did not see: each round of windows is left out in turn,
the rest fitted, the left-out windows predicted. It is the RMS of those errors over the mean
window energy. On a machine where other processes load the package, it grows: that is the honest
figure of how far the estimate can be trusted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engines.energy import EnergyError

__all__ = ["DUTIES", "CalibrationError", "Fit", "Window", "fit_windows", "run_windows"]

DUTIES = (0.2, 0.6, 1.0)
SLICE_S = 0.05  # a duty cycle's period: busy for duty × SLICE_S, then asleep
PER_MODEL_GAIN = 0.9  # per-model must bring the held-out error below 90% of the pooled one ...
PER_MODEL_MIN_POINTS = 0.01  # ... and by at least 1 point of relative error


class CalibrationError(EnergyError):
    """The measurements cannot give a coefficient; the message says why."""


@dataclass(frozen=True)
class Window:
    """One measured pair: what the counter said against the CPU time spent."""

    model: str
    round: int
    duty: float
    wall_s: float
    cpu_s: float
    joules: float


@dataclass(frozen=True)
class Fit:
    """The fit's coefficients and errors (relative errors are fractions, held-out)."""

    j_per_cpu_s: float
    idle_watts: float
    relative_error: float
    per_model: dict[str, float]
    per_model_relative_error: float
    use_per_model: bool
    r2: float
    windows: int

    def figures(self) -> dict[str, Any]:
        """The ``fit`` block of a profile."""
        return {
            "windows": self.windows,
            "relative_error": round(self.relative_error, 6),
            "per_model_relative_error": round(self.per_model_relative_error, 6),
            "r2": round(self.r2, 6),
            "held_out": "leave one round out",
        }


def run_windows(
    predicts: Mapping[str, Callable[[Any], Any]],
    xs: Sequence[Any],
    read_joules: Callable[[], float],
    window_s: float = 1.0,
    rounds: int = 3,
    duties: Sequence[float] = DUTIES,
    progress: Callable[[Window], None] | None = None,
) -> list[Window]:
    """Measure ``rounds`` × models × duties windows, interleaved so a slow drift of the machine's
    background load spreads over every model and duty instead of biasing one."""
    windows = []
    for r in range(rounds):
        for model, predict in predicts.items():
            predict(xs[0])  # warm: the first call may load or compile
            for duty in duties:
                w = _one_window(model, r, duty, predict, xs, read_joules, window_s)
                windows.append(w)
                if progress is not None:
                    progress(w)
    return windows


def _one_window(
    model: str,
    rnd: int,
    duty: float,
    predict: Callable[[Any], Any],
    xs: Sequence[Any],
    read_joules: Callable[[], float],
    window_s: float,
) -> Window:
    i, n = 0, len(xs)
    # each clock right after the counter: a pause between them would be wall time not counted
    e0, t0, c0 = read_joules(), time.monotonic(), time.process_time()
    end = t0 + window_s
    while (now := time.monotonic()) < end:
        busy_until = min(end, now + duty * SLICE_S)
        while time.monotonic() < busy_until:
            predict(xs[i % n])
            i += 1
        rest = min(end, now + SLICE_S) - time.monotonic()
        if rest > 0:
            time.sleep(rest)
    e1, t1, c1 = read_joules(), time.monotonic(), time.process_time()
    return Window(model, rnd, duty, t1 - t0, c1 - c0, e1 - e0)


def _design(windows: Sequence[Window], models: list[str] | None) -> np.ndarray:
    """Columns: wall time, then CPU time (pooled: one column; per model: one per model)."""
    columns = [[w.wall_s for w in windows]]
    if models is None:
        columns.append([w.cpu_s for w in windows])
    else:
        columns += [[w.cpu_s if w.model == m else 0.0 for w in windows] for m in models]
    return np.array(columns, dtype=float).T


def _solve(windows: Sequence[Window], models: list[str] | None) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(_design(windows, models), [w.joules for w in windows], rcond=None)
    return coef


def _held_out_error(windows: Sequence[Window], models: list[str] | None) -> float:
    """RMS error of each round predicted by a fit on the other rounds, over the mean energy."""
    errors = []
    for r in sorted({w.round for w in windows}):
        train = [w for w in windows if w.round != r]
        test = [w for w in windows if w.round == r]
        predicted = _design(test, models) @ _solve(train, models)
        errors += list(predicted - np.array([w.joules for w in test]))
    mean = float(np.mean([w.joules for w in windows]))
    return float(np.sqrt(np.mean(np.square(errors)))) / mean


def fit_windows(windows: Sequence[Window]) -> Fit:
    """Fit the pooled and per-model coefficients and choose (see the module docstring)."""
    rounds = {w.round for w in windows}
    if len(rounds) < 2:
        raise CalibrationError("need at least 2 rounds of windows to measure the fit error")
    if any(not math.isfinite(w.joules) or w.joules < 0 for w in windows):
        raise CalibrationError("the energy counter went backwards or gave no figure in a window")
    if sum(w.joules for w in windows) <= 0:
        raise CalibrationError("the energy counter did not advance: is RAPL really counting?")
    models = list(dict.fromkeys(w.model for w in windows))
    idle, k = (float(v) for v in _solve(windows, None))
    if not (math.isfinite(k) and k > 0 and idle >= 0):
        raise CalibrationError(
            f"the fit gave {k:g} J per CPU-second and {idle:g} W at idle: the CPU work did not"
            " explain the energy (other load on the machine? try again when it is quiet, or"
            " with longer windows)"
        )
    per = _solve(windows, models)
    per_model = {m: float(v) for m, v in zip(models, per[1:], strict=True)}
    pooled_error = _held_out_error(windows, None)
    per_error = _held_out_error(windows, models) if len(models) > 1 else pooled_error
    use_per_model = (
        len(models) > 1
        and all(v > 0 for v in per_model.values())
        and per_error < PER_MODEL_GAIN * pooled_error
        and pooled_error - per_error >= PER_MODEL_MIN_POINTS
    )
    joules = np.array([w.joules for w in windows])
    residual = joules - _design(windows, None) @ np.array([idle, k])
    spread = float(np.sum(np.square(joules - joules.mean())))
    r2 = 1.0 - float(np.sum(np.square(residual))) / spread if spread > 0 else 0.0
    return Fit(
        j_per_cpu_s=k,
        idle_watts=idle,
        relative_error=pooled_error,
        per_model=per_model,
        per_model_relative_error=per_error,
        use_per_model=use_per_model,
        r2=r2,
        windows=len(windows),
    )
