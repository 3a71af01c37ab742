"""The MAPE-K loop as the runtime drives it: observe batches of steps, cycle when due.

Contract with the runtime (harmone_tui/runtime.py):

- ``observe(first_step, model, predictions, truths, drift_values, energy_uj)``: a batch of
  consecutive steps as numpy float arrays (``truths`` is NaN where unknown), all run by
  ``model`` (the runtime cuts batches at every model change and at every due step);
- ``next_due(step)``: the next step at which ``cycle`` must run (the runtime stops a batch there);
- ``cycle(step)``: one Monitor-Analyse-Plan-Execute pass before ``step`` is inferred; actions go
  through the :class:`~mape.effector.Effector`;
- ``set_active(model, version)``: told by the runtime when a switch, reuse or retrain took effect;
- ``apply_policy(policy)``: a new policy, in force from the next cycle;
- ``status()``: figures for front ends (quality, EMA per model, drift statistic).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from mape.effector import Effector
from mape.policy import Policy

QualityFn = Callable[[Sequence[float], Sequence[float | None]], float]


@dataclass
class LoopStatus:
    """What the loop knows now, for dashboards and summaries."""

    step: int = 0
    active_model: str = ""
    active_version: int = 0
    quality: float | None = None
    ema: dict[str, float] = field(default_factory=dict)
    e_norm: dict[str, float] = field(default_factory=dict)
    drift_statistic: float | None = None
    drift_threshold: float | None = None


class MapeLoop:
    """Monitoring for every policy; periodic retraining when ``retrain.every_steps`` > 0."""

    def __init__(
        self, policy: Policy, quality: QualityFn, effector: Effector, start_model: str, version: int
    ) -> None:
        self.policy = policy
        self._pending_policy: Policy | None = None
        self._quality = quality
        self._effector = effector
        self._status = LoopStatus(active_model=start_model, active_version=version)
        self._window: deque[tuple[float, float | None]] = deque(maxlen=policy.switch.window_steps)
        self._truths: deque[float] = deque(maxlen=policy.retrain.window)
        self._energy_profile: dict[str, float] = {}

    def set_energy_profile(self, mean_uj: dict[str, float]) -> None:
        self._energy_profile = dict(mean_uj)

    def set_active(self, model: str, version: int) -> None:
        if model != self._status.active_model:
            self._window.clear()
        self._status.active_model, self._status.active_version = model, version

    def apply_policy(self, policy: Policy) -> None:
        self._pending_policy = policy

    def observe(
        self,
        first_step: int,
        model: str,
        predictions: np.ndarray,
        truths: np.ndarray,
        drift_values: np.ndarray,
        energy_uj: np.ndarray,
    ) -> None:
        for p, t in zip(predictions.tolist(), truths.tolist(), strict=True):
            known = t == t
            self._window.append((p, t if known else None))
            if known:
                self._truths.append(t)
        self._status.step = first_step + len(predictions)

    def next_due(self, step: int) -> int:
        every = self.policy.retrain.every_steps or self.policy.switch.every_steps
        return (step // every + 1) * every

    def cycle(self, step: int) -> None:
        if self._pending_policy is not None:
            self.policy, self._pending_policy = self._pending_policy, None
        if len(self._window) >= 2:
            preds, truths = zip(*self._window, strict=True)
            self._status.quality = self._quality(preds, truths)
        every = self.policy.retrain.every_steps
        if every and step > 0 and step % every == 0 and len(self._truths) >= 20:
            self._effector.start_retrain(
                self._status.active_model,
                list(self._truths),
                f"periodic retrain every {every} steps",
                {"rows": len(self._truths)},
            )

    def status(self) -> LoopStatus:
        return self._status
