"""A run's adaptation events: one enum of kinds, one event type, one kind→counter mapping.

The kinds are strings (a ``StrEnum``), so stored rows, JSON and exports keep the same words
(``"switch"``) while code names them once. Counters (``switches``, ``retrains``...) are always
counted from events with :func:`counts`, never kept apart: Harmonica's counters drifted.

>>> EventKind.SWITCH == "switch", f"{EventKind.RETRAIN_DONE}"
(True, 'retrain_done')
>>> counts(["switch", "drift", "switch", "info"])
{'switches': 2, 'retrains': 0, 'reuses': 0, 'drifts': 1, 'errors': 0}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What happened at a step of a run."""

    SWITCH = "switch"
    DRIFT = "drift"
    RETRAIN_STARTED = "retrain_started"
    RETRAIN_DONE = "retrain_done"
    REUSE = "reuse"
    KEEP = "keep"  # a drift whose data the running version was trained on: nothing to change
    POLICY_CHANGED = "policy_changed"
    ERROR = "error"
    INFO = "info"


@dataclass(frozen=True)
class Event:
    """One adaptation or notable fact of a run, as stored and as every front end gets it."""

    run_id: int
    step: int
    ts: float
    kind: EventKind
    detail: dict[str, Any]


COUNTERS: dict[EventKind, str] = {
    EventKind.SWITCH: "switches",
    EventKind.RETRAIN_DONE: "retrains",
    EventKind.REUSE: "reuses",
    EventKind.DRIFT: "drifts",
    EventKind.ERROR: "errors",
}
"""The run's counters (summary, `harmone runs`, the dashboard), each counted from one kind."""

ADAPTATIONS = ("switches", "retrains", "reuses", "drifts")
"""The counters that are adaptations (the dashboard's models panel shows these)."""


def counts(kinds: Iterable[str]) -> dict[str, int]:
    """Every counter of :data:`COUNTERS`, counted from event kinds (0 when none)."""
    out = dict.fromkeys(COUNTERS.values(), 0)
    for kind in kinds:
        name = COUNTERS.get(kind)  # type: ignore[call-overload]
        if name is not None:
            out[name] += 1
    return out
