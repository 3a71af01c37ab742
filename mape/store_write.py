"""Writing to the knowledge store: a busy store is retried, a write that cannot be done is one line.

Another process holding the store's write lock (a second run, a `sqlite3` shell left in a
transaction) used to surface after SQLite's 10 s busy timeout as a traceback from deep in the
run, with no summary and the run left ``running``. Here each attempt waits briefly in SQLite,
then the write is retried with a growing pause up to :data:`BUSY_WAIT_S` in all; past that, and
for a write that fails outright (a full disk, an I/O error), a :class:`KnowledgeError` says in one
line which file and why, so the run can end as ``failed`` and the front end print it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from harmone_common.errors import HarmoneError

T = TypeVar("T")

ATTEMPT_TIMEOUT_MS = 250  # SQLite's own busy wait per attempt (PRAGMA busy_timeout)
BUSY_WAIT_S = 10.0  # all attempts together
FIRST_PAUSE_S = 0.05
MAX_PAUSE_S = 1.0
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class KnowledgeError(HarmoneError):
    """The store cannot be opened or written; the message says what to do."""


def is_busy(exc: sqlite3.Error) -> bool:
    """True when another connection holds the lock (worth waiting for)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    text = str(exc)
    return "locked" in text or "busy" in text


def write(path: Path, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (one whole transaction) until it succeeds, retrying a busy store.

    Only ``sqlite3.OperationalError`` (locks, a full disk, I/O) and ``OSError`` become
    :class:`KnowledgeError`; an integrity or programming error is a bug and is raised as is.
    """
    deadline = time.monotonic() + BUSY_WAIT_S
    pause = FIRST_PAUSE_S
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            left = deadline - time.monotonic()
            if is_busy(exc) and left > 0:
                time.sleep(min(pause, left))
                pause = min(pause * 2, MAX_PAUSE_S)
                continue
            if is_busy(exc):
                raise KnowledgeError(
                    f"{path}: the knowledge store stayed locked by another process for"
                    f" {BUSY_WAIT_S:.0f} s ({exc}); close the other program or use --data-dir"
                ) from exc
            raise KnowledgeError(f"{path}: cannot write the knowledge store: {exc}") from exc
        except OSError as exc:
            raise KnowledgeError(
                f"{path}: cannot write the knowledge store: {exc.strerror or exc}"
            ) from exc


def in_transaction(
    conn: sqlite3.Connection, body: Callable[[], T], begin: str = "BEGIN IMMEDIATE"
) -> T:
    """``body`` in one transaction (taking the write lock at once): committed, or rolled back
    when it or the commit raises, so that the whole of it can be tried again."""
    conn.execute(begin)
    try:
        result = body()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may already have rolled back (a full disk)
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the error that made us roll back is the one to report
        raise
    return result
