"""How figures, times and adaptation events read on screen (pure; no Textual).

Harmonica showed raw epoch numbers and bare event codes; here every time is local wall-clock time.
Events and figures read the same in every front end: :mod:`harmone_tui.event_text` words them.

>>> duration(185), energy_source("estimated")
('3m05s', 'est.')
"""

from __future__ import annotations

from datetime import datetime

from harmone_tui.event_text import DASH, describe, number

__all__ = ["KIND_LABELS", "describe", "duration", "energy_source", "local_time", "number"]

KIND_LABELS = {
    "switch": "switch",
    "drift": "drift",
    "retrain_started": "retrain…",
    "retrain_done": "retrained",
    "reuse": "reuse",
    "keep": "kept",
    "policy_changed": "policy",
    "error": "error",
    "info": "info",
}


def local_time(ts: float | None, date: bool = False) -> str:
    """Local wall-clock time of an epoch timestamp (date too when asked)."""
    if ts is None:
        return DASH
    moment = datetime.fromtimestamp(ts)
    return moment.strftime("%Y-%m-%d %H:%M" if date else "%H:%M:%S")


def duration(seconds: float | None) -> str:
    """``1h02m``, ``3m05s`` or ``4.2s``."""
    if seconds is None:
        return DASH
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def energy_source(source: str) -> str:
    """``RAPL`` for measured joules, ``est.`` for CPU-time estimates."""
    return {"rapl": "RAPL", "estimated": "est."}.get(source, source)
