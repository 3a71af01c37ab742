"""What front ends may do to a running run: stop, pause, resume, pace, force a switch or a
retrain, apply an edited policy. Everything else they read from the run's snapshot.

A mixin of :class:`harmone_tui.runtime.Runtime`; these are the only runtime methods the TUI
and headless mode call while a run goes (docs/architecture.md lists the whole surface).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from harmone_tui.startup import history
from mape.events import Event, EventKind
from mape.policy import Policy, check_models
from mape.policy_file import key_locator

if TYPE_CHECKING:
    from engines.base import Engine, ModelSpec
    from harmone_tui.custom_mape import CustomMape
    from harmone_tui.pacing import Pacer
    from harmone_tui.run_end import Outcome
    from harmone_tui.settings import RunSettings
    from harmone_tui.telemetry import Telemetry
    from mape.knowledge import KnowledgeStore
    from mape.loop import MapeLoop


class RunControls:
    """Controls over the runtime's pacing, stop flag, queue and loop (see the module docstring)."""

    step: int
    run_id: int
    policy: Policy
    policy_text: str
    policy_source: str
    settings: RunSettings
    engine: Engine
    store: KnowledgeStore
    telemetry: Telemetry
    loop: MapeLoop
    pacer: Pacer
    outcome: Outcome
    custom: CustomMape | None
    active_model: str
    _stop: bool
    _running: asyncio.Event
    _specs: dict[str, ModelSpec]
    event: Callable[[EventKind, dict[str, Any]], Event]
    switch_model: Callable[[str, str, dict[str, Any]], None]
    start_retrain: Callable[[str, Any, str, dict[str, Any]], bool]
    _publish: Callable[[], None]

    def stop(self, reason: str | None = None) -> None:
        """End the run after the step in progress; ``reason`` (e.g. a signal's name) is kept in
        the summary."""
        self._stop = True
        self.outcome.stop_reason = self.outcome.stop_reason or reason
        self._running.set()
        self.pacer.wake()
        if self.custom is not None:
            self.custom.interrupt()  # a call into the user's code must not hold the stop

    def pause(self) -> None:
        self._running.clear()
        self.pacer.wake()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def speed(self) -> float | None:
        """Steps per second (None: as fast as it goes)."""
        return self.pacer.speed

    def set_speed(self, steps_per_s: float | None) -> None:
        """Pace at the new speed from this step on (see :mod:`harmone_tui.pacing`)."""
        self.pacer.set_speed(steps_per_s, self.step)

    def request_switch(self, model: str) -> None:
        self.switch_model(model, "forced by the user", {})

    def trainable(self, model: str) -> bool:
        """Whether ``model`` has a trainer (an import and the persistence baseline do not)."""
        return self._specs[model].trainable

    def request_retrain(self) -> bool:
        values = self.telemetry.held("truth")
        values = values[~np.isnan(values)][-self.policy.retrain.window :]
        return self.start_retrain(self.active_model, values.tolist(), "forced by the user", {})

    def apply_policy(self, policy: Policy, text: str, source: str) -> None:
        """Swap in a new policy; it takes effect at the next MAPE cycle."""
        check_models(policy, [m.name for m in self.engine.models()], source, key_locator(text))
        self.loop.apply_policy(policy)
        if self.custom is not None:
            self.custom.policy_changed(policy)
        self.telemetry.hold(history(policy, self.settings))
        self.policy, self.policy_text, self.policy_source = policy, text, source
        self.store.record_policy(self.run_id, self.step, policy.name, text)
        self.event(EventKind.POLICY_CHANGED, {"policy": policy.name, "source": source})
        self._publish()
