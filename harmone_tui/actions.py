"""Adaptations waiting to take effect at a given step, as plain data: switch, reuse a stored
version, swap in a retrained one.

The MAPE loop (through the runtime's Effector methods) and the user (forced actions) add them;
the runtime applies the due ones between inference batches, all in one place
(``Runtime._apply``), so every change lands exactly at a step. Nothing here knows the runtime:
an action is what should happen, never how. Each applied action is recorded as one event with
its reason; a no-op is not recorded.

>>> queue = ActionQueue()
>>> queue.add(SwitchTo(40, "lstm", "EMA 0.71 < min 0.78"))
>>> queue.add(ReuseVersion(10, "linear", 2, "closest data"))
>>> queue.describe(), queue.next_step(100)
(('step 10: reuse linear v2', 'step 40: switch to lstm'), 10)
>>> [type(a).__name__ for a in queue.due(10)], queue.next_step(100)
(['ReuseVersion'], 40)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harmone_tui.trainer_pool import TrainedVersion


@dataclass(frozen=True)
class SwitchTo:
    """Run another model (its current version) from ``step`` on."""

    step: int
    model: str
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReuseVersion:
    """Run a stored version of a model from ``step`` on."""

    step: int
    model: str
    version: int
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SwapRetrained:
    """A retrain running in the worker; its version is swapped in at ``step`` (waiting if
    needed)."""

    step: int
    model: str
    task: asyncio.Task[TrainedVersion] = field(repr=False)
    reason: str


Action = SwitchTo | ReuseVersion | SwapRetrained


def describe(action: Action) -> str:
    """An action as words (the read model's pending actions)."""
    if isinstance(action, SwitchTo):
        what = f"switch to {action.model}"
    elif isinstance(action, ReuseVersion):
        what = f"reuse {action.model} v{action.version}"
    else:
        what = f"swap in retrained {action.model}"
    return f"step {action.step:,}: {what}"


class ActionQueue:
    """Pending actions ordered by the step they take effect at."""

    def __init__(self) -> None:
        self._pending: list[Action] = []

    def add(self, action: Action) -> None:
        self._pending.append(action)

    def retraining(self) -> str | None:
        """The model a retrain is running for (None: no retrain is)."""
        return next((a.model for a in self._pending if isinstance(a, SwapRetrained)), None)

    def describe(self) -> tuple[str, ...]:
        """The waiting actions as words, first due first."""
        return tuple(describe(a) for a in sorted(self._pending, key=lambda a: a.step))

    def next_step(self, default: int) -> int:
        """The first step at which an action is waiting (``default`` if none)."""
        return min((a.step for a in self._pending), default=default)

    def due(self, step: int) -> list[Action]:
        """Take the actions due at ``step`` (in the order they were added)."""
        ready = [a for a in self._pending if a.step <= step]
        self._pending = [a for a in self._pending if a.step > step]
        return ready

    def cancel_all(self) -> None:
        for action in self._pending:
            if isinstance(action, SwapRetrained):
                action.task.cancel()
        self._pending = []
