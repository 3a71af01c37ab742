"""A managed system served over HTTP: the same :class:`~mape.loop.MapeLoop` as in-process, fed
by per-inference records that arrive in batches, acting through tactics posted to an adaptor.

Records carry the model (and version) that made each prediction, so the loop learns of a switch
when the system reports it ran, not when the tactic was sent: a tactic lost or refused does not
make the loop believe in a model that never ran. A batch is cut at every model change and at
every step where the loop is due, exactly as the runtime cuts its inference batches, so the
decisions depend on the record sequence alone (steps and the policy's seed), never on how the
records were batched into requests or on wall time.

What a remote system cannot give the loop: stored versions with training-data summaries (so
``reuse_or_retrain`` retrains), and a calibration run (so each model's energy for E_norm is the
mean ``energy_uj`` of its first :data:`CALIBRATION_RECORDS` records, unless the registration
gave an ``energy_profile_uj``; until every model of the policy is known, E_norm is 0).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engines.metrics import window_r2
from mape.effector import VersionInfo
from mape.loop import LoopStatus, MapeLoop
from mape.policy import Policy

CALIBRATION_RECORDS = 50
SERIES_EVERY = 50
SERIES_POINTS = 240
STATUS_KEYS = (
    "quality",
    "score",
    "decision",
    "reason",
    "decision_step",
    "drift_statistic",
    "window_energy_uj",
    "energy_credit",
    "dwell_left",
    "recovery_left",
)


def mean_prediction(predictions: Sequence[float], truths: Sequence[float | None]) -> float:
    """Quality without labels: the mean of the predictions (e.g. detection confidence)."""
    return float(np.mean(predictions)) if len(predictions) else 0.0


QUALITY = {"r2": window_r2, "mean_prediction": mean_prediction}


@dataclass(frozen=True)
class StepRecord:
    """One inference as the managed system reports it."""

    prediction: float
    truth: float | None
    model: str
    version: int
    energy_uj: float
    latency_ms: float
    drift: float | None

    def row(self) -> list[Any]:
        """Stored form (a compact JSON array)."""
        return [
            self.truth,
            self.prediction,
            self.model,
            self.version,
            self.energy_uj,
            self.latency_ms,
            self.drift,
        ]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StepRecord:
        truth, prediction, model, version, energy, latency, drift = row
        return cls(prediction, truth, model, version, energy, latency, drift)


@dataclass
class Action:
    """What the loop decided at ``step``: an event to record and, maybe, a tactic to post."""

    step: int
    kind: str
    detail: dict[str, Any]
    tactic: dict[str, Any] | None


class TacticEffector:
    """The loop's Effector for a served system: every action becomes an :class:`Action`."""

    def __init__(self, system: RemoteSystem) -> None:
        self.system = system

    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        s = self.system
        s.act(
            "switch",
            {"from": s.active[0], "to": model, "reason": reason, **detail},
            {"tactic_id": "switch_model", "model": model, "reason": reason},
        )

    def reuse_version(self, model: str, version: int, reason: str, detail: dict[str, Any]) -> None:
        self.system.act(
            "reuse",
            {"model": model, "version": version, "reason": reason, **detail},
            {"tactic_id": "reuse_version", "model": model, "version": version, "reason": reason},
        )

    def start_retrain(
        self, model: str, values: Sequence[float], reason: str, detail: dict[str, Any]
    ) -> bool:
        s = self.system
        if s.step < s.retrain_until.get(model, -1):
            return False
        s.retrain_until[model] = s.step + s.policy.retrain.delay_steps
        s.act(
            "retrain_started",
            {"model": model, "reason": reason, **detail},
            {"tactic_id": "retrain", "model": model, "reason": reason, "values": list(values)},
        )
        return True

    def record(self, kind: str, detail: dict[str, Any]) -> None:
        self.system.act(kind, detail, None)

    def stored_versions(self, model: str) -> list[VersionInfo]:
        return []


