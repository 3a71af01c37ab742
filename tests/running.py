"""A run about to start, for tests: what ``Runtime.create`` will be called with, the runtime once
it exists (attributes are read through to it), and the summary of a start-up that ended early.

Tests set a run up, attach listeners and actions that name it, then start it inside one event
loop; the runtime itself only ever exists complete.
"""

from __future__ import annotations

from typing import Any

from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunListener
from mape.policy_schema import Policy


class NewRun(RunListener):
    def __init__(self, settings: RunSettings, policy: Policy, source: str, text: str) -> None:
        self.settings, self.policy, self.source, self.text = settings, policy, source, text
        self.listeners: list[RunListener] = [self]
        self.runtime: Runtime | None = None
        self.final_summary: dict[str, Any] | None = None

    def finished(self, summary: dict[str, Any]) -> None:
        self.final_summary = summary

    async def prepare(self) -> Runtime:
        """Create the runtime (start-up), listened to by ``listeners``."""
        self.runtime = await Runtime.create(
            self.settings, self.policy, self.source, self.text, self.listeners
        )
        return self.runtime

    async def run(self) -> dict[str, Any]:
        runtime = self.runtime if self.runtime is not None else await self.prepare()
        return await runtime.run()

    def __getattr__(self, name: str) -> Any:
        if self.runtime is None:
            raise AttributeError(f"{name}: the run has not started")
        return getattr(self.runtime, name)
