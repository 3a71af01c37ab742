"""What makes a run's figures comparable with another's: its pace, mode, machine and energy source.

Energy per inference depends on the pace (a paced run leaves the CPU idle between batches and
its caches cold), on the front end sharing the process (the TUI draws on the same cores), on the
machine, and on how energy was measured (RAPL or a CPU-time estimate). A summary without them
cannot be compared with another, so every summary carries them (see :func:`context`).
"""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from typing import Any

from engines.energy_profile import machine as profile_machine

MODES = ("tui", "headless", "compare")


@lru_cache(maxsize=1)
def machine() -> dict[str, Any]:
    """The machine a run ran on: CPU model, logical cores (all, and those this process may use),
    operating system and Python."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        **profile_machine(),  # cpu_model and cores, as a calibration profile records them
        "cores_usable": usable,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def pace(speed_setting: float | None, speed_now: float | None, steps: int, wall_s: float) -> dict:
    """The pace asked for (steps/s, ``"max"``: unpaced) and achieved (steps over running time).

    >>> pace(None, None, 1000, 2.0)
    {'speed_setting': 'max', 'steps_per_s': 500.0}
    >>> pace(50.0, 100.0, 10, 0.0)
    {'speed_setting': 50.0, 'speed_at_end': 100.0, 'steps_per_s': None}
    """
    out: dict[str, Any] = {"speed_setting": "max" if speed_setting is None else speed_setting}
    if speed_now != speed_setting:  # changed while running (the TUI's + and -)
        out["speed_at_end"] = "max" if speed_now is None else speed_now
    out["steps_per_s"] = round(steps / wall_s, 3) if wall_s > 0 and steps else None
    return out


def context(
    mode: str,
    speed_setting: float | None,
    speed_now: float | None,
    steps: int,
    wall_s: float,
) -> dict[str, Any]:
    """The summary's comparability block (the energy source is beside it, ``energy_source``)."""
    return {
        "mode": mode,
        "pace": pace(speed_setting, speed_now, steps, wall_s),
        "machine": machine(),
    }


def describe(summary: dict[str, Any]) -> str | None:
    """One line of a summary's comparability fields (None for a summary from before them).

    >>> describe({"mode": "headless", "pace": {"speed_setting": "max", "steps_per_s": 51234.5},
    ...           "machine": {"cpu_model": "AMD EPYC", "cores": 2, "os": "Linux 6.1"}})
    'headless, unpaced (max), 51,234 steps/s achieved; AMD EPYC, 2 cores, Linux 6.1'
    >>> describe({"mode": "tui", "pace": {"speed_setting": 50.0, "speed_at_end": "max",
    ...           "steps_per_s": None}})
    'tui, paced at 50 steps/s (max at the end)'
    """
    mode, pace, box = summary.get("mode"), summary.get("pace"), summary.get("machine")
    if not (mode or pace or box):
        return None
    head = [mode] if mode else []
    if pace:
        speed = pace.get("speed_setting")
        text = "unpaced (max)" if speed == "max" else f"paced at {speed:g} steps/s"
        if "speed_at_end" in pace:
            end = pace["speed_at_end"]
            text += f" ({end if end == 'max' else f'{end:g} steps/s'} at the end)"
        if pace.get("steps_per_s"):
            text += f", {pace['steps_per_s']:,.0f} steps/s achieved"
        head.append(text)
    line = ", ".join(head)
    if box:
        line += f"; {box.get('cpu_model')}, {box.get('cores')} cores, {box.get('os')}"
    return line
