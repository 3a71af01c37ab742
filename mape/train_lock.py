"""One process at a time trains a model's first version in a data directory.

Two runs started on a fresh data directory both find no version of the LSTM; without a lock both
train it (minutes of CPU each) and the store ends with two "first" versions. The lock is a file
per model (``models/<engine>/<model>/.first-use.lock``) held with ``flock``: the kernel releases
it when its holder dies (kill -9, OOM), so a stale lock is taken over at once, with no guessing
from pids. The holder writes its tag (:mod:`mape.owner`) and start time into the file, so a
waiting process can say whom it waits for. The file itself is never deleted (deleting a locked
file would let two processes each lock a different file).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from mape import owner

LOCK_NAME = ".first-use.lock"


class TrainingLock:
    """An exclusive, non-blocking, process-wide lock on one model's first-use training."""

    def __init__(self, model_dir: Path) -> None:
        self.path = model_dir / LOCK_NAME
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process now holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{owner.current_tag()} {time.time():.0f}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds the lock, as text for a progress line ("pid 123, for 40 s")."""
        try:
            tag, since = self.path.read_text().split()
            pid = tag.split("-")[0]
            return f"pid {pid}, for {time.time() - float(since):.0f} s"
        except (OSError, ValueError):
            return "another process"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
