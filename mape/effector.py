"""What the Execute phase may do to the managed system, and what it may read from knowledge.

The runtime implements :class:`Effector`; the MAPE loop calls it. Keeping the seam here means the
loop never touches processes, files or an ML framework, and tests can drive it with a recorder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engines.base import DataSummary
from mape.events import EventKind


@dataclass(frozen=True)
class VersionInfo:
    """A stored model version as the loop sees it: number and training-data summary."""

    model: str
    version: int
    summary: DataSummary | None
    reason: str


class Effector(Protocol):
    """Actions take effect at the next step; each one is recorded as an event with its reason."""

    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        """Run ``model`` (its current version) from the next step on."""
        ...

    def reuse_version(self, model: str, version: int, reason: str, detail: dict[str, Any]) -> None:
        """Load a stored version of ``model`` and run it from the next step on."""
        ...

    def start_retrain(
        self, model: str, values: Sequence[float], reason: str, detail: dict[str, Any]
    ) -> bool:
        """Retrain ``model`` on ``values`` in a worker; False if a retrain is already running."""
        ...

    def record(self, kind: EventKind, detail: dict[str, Any]) -> None:
        """Record an event (e.g. ``drift``, ``error``) at the current step."""
        ...

    def stored_versions(self, model: str) -> list[VersionInfo]:
        """Versions of ``model`` in the knowledge store, oldest first."""
        ...
