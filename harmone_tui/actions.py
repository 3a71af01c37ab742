"""Adaptations waiting to take effect at a given step: switch, reuse, swap in a retrained version.

The MAPE loop (through the runtime's Effector methods) and the user (forced actions) add them; the
runtime applies the due ones between inference batches, so every change lands exactly at a step.
Each applied action is recorded as one event with its reason; a no-op is not recorded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from harmone_tui.trainer_pool import TrainedVersion


class Runtime(Protocol):
    """What an action needs of the run it changes (``harmone_tui.runtime.Runtime`` is one).

    A protocol rather than an import, so that actions and the runtime do not import each other.
    """

    step: int
    active_model: str

    def current_version(self, model: str) -> int: ...

    async def activate(self, model: str, version: int) -> None: ...

    async def preload(self, model: str, version: int) -> None: ...

    def event(self, kind: str, detail: dict[str, Any]) -> Any: ...


class Action(Protocol):
    step: int

    async def apply(self, runtime: Runtime) -> None: ...


@dataclass
class SwitchTo:
    """Run another model (its current version) from ``step`` on."""

    step: int
    model: str
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    async def apply(self, runtime: Runtime) -> None:
        previous = runtime.active_model
        if self.model == previous:
            return
        await runtime.activate(self.model, runtime.current_version(self.model))
        runtime.event(
            "switch", {"from": previous, "to": self.model, "reason": self.reason, **self.detail}
        )


@dataclass
class ReuseVersion:
    """Run a stored version of a model from ``step`` on."""

    step: int
    model: str
    version: int
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    async def apply(self, runtime: Runtime) -> None:
        previous = (runtime.active_model, runtime.current_version(runtime.active_model))
        await runtime.activate(self.model, self.version)
        runtime.event(
            "reuse",
            {
                "model": self.model,
                "version": self.version,
                "from": f"{previous[0]} v{previous[1]}",
                "reason": self.reason,
                **self.detail,
            },
        )


@dataclass
class PendingRetrain:
    """A retrain running in the worker.

    Its version is swapped in at ``step`` (waiting if needed).
    """

    step: int
    model: str
    task: asyncio.Task[TrainedVersion]
    reason: str

    async def apply(self, runtime: Runtime) -> None:
        try:
            trained = await self.task
        except Exception as exc:  # a failed retrain must not stop the run
            runtime.event("error", {"action": "retrain", "model": self.model, "error": str(exc)})
            return
        stored = trained.stored
        if runtime.active_model == self.model:
            await runtime.activate(self.model, stored.version)
        else:
            await runtime.preload(self.model, stored.version)
        runtime.event(
            "retrain_done",
            {
                "model": self.model,
                "version": stored.version,
                "reason": self.reason,
                "train_cpu_s": round(trained.cpu_s, 3),
                "train_energy_j": round(trained.energy_j, 3),
                "validation_r2": stored.meta.get("validation_r2"),
                "persistence_validation_r2": stored.meta.get("persistence_validation_r2"),
                "rows": stored.meta.get("train_rows"),
            },
        )


class ActionQueue:
    """Pending actions ordered by the step they take effect at."""

    def __init__(self) -> None:
        self._pending: list[Action] = []

    def add(self, action: Action) -> None:
        self._pending.append(action)

    def switch(self, runtime: Runtime, model: str, reason: str, detail: dict[str, Any]) -> None:
        self.add(SwitchTo(runtime.step, model, reason, detail))

    def reuse(
        self, runtime: Runtime, model: str, version: int, reason: str, detail: dict[str, Any]
    ) -> None:
        self.add(ReuseVersion(runtime.step, model, version, reason, detail))

    def retraining(self) -> bool:
        return any(isinstance(a, PendingRetrain) for a in self._pending)

    def next_step(self, default: int) -> int:
        """The first step at which an action is waiting (``default`` if none)."""
        return min((a.step for a in self._pending), default=default)

    def due(self, step: int) -> list[Action]:
        ready = [a for a in self._pending if a.step <= step]
        self._pending = [a for a in self._pending if a.step > step]
        return ready

    def cancel_all(self) -> None:
        for action in self._pending:
            if isinstance(action, PendingRetrain):
                action.task.cancel()
        self._pending = []
