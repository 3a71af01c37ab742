"""Execute: turn plans into Effector calls. The runtime records each applied action as an event.

Kept apart from planning so that what the loop *decides* can be tested as pure functions and what
it *does* goes through one narrow door (:class:`~mape.effector.Effector`), which tests replace with
a recorder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mape.analyse import DriftFinding
from mape.effector import Effector
from mape.events import EventKind
from mape.plan import Decision, DriftPlan


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)


class Executor:
    """The Execute phase: one method per kind of action."""

    def __init__(self, effector: Effector) -> None:
        self.effector = effector

    def switch(self, decision: Decision) -> None:
        """Run ``decision.model`` from the next step; the runtime records the ``switch`` event."""
        self.effector.switch_model(decision.model, decision.reason, dict(decision.detail))

    def drift_found(
        self, finding: DriftFinding, input_name: str, on_drift: str, act_at: int
    ) -> None:
        """Record the ``drift`` event at once, with what will be done and when."""
        stat, threshold = _round(finding.statistic), _round(finding.threshold)
        if threshold is not None and stat is not None:
            reason = f"{finding.detector} statistic {stat} > threshold {threshold}"
        else:
            reason = f"{finding.detector} detected a change"
        detail: dict[str, Any] = {
            "reason": reason,
            "detector": finding.detector,
            "input": input_name,
            "statistic": stat,
            "threshold": threshold,
            "detected_at": finding.step,
            "on_drift": on_drift,
        }
        if on_drift in ("reuse_or_retrain", "retrain"):
            detail["act_at"] = act_at
        self.effector.record(EventKind.DRIFT, detail)

    def drift_action(
        self, plan: DriftPlan, model: str, retrain_values: Sequence[float], detected_at: int
    ) -> bool:
        """Reuse, keep (recorded, nothing changes) or retrain as planned; False if a retrain is
        already running (try again later)."""
        detail: dict[str, Any] = {"trigger": "drift", "detected_at": detected_at}
        if plan.distances:
            detail["kl_by_version"] = plan.distances
        if plan.action == "reuse" and plan.version is not None:
            self.effector.reuse_version(plan.model or model, plan.version, plan.reason, detail)
            return True
        if plan.action == "keep":
            kept = {"model": plan.model or model, "version": plan.version, "reason": plan.reason}
            self.effector.record(EventKind.KEEP, {**kept, **detail})
            return True
        if plan.action == "retrain":
            detail["rows"] = len(retrain_values)
            return self.effector.start_retrain(model, list(retrain_values), plan.reason, detail)
        return True

    def periodic_retrain(self, model: str, values: Sequence[float], every: int) -> bool:
        return self.effector.start_retrain(
            model,
            list(values),
            f"periodic retrain every {every} steps",
            {"trigger": "periodic", "rows": len(values)},
        )