class RemoteSystem:
    """Loop state of one served system; :meth:`ingest` feeds records and returns the actions."""

    def __init__(
        self,
        system_id: str,
        policy: Policy,
        quality: str,
        energy_profile_uj: dict[str, float] | None = None,
    ) -> None:
        self.system_id = system_id
        self.policy = policy
        self.quality = quality
        self.step = 0
        self.active = (policy.start_model, 1)
        self.fixed_profile = dict(energy_profile_uj or {})
        self.calibration: dict[str, list[float]] = {}
        self.retrain_until: dict[str, int] = {}
        self.series: deque[tuple[int, float | None, float | None]] = deque(maxlen=SERIES_POINTS)
        self._recent: deque[tuple[float, float | None, float]] = deque(maxlen=SERIES_EVERY)
        self._actions: list[Action] = []
        self.loop = MapeLoop(policy, QUALITY[quality], TacticEffector(self), policy.start_model, 1)
        self._profile_if_complete()
        self.due = self.loop.next_due(0)

    def start_at(self, step: int) -> None:
        """Count steps from ``step`` (a rebuild from records that retention cut at ``step``)."""
        self.step = step
        self.due = self.loop.next_due(step)

    # the loop's actions -----------------------------------------------------------------------
    def act(self, kind: str, detail: dict[str, Any], tactic: dict[str, Any] | None) -> None:
        self._actions.append(Action(self.step, kind, detail, tactic))

    # records ------------------------------------------------------------------------------------
    def check(self, records: Sequence[StepRecord]) -> str | None:
        """Why the batch cannot be taken (naming the record and field), or None."""
        models = self.policy.models
        for i, r in enumerate(records):
            if r.model not in models:
                return (
                    f"records[{i}].model: {r.model!r} is not in the policy's models {list(models)}"
                )
        return None

    def ingest(self, records: Sequence[StepRecord]) -> list[Action]:
        """Observe ``records`` in order, cycling the loop wherever it is due."""
        self._actions = []
        n, i = len(records), 0
        while i < n:
            first = records[i]
            key = (first.model, first.version)
            if key != self.active:
                self._model_reported(first.model, first.version)
            j, end = i + 1, i + max(1, self.due - self.step)
            while j < n and j < end and (records[j].model, records[j].version) == key:
                j += 1
            self._observe(records[i:j])
            i = j
            while self.step >= self.due:
                self.loop.cycle(self.step)
                self.due = self.loop.next_due(self.step)
        return self._actions

    def _model_reported(self, model: str, version: int) -> None:
        previous_model, previous_version = self.active
        self.active = (model, version)
        self.loop.set_active(model, version)
        if model == previous_model and version != previous_version:
            retrained = model in self.retrain_until
            self.act(
                "retrain_done" if retrained else "info",
                {
                    "model": model,
                    "version": version,
                    "from": f"v{previous_version}",
                    "reason": f"the managed system reports {model} v{version}",
                },
                None,
            )

    def _observe(self, chunk: Sequence[StepRecord]) -> None:
        model = chunk[0].model
        nan = float("nan")
        pred = np.fromiter((r.prediction for r in chunk), float, len(chunk))
        truth = np.fromiter((nan if r.truth is None else r.truth for r in chunk), float, len(chunk))
        drift = np.fromiter(
            (
                r.drift if r.drift is not None else (nan if r.truth is None else r.truth)
                for r in chunk
            ),
            float,
            len(chunk),
        )
        energy = np.fromiter((r.energy_uj for r in chunk), float, len(chunk))
        self.loop.observe(self.step, model, pred, truth, drift, energy)
        self._calibrate(model, energy)
        for r in chunk:
            self._recent.append((r.prediction, r.truth, r.energy_uj))
            self.step += 1
            if self.step % SERIES_EVERY == 0:
                self._series_point()

    def _calibrate(self, model: str, energy: np.ndarray) -> None:
        if model in self.fixed_profile:
            return
        seen = self.calibration.setdefault(model, [])
        if len(seen) < CALIBRATION_RECORDS:
            seen.extend(energy[: CALIBRATION_RECORDS - len(seen)].tolist())
            if len(seen) == CALIBRATION_RECORDS:
                self.fixed_profile[model] = sum(seen) / len(seen)
                self._profile_if_complete()

    def _profile_if_complete(self) -> None:
        """E_norm is fixed once every model's energy is known: with one model known, the
        "auto" ceiling would be that model's own energy and rank it the costliest."""
        if self.fixed_profile and all(m in self.fixed_profile for m in self.policy.models):
            self.loop.set_energy_profile(self.fixed_profile)

    def _series_point(self) -> None:
        preds = [p for p, _, _ in self._recent]
        truths = [t for _, t, _ in self._recent]
        quality = QUALITY[self.quality](preds, truths)
        energy = sum(e for _, _, e in self._recent) / len(self._recent)
        self.series.append((self.step, round(quality, 6), round(energy, 3)))

    # policy and status --------------------------------------------------------------------------
    def apply_policy(self, policy: Policy) -> None:
        """In force from the next cycle (the loop's own rule); records must name its models."""
        self.policy = policy
        self.loop.apply_policy(policy)

    def status(self) -> dict[str, Any]:
        s: LoopStatus = self.loop.status()
        out = {k: getattr(s, k) for k in STATUS_KEYS}
        out.update(
            step=self.step,
            active_model=self.active[0],
            active_version=self.active[1],
            ema=s.ema,
            e_norm=s.e_norm,
            energy_profile_uj=dict(self.fixed_profile),
        )
        return out
