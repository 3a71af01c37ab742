"""Whether the process that started a run is still alive (a run left "running" by a process that
is gone is shown and stored as ``interrupted``)."""

from __future__ import annotations


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), None if there is none or it is unknown."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:  # access denied: it exists, its start time is unknown
        return 0.0


def run_alive(pid: int | None, started: float | None) -> bool:
    """True while the process that started a run still exists (not a later one with its pid)."""
    if not pid:
        return False
    now_started = process_started(pid)
    if now_started is None:
        return False
    return started is None or now_started == 0.0 or abs(now_started - started) < 1.0
