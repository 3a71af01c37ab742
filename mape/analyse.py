"""Analyse: is a switch needed (score below the minimum, energy budget spent), has the data drifted?

Energy budget (HarmonE's "energy debt", expressed as a credit so one number configures it): the
credit starts at ``energy_budget`` and each switch cycle adds ``energy_budget - E_norm`` of the
active model, capped at one budget. It goes below zero only when the active model has cost more
than the budget for longer than its savings cover; that is a violation. The loop then leaves the
model and holds still for ``recovery_cycles`` cycles. With ``energy_budget = 1`` the credit can
never fall (E_norm <= 1): the energy budget is off and the score alone decides.

Drift: a :class:`DriftWatch` feeds one detector a batch of steps at a time (the engine's drift
value, or the absolute error when ``[drift].input = "error"``), ignores what it finds during the
warm-up and within the cool-down after the last drift, and reports a :class:`DriftFinding`, dated
at its exact step, when the loop next asks (:meth:`DriftWatch.check`, every cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mape.drift import make_detector
from mape.policy import DriftPolicy, SwitchPolicy


@dataclass(frozen=True)
class SwitchNeed:
    """Why the active model should be left (``cause`` None: it should not)."""

    cause: str | None  # "score" | "energy" | None
    message: str


class EnergyCredit:
    """The credit-style energy budget described in the module docstring.

    >>> c = EnergyCredit(0.5)
    >>> [c.spend(1.0) for _ in range(3)]   # the costliest model, budget one half
    [False, True, True]
    >>> c.forgive(); c.spend(0.0)
    False
    >>> EnergyCredit(1.0).spend(1.0)
    False
    """

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.credit = budget

    def spend(self, e_norm: float) -> bool:
        """Account one cycle of the active model; True while the credit is overdrawn."""
        self.credit = min(self.budget, self.credit + self.budget - e_norm)
        return self.credit < -1e-12

    def forgive(self) -> None:
        """The violation was acted on (the model was left): start again with a full budget."""
        self.credit = self.budget


def switch_need(ema_active: float, policy: SwitchPolicy, energy_violation: bool) -> SwitchNeed:
    """The Analyse verdict for one switch cycle.

    >>> switch_need(0.7, SwitchPolicy(min_score=0.78), False).cause
    'score'
    >>> switch_need(0.9, SwitchPolicy(min_score=0.78), True).cause
    'energy'
    >>> switch_need(0.9, SwitchPolicy(min_score=0.78), False).cause is None
    True
    """
    if energy_violation:
        return SwitchNeed("energy", f"energy budget {policy.energy_budget} exceeded")
    if ema_active < policy.min_score:
        return SwitchNeed("score", f"EMA {ema_active:.3f} below min_score {policy.min_score}")
    return SwitchNeed(None, f"EMA {ema_active:.3f} >= min_score {policy.min_score}")


@dataclass(frozen=True)
class DriftFinding:
    """A drift the loop must act on: when the detector fired and what it measured.

    ``cooling``: found within the cool-down of the last drift. Such a finding may only bring
    back a stored version (a regime that returns soon after it left), never start a retrain.
    """

    step: int
    detector: str
    statistic: float | None
    threshold: float | None
    cooling: bool = False


class DriftWatch:
    """One detector over the stream, with warm-up and cool-down counted in steps."""

    def __init__(self, policy: DriftPolicy, seed: int) -> None:
        self.policy = policy
        self.detector = make_detector(
            policy.detector,
            policy.window,
            policy.bins,
            policy.threshold,
            policy.every_steps,
            policy.params,
            seed,
            policy.after_drift,
        )
        self._pending: DriftFinding | None = None
        self._last_drift: int | None = None
        self.statistic: float | None = None

    @property
    def threshold(self) -> float | None:
        return self.policy.threshold if self.policy.detector == "kl" else None

    def restart(self) -> None:
        """Forget the data seen so far (error input after a model change: a new error stream)."""
        self.detector._reset()

    def observe(self, first_step: int, values: np.ndarray) -> None:
        """Feed a batch; a finding after the warm-up is kept for the next check (marked
        ``cooling`` within the cool-down, where a loud finding replaces it).

        A finding in the cool-down used to be dropped: a regime that returned within it (A B A
        with B shorter than the cool-down) was seen only once the cool-down ended, thousands of
        steps late, on windows that no longer matched any stored version.
        """
        warmup, cooldown, last = (
            self.policy.warmup_steps,
            self.policy.cooldown_steps,
            self._last_drift,
        )
        known = values == values  # NaN: nothing known at this step, the detector skips it
        fed = values if known.all() else values[known]
        hits = self.detector.update_many(fed)
        offsets = np.flatnonzero(known) if hits and fed is not values else None
        for index, stat in hits:
            step = first_step + int(index if offsets is None else offsets[index]) + 1
            if step < warmup:
                continue
            cooling = last is not None and step - last < cooldown
            if self._pending is None or (self._pending.cooling and not cooling):
                self._pending = DriftFinding(
                    step, self.policy.detector, stat, self.threshold, cooling
                )
        stat = self.detector.statistic
        if stat is not None:
            self.statistic = stat

    def check(self) -> DriftFinding | None:
        """The finding since the last check, if any; one outside the cool-down starts it."""
        found, self._pending = self._pending, None
        if found is not None and not found.cooling:
            self._last_drift = found.step
        return found

    def acted(self, step: int) -> None:
        """A cooling finding brought a version back: the cool-down starts again from ``step``."""
        self._last_drift = step
