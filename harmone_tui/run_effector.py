"""The runtime's side of the MAPE loop's Effector (``mape.effector.Effector``): adaptations
the loop (or a user's forced action) asks for become plain-data actions in the run's queue, which
the runtime applies at their step (:mod:`harmone_tui.actions`, ``ModelSlots.apply``).

A mixin of :class:`harmone_tui.runtime.Runtime`, kept apart so the runtime module holds the
step loop and this one what an adaptation request turns into.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harmone_tui.actions import ActionQueue, ReuseVersion, SwapRetrained, SwitchTo
from mape.effector import VersionInfo
from mape.events import Event, EventKind
from mape.plan import plan_untrainable

if TYPE_CHECKING:
    from engines.base import Engine, ModelSpec
    from harmone_tui.model_slots import ModelSlots
    from harmone_tui.trainer_pool import TrainerPool
    from mape.loop import MapeLoop
    from mape.policy import Policy


class RunEffector:
    """Effector methods over the runtime's action queue (see the module docstring)."""

    step: int
    run_id: int
    policy: Policy
    engine: Engine
    pool: TrainerPool
    loop: MapeLoop
    slots: ModelSlots
    actions: ActionQueue
    _specs: dict[str, ModelSpec]
    event: Callable[[EventKind, dict[str, Any]], Event]  # the runtime's: store and announce

    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        self.actions.add(SwitchTo(self.step, model, reason, detail))

    def reuse_version(self, model: str, version: int, reason: str, detail: dict[str, Any]) -> None:
        self.actions.add(ReuseVersion(self.step, model, version, reason, detail))

    def start_retrain(self, model: str, values: Any, reason: str, detail: dict[str, Any]) -> bool:
        if not self._specs[model].trainable:
            self._untrainable(model, reason, detail)
            return True
        if self.actions.retraining():
            return False
        data = self.engine.retraining_data(values)
        task = asyncio.get_running_loop().create_task(
            self.pool.train(
                self.engine,
                model,
                data,
                reason,
                self.run_id,
                seed=self.policy.seed,
                extra_meta={"origin": "retrain"},
            )
        )
        swap = self.step + self.policy.retrain.delay_steps
        self.actions.add(SwapRetrained(swap, model, task, reason))
        self.event(
            EventKind.RETRAIN_STARTED,
            {"model": model, "reason": reason, "swap_step": swap, **detail},
        )
        return True

    def _untrainable(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        """A retrain asked of a model without a trainer (an import, the persistence baseline):
        what the policy's ``retrain.untrainable`` says instead (mape.plan.plan_untrainable)."""
        trainable = [m for m in self.policy.models if self._specs[m].trainable]
        decision = plan_untrainable(
            model, self.policy.retrain.untrainable, trainable, self.loop.status().ema
        )
        full = {**detail, "asked": reason}
        if decision.action == "switch":
            self.switch_model(decision.model, decision.reason, full)
        else:
            self.event(
                EventKind.INFO,
                {"action": "retrain_skipped", "model": model, "reason": decision.reason, **full},
            )

    def record(self, kind: EventKind, detail: dict[str, Any]) -> None:
        self.event(kind, detail)

    def stored_versions(self, model: str) -> list[VersionInfo]:
        return self.slots.stored(model)
