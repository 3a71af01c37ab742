"""Which process owns a file in the data directory, and whether that process still exists.

Several harmone processes may share one data directory (a TUI and a `compare`, two terminals).
Whatever one of them writes before it is committed (a staging directory, a training lock) carries
its owner's tag: the pid *and* the process start time, because pids are reused and a pid alone
would make a new, unrelated process look like the owner. Clean-up removes only what belongs to
processes that are gone.

>>> tag = current_tag()
>>> parse_tag(tag) == (os.getpid(), _start_cs(os.getpid()))
True
>>> tag_alive(tag), tag_alive("999999999-1")
(True, False)
"""

from __future__ import annotations

import os
import re

import psutil

_TAG = re.compile(r"^(\d+)-(\d+)$")


def _start_cs(pid: int) -> int | None:
    """The process's start time in hundredths of a second since the epoch (None: no such pid)."""
    try:
        return int(round(psutil.Process(pid).create_time() * 100))
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        return -1


def current_tag() -> str:
    """``<pid>-<start time>`` of this process."""
    pid = os.getpid()
    return f"{pid}-{_start_cs(pid)}"


def parse_tag(tag: str) -> tuple[int, int] | None:
    """``(pid, start)`` of a tag, or None when ``tag`` is not one."""
    found = _TAG.match(tag)
    return (int(found.group(1)), int(found.group(2))) if found else None


def tag_alive(tag: str) -> bool:
    """True while the process the tag names runs (a zombie counts as gone)."""
    parsed = parse_tag(tag)
    if parsed is None:
        return False
    pid, started = parsed
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True
    now = _start_cs(pid)
    return now is not None and (now == -1 or abs(now - started) <= 1)
