"""The MAPE-K loop as the runtime drives it: observe batches of steps, cycle when due.

Contract with the runtime (harmone_tui/runtime.py):

- ``observe(first_step, model, predictions, truths, drift_values, energy_uj)``: a batch of
  consecutive steps as numpy float arrays (``truths`` is NaN where unknown), all run by
  ``model`` (the runtime cuts batches at every model change and at every due step);
- ``next_due(step)``: the next step at which ``cycle`` must run (the runtime stops a batch there);
- ``cycle(step)``: one Monitor-Analyse-Plan-Execute pass before ``step`` is inferred; actions go
  through the :class:`~mape.effector.Effector`;
- ``set_active(model, version)``: told by the runtime when a switch, reuse or retrain took effect;
- ``set_energy_profile(mean_uj)``: each model's calibrated mean energy per call, at start;
- ``apply_policy(policy)``: a new policy, in force from the next cycle;
- ``status()``: figures for front ends (quality, EMA per model, drift statistic, last decision).

Everything is counted in steps and the only randomness is the loop's own ``random.Random(seed)``,
so a policy, a stream and a seed give one sequence of decisions. Work per cycle is O(window):
the loop keeps bounded windows and never re-reads history.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

import numpy as np

from mape.analyse import DriftFinding, DriftWatch, EnergyCredit, switch_need
from mape.effector import Effector
from mape.execute import Executor
from mape.monitor import EnergyScale, QualityWindow, ScoreBook, score
from mape.plan import plan_drift, plan_switch
from mape.policy import Policy

QualityFn = Callable[[Sequence[float], Sequence[float | None]], float]
StageTimer = Callable[[str], AbstractContextManager[None]]


def _untimed(stage: str) -> AbstractContextManager[None]:
    return nullcontext()


@dataclass
class LoopStatus:
    """What the loop knows now, for dashboards and summaries (fields are only ever added)."""

    step: int = 0
    active_model: str = ""
    active_version: int = 0
    quality: float | None = None
    ema: dict[str, float] = field(default_factory=dict)
    e_norm: dict[str, float] = field(default_factory=dict)
    drift_statistic: float | None = None
    drift_threshold: float | None = None
    score: float | None = None
    decision: str = ""
    reason: str = ""
    decision_step: int | None = None
    window_rows: int = 0
    window_energy_uj: float | None = None
    energy_ceiling_uj: float | None = None
    energy_credit: float | None = None
    recovery_left: int = 0
    dwell_left: int = 0
    drift_detector: str | None = None
    last_drift_step: int | None = None
    drift_action_at: int | None = None


@dataclass
class _PendingDrift:
    finding: DriftFinding
    act_at: int


class MapeLoop:
    """Monitor, Analyse, Plan, Execute over bounded windows; see the module docstring."""

    def __init__(
        self, policy: Policy, quality: QualityFn, effector: Effector, start_model: str, version: int
    ) -> None:
        self._quality = quality
        self._executor = Executor(effector)
        self.timer: StageTimer = _untimed  # the runtime's energy ledger times the drift checks
        self._effector = effector
        self._status = LoopStatus(active_model=start_model, active_version=version)
        self._pending_policy: Policy | None = None
        self._profile: dict[str, float] = {}
        self._last_switch_step = 0
        self._recovery_left = 0
        self._pending_drift: _PendingDrift | None = None
        self.policy = policy
        self._rng = random.Random(policy.seed)
        self._window = QualityWindow(policy.switch.window_steps)
        keep = self._keep(policy)
        self._truths: deque[float] = deque(maxlen=keep)
        self._drift_values: deque[float] = deque(maxlen=keep)
        self._scores = ScoreBook(policy.models, policy.score.initial, policy.switch.min_score)
        # the version each model's EMA was learnt on: a retrained or reused version starts afresh
        self._versions_scored: dict[str, int] = {start_model: version}
        self._credit = EnergyCredit(policy.switch.energy_budget)
        self._watch = DriftWatch(policy.drift, policy.seed) if policy.drift.enabled else None
        self._rescale()

    # set-up and notifications ---------------------------------------------------------------
    @staticmethod
    def _keep(policy: Policy) -> int:
        return max(policy.retrain.window, policy.drift.window, policy.drift.settle_steps, 1)

    def _rescale(self) -> None:
        p = self.policy
        self._scale = EnergyScale.build(
            self._profile, p.models, p.score.energy_floor_uj, p.score.energy_ceiling_uj
        )

    def set_energy_profile(self, mean_uj: dict[str, float]) -> None:
        """Each model's calibrated mean energy per call (µJ); fixes E_norm for the run."""
        self._profile = dict(mean_uj)
        self._rescale()

    def set_active(self, model: str, version: int) -> None:
        s = self._status
        if (model, version) != (s.active_model, s.active_version):
            self._window.clear()  # rows of the active model version only
            if self._watch is not None and self.policy.drift.input == "error":
                self._watch.restart()  # another model makes another error stream
        if model != s.active_model:
            self._last_switch_step = s.step
        if self._versions_scored.get(model, version) != version:
            p = self.policy
            self._scores.restart(model, p.score.initial, p.switch.min_score)
        self._versions_scored[model] = version
        s.active_model, s.active_version = model, version

    def apply_policy(self, policy: Policy) -> None:
        self._pending_policy = policy

    def _take_policy(self, new: Policy) -> None:
        old, self.policy = self.policy, new
        self._window.resize(new.switch.window_steps)
        keep = self._keep(new)
        if keep != self._truths.maxlen:
            self._truths = deque(self._truths, maxlen=keep)
            self._drift_values = deque(self._drift_values, maxlen=keep)
        self._scores.reset_models(new.models, new.score.initial, new.switch.min_score)
        if new.switch.energy_budget != old.switch.energy_budget:
            self._credit = EnergyCredit(new.switch.energy_budget)
        if new.seed != old.seed:
            self._rng = random.Random(new.seed)
        if new.drift != old.drift or new.seed != old.seed:
            self._watch = DriftWatch(new.drift, new.seed) if new.drift.enabled else None
            if self._watch is None:
                self._pending_drift = None
        self._rescale()

    # the runtime's data ---------------------------------------------------------------------
    def observe(
        self,
        first_step: int,
        model: str,
        predictions: np.ndarray,
        truths: np.ndarray,
        drift_values: np.ndarray,
        energy_uj: np.ndarray,
    ) -> None:
        truth_list = truths.tolist()
        self._window.extend(
            predictions.tolist(), [t if t == t else None for t in truth_list], energy_uj.tolist()
        )
        self._truths.extend(truth_list)
        self._drift_values.extend(drift_values.tolist())
        if self._watch is not None:  # the detector's checks run here: its stage is drift
            with self.timer("drift"):
                if self.policy.drift.input == "error":
                    self._watch.observe(first_step, np.abs(predictions - truths))
                else:
                    self._watch.observe(first_step, drift_values)
        self._status.step = first_step + len(predictions)

    def next_due(self, step: int) -> int:
        p = self.policy
        # Drift checks do not cut the stream: the detector checks every drift.every_steps values
        # inside a batch and dates its finding exactly; the loop picks it up at the next cycle.
        periods = [p.switch.every_steps]
        if p.retrain.every_steps:
            periods.append(p.retrain.every_steps)
        due = min((step // every + 1) * every for every in periods)
        if self._pending_drift is not None and self._pending_drift.act_at > step:
            due = min(due, self._pending_drift.act_at)
        return due

    # one MAPE pass ----------------------------------------------------------------------------
    def cycle(self, step: int) -> None:
        if self._pending_policy is not None:
            self._take_policy(self._pending_policy)
            self._pending_policy = None
        p = self.policy
        model_changing = False
        if self._watch is not None:
            with self.timer("drift"):
                self._drift_check(step)
        if self._pending_drift is not None and step >= self._pending_drift.act_at:
            model_changing = self._drift_act(step)
        if step % p.switch.every_steps == 0:
            self._monitor_and_switch(step, allow_switch=not model_changing)
        every = p.retrain.every_steps
        if every and step > 0 and step % every == 0:
            values = self._recent_truths(p.retrain.window)
            if len(values) >= 2:
                self._executor.periodic_retrain(self._status.active_model, values, every)

    def _recent_truths(self, n: int) -> list[float]:
        tail = list(self._truths)[-n:] if n > 0 else []
        return [t for t in tail if t == t]

    def _monitor_and_switch(self, step: int, allow_switch: bool) -> None:
        p, s = self.policy, self._status
        s.quality = self._window.quality(self._quality)
        min_rows = max(2, min(p.switch.window_steps, p.switch.every_steps) // 2)
        if s.quality is None or len(self._window) < min_rows:
            self._decide(step, "wait", f"{len(self._window)} rows of {s.active_model} so far")
            return
        active = s.active_model
        e_norm = self._scale.e_norm.get(active, 0.0)
        s.score = score(s.quality, e_norm, p.score.beta)
        ema_active = self._scores.update(active, s.score, p.score.ema_weight)
        violated = self._credit.spend(e_norm)
        recovering = self._recovery_left
        self._recovery_left = max(0, recovering - 1)
        if not p.switch.enabled:
            self._decide(step, "stay", "switching is off in this policy")
            return
        if not allow_switch:
            self._decide(step, "hold", "a drift action changes the model this cycle")
            return
        need = switch_need(ema_active, p.switch, violated)
        dwell_left = max(0, p.switch.min_dwell_steps - (step - self._last_switch_step))
        decision = plan_switch(
            active,
            p.models,
            self._scores.ema,
            need,
            self._rng,
            p.switch.explore,
            dwell_left,
            recovering,
        )
        if decision.action == "switch":
            self._executor.switch(decision)
            if need.cause == "energy":
                self._credit.forgive()
                self._recovery_left = p.switch.recovery_cycles
        self._decide(step, decision.action, decision.reason, decision.model)

    def _drift_check(self, step: int) -> None:
        assert self._watch is not None
        finding = self._watch.check()
        if finding is None:
            return
        p = self.policy.drift
        act_at = finding.step + p.settle_steps
        if finding.cooling:
            # within the cool-down: look again after the settle period, for a stored version
            # of the new data only (recorded as a drift then, if one is found)
            if p.on_drift == "reuse_or_retrain" and self._pending_drift is None:
                self._pending_drift = _PendingDrift(finding, act_at)
            return
        self._status.last_drift_step = finding.step
        self._executor.drift_found(finding, p.input, p.on_drift, act_at)
        if p.on_drift in ("reuse_or_retrain", "retrain"):
            self._pending_drift = _PendingDrift(finding, act_at)
        self._decide(
            step, "drift", f"drift detected by {finding.detector}; on_drift = {p.on_drift}"
        )

    def _drift_act(self, step: int) -> bool:
        """Reuse, keep or retrain for the pending drift; True if a version change was requested.

        A finding of the cool-down acts only by reuse; otherwise it is dropped unrecorded.
        """
        pending = self._pending_drift
        assert pending is not None
        p, s = self.policy, self._status
        settle = p.drift.settle_steps
        # After a settle period, only data seen since the detection (the new regime) counts.
        compare_n = min(settle, self._drift_values.maxlen or 0) if settle else p.drift.window
        train_n = min(p.retrain.window, settle) if settle else p.retrain.window
        recent = [v for v in list(self._drift_values)[-compare_n:] if v == v]
        versions = [v for m in p.models for v in self._effector.stored_versions(m)]
        plan = plan_drift(
            p.drift.on_drift,
            (s.active_model, s.active_version),
            recent,
            versions,
            p.drift.reuse_threshold,
            self._scores.ema,
        )
        if pending.finding.cooling:
            self._pending_drift = None
            if plan.action != "reuse":
                return False
            assert self._watch is not None
            self._watch.acted(step)
            s.last_drift_step = pending.finding.step
            self._executor.drift_found(pending.finding, p.drift.input, p.drift.on_drift, step)
        done = self._executor.drift_action(
            plan, s.active_model, self._recent_truths(train_n), pending.finding.step
        )
        if not done:  # a retrain is running: try again drift.every_steps later
            pending.act_at = step + p.drift.every_steps
            self._decide(step, "wait", "drift action waits for the running retrain")
            return False
        self._pending_drift = None
        self._decide(step, plan.action, plan.reason)
        return plan.action == "reuse"

    def note_decision(self, step: int, action: str, reason: str, model: str | None = None) -> None:
        """A decision taken outside the loop (a custom MAPE's), shown as the loop's last one."""
        self._decide(step, action, reason, model)

    def _decide(self, step: int, action: str, reason: str, model: str | None = None) -> None:
        s = self._status
        s.decision = action if model is None or action != "switch" else f"switch to {model}"
        s.reason, s.decision_step = reason, step

    # front ends -------------------------------------------------------------------------------
    def status(self) -> LoopStatus:
        s, p = self._status, self.policy
        watch = self._watch
        return replace(
            s,
            ema={m: round(v, 6) for m, v in self._scores.ema.items()},
            e_norm=dict(self._scale.e_norm),
            drift_statistic=None if watch is None else watch.statistic,
            drift_threshold=None if watch is None else watch.threshold,
            drift_detector=None if watch is None else p.drift.detector,
            window_rows=len(self._window),
            window_energy_uj=self._window.mean_energy_uj(),
            energy_ceiling_uj=self._scale.ceiling_uj,
            energy_credit=round(self._credit.credit, 6),
            recovery_left=self._recovery_left,
            dwell_left=max(0, p.switch.min_dwell_steps - (s.step - self._last_switch_step)),
            drift_action_at=None if self._pending_drift is None else self._pending_drift.act_at,
        )
