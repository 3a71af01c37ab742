"""Writing step rows on a thread and connection of their own.

Storing a step costs a few microseconds in SQLite, a sizeable share of a ~80 us linear predict.
A writer thread with its own connection takes that off the inference path: SQLite releases the
GIL while it works, so on a second core the write overlaps the next batch. WAL mode lets the
event writes on the main connection go on meanwhile (a busy timeout covers the short overlap).
Each batch is one transaction, so a crash loses at most the batches not yet committed.

Rows go in ``ROWS_PER_STATEMENT`` at a time, in one multi-row ``INSERT``: ``executemany`` with one
row per statement releases and retakes the GIL around every row's SQLite step, and each retake
waits for the inference thread to yield, which cost a fast-path run about 2.5 µs per step; per
100 rows it is one hand-over. A busy
store is retried and a failed write becomes a one-line KnowledgeError (:mod:`mape.store_write`),
raised on the event loop at the next ``write`` or at ``close``.
"""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any

from mape import store_write

ROWS_PER_STATEMENT = 100  # x 10 columns: well under SQLite's 32,766 parameters per statement


@cache
def insert_sql(rows: int) -> str:
    """``INSERT`` of ``rows`` rows of the ``steps`` table in one statement."""
    return "INSERT INTO steps VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?,?)"] * rows)


def insert_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (in the caller's transaction), ``ROWS_PER_STATEMENT`` per statement."""
    k = ROWS_PER_STATEMENT
    full = len(rows) // k * k
    if full:
        flat = chain.from_iterable
        conn.executemany(insert_sql(k), (tuple(flat(rows[i : i + k])) for i in range(0, full, k)))
    if full < len(rows):
        rest = rows[full:]
        conn.execute(insert_sql(len(rest)), tuple(chain.from_iterable(rest)))


class StepWriter:
    """Appends rows of the ``steps`` table (run_id first) in order, one transaction per batch."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="harmone-steps")
        self._conn: sqlite3.Connection | None = None
        self._pending: list[Future[None]] = []
        self._cpu_ns = 0  # the writer thread's CPU time in writes (the energy ledger's "store")

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """Queue one batch; an error of an earlier batch is raised here."""
        self._raise_finished_errors()
        self._pending.append(self._executor.submit(self._write, rows))

    def flush(self) -> None:
        """Wait until every queued batch is committed."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._executor.submit(self._disconnect).result()
            self._executor.shutdown(wait=True)

    def _raise_finished_errors(self) -> None:
        still = []
        for future in self._pending:
            if future.done():
                future.result()
            else:
                still.append(future)
        self._pending = still

    def cpu_s(self) -> float:
        """CPU-seconds the writer thread spent writing so far."""
        return self._cpu_ns / 1e9

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        started = time.thread_time_ns()
        try:
            store_write.write(self._path, lambda: self._insert(rows))
        finally:
            self._cpu_ns += time.thread_time_ns() - started

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout={store_write.ATTEMPT_TIMEOUT_MS}")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        conn = self._conn
        store_write.in_transaction(conn, lambda: insert_rows(conn, rows))

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
