"""Monitor: the quality window of the active model, the score S, and the EMA of S per model.

S = beta * quality + (1 - beta) * (1 - E_norm), E_norm = clamp((E - floor) / (ceiling - floor)).

Two choices made here, and why:

- The quality window holds rows of the active model version only (it is emptied when the model or
  its version changes). The original mixed the previous model's rows into the new one's score.
- E for the score is each model's mean energy per call from the runtime's calibration at start, and
  E_norm is snapped to a grid of 1/20 of the range. Energy is measured from CPU time and jitters by
  a few percent from run to run; if that jitter could flip a decision, a run could not be replayed
  for its seed. The live energy of the window is still measured and shown (``window_energy_uj``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

E_NORM_GRID = 20  # E_norm is rounded to multiples of 1/20

QualityFn = Callable[[Sequence[float], Sequence[float | None]], float]


def energy_norm(
    energy_uj: float, floor_uj: float, ceiling_uj: float, grid: int = E_NORM_GRID
) -> float:
    """E_norm = clamp((E - floor) / (ceiling - floor), 0, 1), snapped to multiples of 1/grid.

    >>> energy_norm(150.0, 0.0, 1000.0)
    0.15
    >>> energy_norm(2000.0, 0.0, 1000.0), energy_norm(5.0, 10.0, 1000.0)
    (1.0, 0.0)
    >>> energy_norm(10.0, 0.0, 0.0)   # no range: energy cannot tell models apart
    0.0
    """
    if ceiling_uj <= floor_uj or math.isnan(energy_uj):
        return 0.0
    value = min(1.0, max(0.0, (energy_uj - floor_uj) / (ceiling_uj - floor_uj)))
    return round(round(value * grid) / grid, 6)


def score(quality: float, e_norm: float, beta: float) -> float:
    """S = beta * quality + (1 - beta) * (1 - E_norm).

    >>> round(score(0.9, 1.0, 0.95), 6), round(score(0.9, 0.0, 0.95), 6)
    (0.855, 0.905)
    """
    return beta * quality + (1.0 - beta) * (1.0 - e_norm)


def ema(previous: float, value: float, weight: float) -> float:
    """EMA <- w * value + (1 - w) * EMA.

    >>> round(ema(0.5, 1.0, 0.8), 6)
    0.9
    """
    return weight * value + (1.0 - weight) * previous


@dataclass(frozen=True)
class EnergyScale:
    """E_norm of every model, from the calibrated mean energy per call (µJ)."""

    ceiling_uj: float
    floor_uj: float
    e_norm: Mapping[str, float]

    @classmethod
    def build(
        cls,
        profile: Mapping[str, float],
        models: Sequence[str],
        floor_uj: float,
        ceiling: float | str,
    ) -> EnergyScale:
        """``ceiling`` "auto" is the costliest model's calibrated mean on this machine.

        >>> s = EnergyScale.build({"a": 100.0, "b": 1000.0}, ["a", "b"], 0.0, "auto")
        >>> s.ceiling_uj, dict(s.e_norm)
        (1000.0, {'a': 0.1, 'b': 1.0})
        """
        known = [profile[m] for m in models if m in profile]
        top = float(ceiling) if ceiling != "auto" else (max(known) if known else 0.0)
        norms = {m: energy_norm(profile[m], floor_uj, top) if m in profile else 0.0 for m in models}
        return cls(top, floor_uj, norms)


class QualityWindow:
    """The last ``size`` (prediction, truth) rows of the active model version, with their energy."""

    def __init__(self, size: int) -> None:
        self._rows: deque[tuple[float, float | None]] = deque(maxlen=size)
        self._energy: deque[float] = deque(maxlen=size)

    def resize(self, size: int) -> None:
        if size != self._rows.maxlen:
            self._rows = deque(self._rows, maxlen=size)
            self._energy = deque(self._energy, maxlen=size)

    def clear(self) -> None:
        self._rows.clear()
        self._energy.clear()

    def extend(
        self, predictions: list[float], truths: list[float | None], energy_uj: list[float]
    ) -> None:
        """Many rows at once (a batch of steps): one C-level extend instead of a call per row."""
        self._rows.extend(zip(predictions, truths, strict=True))
        self._energy.extend(energy_uj)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def size(self) -> int:
        return self._rows.maxlen or 0

    def quality(self, fn: QualityFn) -> float | None:
        """The engine's quality of the window (O(window)); None with fewer than two rows."""
        if len(self._rows) < 2:
            return None
        preds = [p for p, _ in self._rows]
        truths = [t for _, t in self._rows]
        return float(fn(preds, truths))

    def mean_energy_uj(self) -> float | None:
        return sum(self._energy) / len(self._energy) if self._energy else None


class ScoreBook:
    """The EMA of S per model; only the active model's EMA moves (the others keep their last)."""

    def __init__(self, models: Sequence[str], initial: Mapping[str, float], default: float) -> None:
        self.ema: dict[str, float] = {m: float(initial.get(m, default)) for m in models}

    def reset_models(
        self, models: Sequence[str], initial: Mapping[str, float], default: float
    ) -> None:
        """A new policy: keep what was learnt about models still in it, start new ones fresh."""
        self.ema = {m: self.ema.get(m, float(initial.get(m, default))) for m in models}

    def restart(self, model: str, initial: Mapping[str, float], default: float) -> None:
        """Another version of ``model`` runs now: what the EMA learnt was about the old one."""
        self.ema[model] = float(initial.get(model, default))

    def update(self, model: str, s: float, weight: float) -> float:
        self.ema[model] = ema(self.ema.get(model, s), s, weight)
        return self.ema[model]
